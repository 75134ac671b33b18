"""``todm data synth``: a speech corpus from real synthesizers, offline and deterministic.

Every choice (sentences, voice, rate, pitch, noise, reverberation) is drawn up front from
one seeded generator, so the same seed gives the same corpus, byte for byte; workers only
render. Re-running skips the audio files that already exist (each is written under a
temporary name and renamed), so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from todm import __version__
from todm.bundle import atomic_write_text
from todm.data import degrade
from todm.data.audio import TARGET_SAMPLE_RATE, load_audio, write_wav
from todm.data.domains import DOMAINS, domain_sentences
from todm.data.manifest import Utterance, read_manifest, write_manifest
from todm.data.voices import Voice, all_voices, random_prosody, synthesize
from todm.errors import ConfigError

SPLITS = ("train", "dev", "test", "test-unseen-voice")
# Measured speaking rate of the voices (mean over the fortunes corpus), used only to size
# a corpus given in hours; the summary reports the real duration.
SECONDS_PER_WORD = 0.29
SECONDS_OVERHEAD = 0.3
# Fingerprint of the planned utterances: resuming is only safe into the same plan.
PLAN_FILE = "synth-plan.json"


@dataclass
class SynthConfig:
    """How to build a synthetic corpus (every field is a `todm data synth` flag)."""

    out_dir: Path
    domain: str = "open"
    text_file: Path | None = None
    hours: float | None = None
    num_utts: int | None = None
    min_words: int = 4
    max_words: int = 20
    seed: int = 0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    heldout_accents: tuple[str, ...] = ("en-029",)  # test-unseen-voice only
    heldout_flite: tuple[str, ...] = ("awb",)
    voices: tuple[str, ...] | None = None  # restrict to these voice ids (tests, demos)
    dev_fraction: float = 0.05
    test_fraction: float = 0.05
    unseen_fraction: float = 0.05
    # Sentences of these manifests are never drawn: a further test set for a model keeps
    # its words-in-context unseen (open vocabulary), as the corpus's own splits do.
    exclude_manifests: tuple[Path, ...] = ()
    noise_prob: float = 0.0
    noise_snrs: tuple[float, ...] = (5.0, 10.0, 20.0)
    noise_dir: Path | None = None
    reverb_prob: float = 0.0
    quiet: bool = False

    def validate(self) -> None:
        errors = []
        if self.domain not in DOMAINS:
            errors.append(f"domain: {self.domain!r} is not one of {DOMAINS}")
        if (self.hours is None) == (self.num_utts is None):
            errors.append("size: give exactly one of --hours or --num-utts")
        if self.hours is not None and self.hours <= 0:
            errors.append(f"hours: must be > 0, got {self.hours}")
        if self.num_utts is not None and self.num_utts < 4:
            errors.append(f"num_utts: at least 4 (one per split), got {self.num_utts}")
        if not 1 <= self.min_words <= self.max_words:
            errors.append(f"min_words/max_words: need 1 <= {self.min_words} <= {self.max_words}")
        for name in ("dev_fraction", "test_fraction", "unseen_fraction", "noise_prob", "reverb_prob"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                errors.append(f"{name}: must be in [0, 1), got {v}")
        if self.workers < 1:
            errors.append(f"workers: must be >= 1, got {self.workers}")
        if self.text_file is not None and not Path(self.text_file).is_file():
            errors.append(f"text_file: {self.text_file} not found")
        if self.text_file is not None and self.domain != "open":
            errors.append(f"text_file: only the open domain reads text, not {self.domain!r}")
        if self.voices is not None:
            known = {v.id for v in all_voices()}
            unknown = [v for v in self.voices if v not in known]
            if unknown:
                errors.append(
                    f"voices: unknown {', '.join(unknown)} (see `todm data voices`)"
                )
        for m in self.exclude_manifests:
            if not Path(m).is_file():
                errors.append(f"exclude_manifests: {m} not found")
        if self.dev_fraction + self.test_fraction + self.unseen_fraction >= 1:
            errors.append("dev_fraction + test_fraction + unseen_fraction: must leave some for train (< 1)")
        if self.noise_dir is not None and not Path(self.noise_dir).is_dir():
            errors.append(f"noise_dir: {self.noise_dir} is not a directory")
        if errors:
            raise ConfigError("invalid synthesis settings:\n  " + "\n  ".join(errors))


@dataclass(frozen=True)
class Job:
    """Everything needed to render one utterance, decided before any audio is made."""

    id: str
    split: str
    text: str
    voice: str
    rate: float
    pitch: float
    seed: int
    noise: dict[str, Any] | None
    reverb_rt60: float | None

    def path(self, out_dir: Path) -> Path:
        return out_dir / "audio" / self.split / f"{self.id}.wav"


def _voice_pools(cfg: SynthConfig) -> tuple[list[Voice], list[Voice]]:
    voices = all_voices()
    if cfg.voices is not None:
        wanted = {Voice.from_id(v) for v in cfg.voices}
        voices = [v for v in voices if v in wanted]
    held = [
        v for v in voices
        if (v.engine == "espeak-ng" and v.accent in cfg.heldout_accents)
        or (v.engine == "flite" and v.name in cfg.heldout_flite)
    ]  # fmt: skip
    seen = [v for v in voices if v not in held]
    if not seen or not held:
        raise ConfigError(
            "voices: need at least one training voice and one held-out voice "
            f"(held-out accents {cfg.heldout_accents}, flite {cfg.heldout_flite})"
        )
    return seen, held


def plan_jobs(cfg: SynthConfig, noise_files: list[Path]) -> list[Job]:
    """Decide every utterance of the corpus (deterministic in ``cfg.seed``)."""
    rng = np.random.default_rng(cfg.seed)
    exclude = {u.text for m in cfg.exclude_manifests for u in read_manifest(m)}
    if cfg.num_utts is not None:
        total = cfg.num_utts
        sentences = domain_sentences(
            cfg.domain, total, rng, cfg.text_file, cfg.min_words, cfg.max_words, exclude
        )
    else:
        # Draw more sentences than needed, then keep them until their estimated
        # duration reaches the target.
        upper = max(4, int(cfg.hours * 3600 / (SECONDS_OVERHEAD + SECONDS_PER_WORD)))
        pool = domain_sentences(cfg.domain, upper, rng, cfg.text_file, cfg.min_words, cfg.max_words, exclude)
        target, acc, sentences = cfg.hours * 3600, 0.0, []
        for sent in pool:
            if acc >= target:
                break
            sentences.append(sent)
            acc += SECONDS_OVERHEAD + SECONDS_PER_WORD * len(sent.split())
        total = max(4, len(sentences))
    if len(sentences) < total:
        print(
            f"todm data synth: only {len(sentences)} distinct sentences available; "
            f"making {len(sentences)} utterances instead of {total}",
            file=sys.stderr,
        )
        total = len(sentences)
    n_dev = max(1, int(total * cfg.dev_fraction))
    n_test = max(1, int(total * cfg.test_fraction))
    n_unseen = max(1, int(total * cfg.unseen_fraction))
    n_train = total - n_dev - n_test - n_unseen
    if n_train < 1:
        raise ConfigError(f"num_utts: {total} utterances leave none for train")
    counts = {"train": n_train, "dev": n_dev, "test": n_test, "test-unseen-voice": n_unseen}
    seen, held = _voice_pools(cfg)
    jobs: list[Job] = []
    pos = 0
    for split in SPLITS:
        pool = held if split == "test-unseen-voice" else seen
        for i in range(counts[split]):
            voice = pool[int(rng.integers(len(pool)))]
            prosody = random_prosody(voice, rng)
            noise = None
            if rng.random() < cfg.noise_prob:
                snr = float(cfg.noise_snrs[int(rng.integers(len(cfg.noise_snrs)))])
                if noise_files:
                    noise = {"file": str(noise_files[int(rng.integers(len(noise_files)))]), "snr": snr}
                else:
                    kind = degrade.NOISE_KINDS[int(rng.integers(len(degrade.NOISE_KINDS)))]
                    noise = {"kind": kind, "snr": snr}
            rt60 = round(float(rng.uniform(0.2, 0.8)), 3) if rng.random() < cfg.reverb_prob else None
            jobs.append(
                Job(
                    id=f"{split}-{i:06d}",
                    split=split,
                    text=sentences[pos],
                    voice=voice.id,
                    rate=prosody["rate"],
                    pitch=prosody["pitch"],
                    seed=int(rng.integers(2**31)),
                    noise=noise,
                    reverb_rt60=rt60,
                )
            )
            pos += 1
    return jobs


def render(job: Job, out_dir: Path) -> tuple[str, int]:
    """Synthesize one utterance to its wav file (skipped if it exists). Returns (id, samples)."""
    path = job.path(out_dir)
    if path.exists():
        import soundfile as sf

        return job.id, sf.info(str(path)).frames
    audio = synthesize(Voice.from_id(job.voice), job.text, job.rate, job.pitch)
    rng = np.random.default_rng(job.seed)
    if job.reverb_rt60 is not None:
        audio = degrade.reverberate(audio, degrade.synthetic_rir(job.reverb_rt60, TARGET_SAMPLE_RATE, rng))
    if job.noise is not None:
        if "file" in job.noise:
            noise = load_audio(job.noise["file"])
        else:
            noise = degrade.colored_noise(job.noise["kind"], len(audio), rng)
        audio = degrade.add_noise(audio, noise, job.noise["snr"])
    # Leave headroom: noise and reverberation can push synthetic speech past full scale.
    peak = float(np.max(np.abs(audio)))
    if peak > 0.95:
        audio = audio * (0.95 / peak)
    write_wav(path, audio, TARGET_SAMPLE_RATE)
    return job.id, len(audio)


def _render_star(args: tuple[Job, Path]) -> tuple[str, int]:
    return render(*args)


def _claim_directory(out_dir: Path, jobs: list[Job]) -> None:
    """Record the plan in ``out_dir``; refuse to resume into a corpus of another plan.

    Skipping existing files is only correct if they were rendered from the same jobs: a
    different seed or size in the same directory would otherwise pair old audio with
    new texts.
    """
    digest = hashlib.sha256(
        json.dumps([asdict(j) for j in jobs], sort_keys=True).encode()
    ).hexdigest()
    marker = out_dir / PLAN_FILE
    if marker.is_file():
        try:
            old = json.loads(marker.read_text()).get("plan_sha256")
        except (json.JSONDecodeError, AttributeError):
            old = None
        if old != digest:
            raise ConfigError(
                f"{out_dir}: holds a corpus synthesized with other settings ({marker} "
                "differs); use another --out directory or delete this one"
            )
        return
    if (out_dir / "audio").is_dir() and any((out_dir / "audio").glob("*/[!.]*.wav")):
        raise ConfigError(
            f"{out_dir}: holds audio but no {PLAN_FILE}; use another --out directory or "
            "delete this one"
        )
    atomic_write_text(
        marker, json.dumps({"plan_sha256": digest, "utterances": len(jobs)}, indent=2) + "\n"
    )


def _jsonable(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, (tuple, list)):
        return [_jsonable(x) for x in v]
    return v


def synthesize_corpus(cfg: SynthConfig) -> dict[str, Any]:
    """Build (or finish) the corpus in ``cfg.out_dir``; returns the summary (also corpus.json)."""
    cfg.validate()
    out_dir = Path(cfg.out_dir).absolute()
    noise_files = degrade.list_noise_files(cfg.noise_dir) if cfg.noise_dir else []
    if cfg.noise_dir and not noise_files:
        raise ConfigError(f"noise_dir: {cfg.noise_dir} holds no .wav, .flac or .ogg files")
    jobs = plan_jobs(cfg, noise_files)
    _claim_directory(out_dir, jobs)
    # A killed run can leave the temporary files of wavs it was writing; they are redone.
    for stale in (out_dir / "audio").glob("*/.*.wav"):
        stale.unlink(missing_ok=True)
    start = time.perf_counter()
    samples: dict[str, int] = {}
    todo = [(j, out_dir) for j in jobs]
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="synth", unit="utt", disable=cfg.quiet, file=sys.stderr)
    if cfg.workers == 1:
        for args in todo:
            k, n = _render_star(args)
            samples[k] = n
            bar.update()
    else:
        # fork keeps start-up cheap; the workers only call subprocesses and numpy.
        with mp.get_context("fork").Pool(cfg.workers) as pool:
            for k, n in pool.imap_unordered(_render_star, todo, chunksize=8):
                samples[k] = n
                bar.update()
    bar.close()
    elapsed = time.perf_counter() - start
    summary: dict[str, Any] = {
        "todm_version": __version__,
        "domain": cfg.domain,
        "seed": cfg.seed,
        "command": _command_line(),
        "config": {k: _jsonable(v) for k, v in asdict(cfg).items()},
        "render_seconds": round(elapsed, 2),
        "splits": {},
    }
    for split in SPLITS:
        utts = [
            Utterance(
                id=j.id,
                audio=str(j.path(out_dir)),
                text=j.text,
                duration=round(samples[j.id] / TARGET_SAMPLE_RATE, 4),
                speaker=j.voice,
                sampling_rate=TARGET_SAMPLE_RATE,
                custom={"voice": j.voice, "rate": j.rate, "pitch": j.pitch}
                | ({"noise": j.noise} if j.noise else {})
                | ({"reverb_rt60": j.reverb_rt60} if j.reverb_rt60 else {}),
            )
            for j in jobs
            if j.split == split
        ]
        write_manifest(out_dir / f"{split}.jsonl", utts)
        summary["splits"][split] = {
            "utterances": len(utts),
            "hours": round(sum(u.duration for u in utts) / 3600, 4),
            "voices": sorted({u.speaker for u in utts}),
        }
    total_hours = sum(s["hours"] for s in summary["splits"].values())
    summary["hours"] = round(total_hours, 4)
    summary["utterances"] = len(jobs)
    atomic_write_text(out_dir / "corpus.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _command_line() -> str | None:
    """``todm ...`` as typed, when the corpus is made from the command line."""
    if sys.argv and "todm" in sys.argv[0]:
        import shlex

        return "todm " + shlex.join(sys.argv[1:])
    return None


def format_summary(summary: dict[str, Any], out_dir: Path) -> str:
    lines = [
        f"corpus {out_dir}  domain={summary['domain']} seed={summary['seed']}  "
        f"{summary['utterances']} utterances, {summary['hours']:.3f} h "
        f"(rendered in {summary['render_seconds']:.1f} s)",
        f"{'split':<18} {'utts':>7} {'hours':>8} {'voices':>7}",
    ]
    for split, s in summary["splits"].items():
        lines.append(f"{split:<18} {s['utterances']:>7} {s['hours']:>8.3f} {len(s['voices']):>7}")
    return "\n".join(lines)
