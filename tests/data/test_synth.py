"""Corpus synthesis with the real espeak-ng and flite."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from todm.data.manifest import read_manifest
from todm.data.synth import SynthConfig, synthesize_corpus
from todm.data.voices import Voice, synthesize
from todm.errors import ConfigError

VOICES = ("espeak-ng:en-us+m3", "espeak-ng:en-gb+f2", "flite:kal16", "flite:slt",
          "espeak-ng:en-029+m1", "flite:awb")  # fmt: skip


def _cfg(out: Path, **kw) -> SynthConfig:
    base = dict(out_dir=out, domain="open", num_utts=12, seed=3, voices=VOICES, workers=2,
                dev_fraction=0.2, test_fraction=0.2, unseen_fraction=0.2, quiet=True)  # fmt: skip
    base.update(kw)
    return SynthConfig(**base)


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*.wav"))}


@pytest.mark.parametrize("voice", ["espeak-ng:en-gb-scotland+f3", "flite:rms"])
def test_each_engine_speaks_16k_mono(voice: str) -> None:
    audio = synthesize(Voice.from_id(voice), "the quick brown fox", rate=1.0 if "flite" in voice else 170, pitch=110 if "flite" in voice else 50)
    assert audio.ndim == 1 and audio.dtype.name == "float32"
    assert 0.5 < len(audio) / 16000 < 4.0
    assert 0.05 < abs(audio).max() <= 1.0


def test_corpus_splits_voices_and_determinism(tmp_path: Path) -> None:
    a = synthesize_corpus(_cfg(tmp_path / "a"))
    b = synthesize_corpus(_cfg(tmp_path / "b", workers=1))
    # Same seed, same bytes, whatever the number of workers.
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert (tmp_path / "a" / "train.jsonl").read_text() == (tmp_path / "b" / "train.jsonl").read_text().replace("/b/", "/a/")
    splits = {s: read_manifest(tmp_path / "a" / f"{s}.jsonl") for s in a["splits"]}
    texts = {s: {u.text for u in us} for s, us in splits.items()}
    names = list(texts)
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            assert not texts[x] & texts[y], f"{x} and {y} share sentences"
    train_voices = {u.voice for u in splits["train"]}
    unseen_voices = {u.voice for u in splits["test-unseen-voice"]}
    assert unseen_voices and not unseen_voices & train_voices
    assert unseen_voices <= {"espeak-ng:en-029+m1", "flite:awb"}
    for u in splits["train"]:
        assert Path(u.audio).is_file() and u.duration > 0.3 and u.text == u.text.lower()
        assert {"voice", "rate", "pitch"} <= set(u.custom)
    c = synthesize_corpus(_cfg(tmp_path / "c", seed=4))
    assert c["splits"]["train"] != a["splits"]["train"] or _digest(tmp_path / "c") != _digest(tmp_path / "a")
    assert b["utterances"] == 12


def test_rerun_resumes_and_keeps_existing_files(tmp_path: Path) -> None:
    synthesize_corpus(_cfg(tmp_path, num_utts=8, domain="digits"))
    wavs = sorted(tmp_path.rglob("*.wav"))
    removed = wavs[2]
    removed.unlink()
    kept = wavs[0]
    before = kept.stat().st_mtime_ns
    synthesize_corpus(_cfg(tmp_path, num_utts=8, domain="digits"))
    assert removed.is_file(), "the missing file is made again"
    assert kept.stat().st_mtime_ns == before, "existing files are not rewritten"
    summary = json.loads((tmp_path / "corpus.json").read_text())
    assert summary["utterances"] == 8 and summary["domain"] == "digits"


def test_resuming_into_another_plan_is_refused(tmp_path: Path) -> None:
    synthesize_corpus(_cfg(tmp_path, num_utts=8, domain="digits"))
    with pytest.raises(ConfigError, match="other settings"):
        synthesize_corpus(_cfg(tmp_path, num_utts=8, domain="digits", seed=4))


def test_noise_and_reverb_are_recorded(tmp_path: Path) -> None:
    synthesize_corpus(_cfg(tmp_path, num_utts=8, domain="commands", noise_prob=0.99, reverb_prob=0.99))
    utts = read_manifest(tmp_path / "train.jsonl")
    assert all("noise" in u.custom and "reverb_rt60" in u.custom for u in utts)
    assert all(u.custom["noise"]["snr"] in (5.0, 10.0, 20.0) for u in utts)


def test_noise_from_a_folder_of_recordings(tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    from todm.data import degrade

    noise_dir = tmp_path / "noises"
    noise_dir.mkdir()
    hum = degrade.colored_noise("brown", 8000, np.random.default_rng(0)) * 0.1
    sf.write(noise_dir / "hum.flac", hum, 8000)  # another rate: resampled when mixed
    synthesize_corpus(_cfg(tmp_path / "c", num_utts=8, domain="digits", noise_prob=0.99,
                           noise_snrs=(0.0,), noise_dir=noise_dir))  # fmt: skip
    utts = read_manifest(tmp_path / "c" / "train.jsonl")
    assert all(u.custom["noise"] == {"file": str(noise_dir / "hum.flac"), "snr": 0.0} for u in utts)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no .wav"):
        synthesize_corpus(_cfg(tmp_path / "d", noise_prob=0.5, noise_dir=tmp_path / "empty"))


def test_bad_settings_are_all_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        synthesize_corpus(_cfg(tmp_path, domain="klingon", num_utts=2, noise_prob=2.0))
    msg = str(e.value)
    assert "domain" in msg and "num_utts" in msg and "noise_prob" in msg


def test_a_killed_run_resumes_to_the_same_corpus(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    args = ["data", "synth", "--domain", "digits", "--num-utts", "60", "--seed", "5",
            "--workers", "1", "--quiet", "--voices", *VOICES]  # fmt: skip
    todm = str(Path(sys.executable).parent / "todm")
    proc = subprocess.Popen([todm, *args, "--out", str(tmp_path / "killed")], start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list((tmp_path / "killed").rglob("[!.]*.wav"))) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    made = len(list((tmp_path / "killed").rglob("[!.]*.wav")))
    # Killed within ~20 ms of the 10th file; the other 50 take over a second to render.
    assert 10 <= made < 60 and not (tmp_path / "killed" / "corpus.json").exists()
    subprocess.run([todm, *args, "--out", str(tmp_path / "killed")], check=True, capture_output=True)
    subprocess.run([todm, *args, "--out", str(tmp_path / "clean")], check=True, capture_output=True)
    assert _digest(tmp_path / "killed") == _digest(tmp_path / "clean")
    assert len(_digest(tmp_path / "clean")) == 60
    assert not list((tmp_path / "killed").rglob(".*.wav")), "no temporary files left"


def test_a_further_test_set_avoids_the_sentences_of_another_corpus(tmp_path: Path) -> None:
    """A larger test set for a trained model: other sentences, mostly test splits."""
    synthesize_corpus(_cfg(tmp_path / "a", num_utts=8, workers=1))
    manifests = tuple(tmp_path / "a" / f"{s}.jsonl" for s in ("train", "test"))
    # the same seed without exclusion would draw the very same sentences
    cfg = _cfg(tmp_path / "b", num_utts=8, workers=1, exclude_manifests=manifests,
               dev_fraction=0.0, test_fraction=0.45, unseen_fraction=0.4)  # fmt: skip
    b = synthesize_corpus(cfg)
    assert {s: v["utterances"] for s, v in b["splits"].items()} == {"train": 1, "dev": 1, "test": 3, "test-unseen-voice": 3}
    excluded = {u.text for m in manifests for u in read_manifest(m)}
    new = {u.text for s in b["splits"] for u in read_manifest(tmp_path / "b" / f"{s}.jsonl")}
    assert len(new) == 8 and not new & excluded
    with pytest.raises(ConfigError, match="missing.jsonl not found"):
        synthesize_corpus(_cfg(tmp_path / "c", exclude_manifests=(tmp_path / "missing.jsonl",)))
    with pytest.raises(ConfigError, match="must leave some for train"):
        synthesize_corpus(_cfg(tmp_path / "c", test_fraction=0.5, unseen_fraction=0.5))
