"""Parity of an exported bundle with eager PyTorch: output values and transcripts.

Values: every chunk of a few real utterances goes through both the exported encoder
(and CTC) graphs and ``StaticModel.encode_chunk``; the decoder and joiner are compared on
the inputs greedy search actually feeds them. Transcripts: the runtime's recognizer on
the bundle against eager greedy search, word for word.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from todm.errors import BundleError

# Largest tolerated |exported - eager| per output and precision. fp32 graphs differ from
# eager only by kernel summation order (~1e-6 measured); int8 weights move the tiny
# model's log-probs by up to ~0.6 (onnxruntime, d_model 64), so int8 only guards against
# a broken quantization (errors of 10+), and its word agreement is reported, not required.
TOLERANCES = {"fp32": 1e-4, "int8": 2.0}


@dataclass
class ParityReport:
    """Outcome of ``check_parity``: worst |diff| per output, word agreement, verdict."""

    precision: str
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    utterances: int = 0
    words: int = 0
    word_mismatches: int = 0
    examples: list[dict[str, str]] = field(default_factory=list)
    passed: bool = True
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def read_parity_audio(manifest: Path, limit: int = 8) -> list[tuple[str, np.ndarray]]:
    """The first ``limit`` utterances of a JSONL manifest as [(text, samples at 16 kHz)]."""
    from todm.data.audio import load_audio
    from todm.data.manifest import read_manifest

    utts = read_manifest(manifest)[:limit]
    if not utts:
        raise BundleError(f"{manifest}: parity manifest holds no utterances")
    return [(u.text, load_audio(u.audio)) for u in utts]


def _chunks(feats: np.ndarray, meta) -> list[np.ndarray]:
    """The fbank chunks the runtime feeds, zero-padded past the end (see static.py)."""
    receptive = meta.chunk_input_frames - meta.subsampling * (meta.chunk_frames - 1)
    t_out = max((len(feats) - receptive) // meta.subsampling + 1, 0)
    n = -(-t_out // meta.chunk_frames)
    out = []
    for k in range(n):
        x = np.zeros((1, meta.chunk_input_frames, feats.shape[1]), dtype=np.float32)
        seg = feats[k * meta.chunk_shift_frames : k * meta.chunk_shift_frames + meta.chunk_input_frames]
        x[0, : len(seg)] = seg
        out.append(x)
    return out


@torch.no_grad()
def check_parity(model, bundle_dir: Path, audio: list[tuple[str, np.ndarray]], precision: str) -> ParityReport:
    """Compare a written bundle with ``model`` on ``audio`` ([(text, samples)])."""
    from todm.bundle import load_bundle
    from todm.data.fbank import compute_fbank
    from todm.runtime.backends import open_graph
    from todm.runtime.recognizer import Recognizer
    from todm.supernet.decode import greedy_search

    bundle = load_bundle(bundle_dir)
    meta = bundle.meta
    rep = ParityReport(precision=precision)
    graphs = {n: open_graph(bundle, n) for n in ("encoder", "ctc", "decoder", "joiner") if n in bundle.graphs}
    diffs: dict[str, float] = {}

    def note(name: str, a: np.ndarray, b: torch.Tensor) -> None:
        diffs[name] = max(diffs.get(name, 0.0), float(np.abs(a - b.numpy()).max()))

    rec = Recognizer(bundle, "greedy")
    for text, samples in audio:
        feats = compute_fbank(samples, meta.features)
        caches_np = [np.zeros(c.shape, dtype=c.dtype) for c in bundle.caches]
        caches_pt = [torch.from_numpy(c.copy()) for c in caches_np]
        caches_ctc = [c.copy() for c in caches_np]
        for x in _chunks(feats, meta):
            out = graphs["encoder"].run(x, *caches_np)
            ref = model.encode_chunk(torch.from_numpy(x), *caches_pt)
            note("encoder_out", out[0], ref[0])
            caches_np, caches_pt = out[1:], list(ref[1:])
            if "ctc" in graphs:
                o2 = graphs["ctc"].run(x, *caches_ctc)
                note("ctc_log_probs", o2[0], model.ctc_chunk(torch.from_numpy(x), *[torch.from_numpy(c) for c in caches_ctc])[0])
                caches_ctc = o2[1:]
        # Eager transcript, and the decoder/joiner on the contexts it visits.
        ft = torch.from_numpy(feats)[None]
        enc, lens = model.encode(ft, torch.tensor([ft.shape[1]]))
        enc = enc[0, : int(lens[0])]
        ids = greedy_search(enc, model.decoder, model.joiner, meta.blank_id, meta.context_size)
        ctx = ([meta.blank_id] * meta.context_size + ids)[-meta.context_size :]
        y = np.asarray([ctx], dtype=np.int64)
        dec_out = graphs["decoder"].run(y)[0]
        note("decoder_out", dec_out, model.decoder(torch.from_numpy(y)))
        if len(enc):
            e = enc[-1:].numpy()
            note("logit", graphs["joiner"].run(e, dec_out)[0], model.joiner(torch.from_numpy(e), torch.from_numpy(dec_out)))
        from todm.data.tokenizer import tokens_to_text

        eager = tokens_to_text(bundle.tokens[i] for i in ids)
        exported = rec.transcribe(samples).text
        rep.utterances += 1
        ew, xw = eager.split(), exported.split()
        rep.words += len(ew)
        rep.word_mismatches += sum(a != b for a, b in zip(ew, xw)) + abs(len(ew) - len(xw))
        if len(rep.examples) < 5:
            rep.examples.append({"ref": text, "eager": eager, "exported": exported})
    rep.max_abs_diff = {k: round(v, 8) for k, v in diffs.items()}
    tol = TOLERANCES[precision]
    for name, d in diffs.items():
        if d > tol:
            rep.problems.append(f"{name}: max |exported - eager| = {d:.3g} > {tol:g} ({precision})")
    if precision == "fp32" and rep.word_mismatches:
        rep.problems.append(f"transcripts differ from eager PyTorch in {rep.word_mismatches} of {rep.words} words")
    rep.passed = not rep.problems
    return rep


def raise_if_failed(rep: ParityReport, bundle_dir: Path) -> None:
    if not rep.passed:
        raise BundleError(f"{bundle_dir}: parity check failed:\n  " + "\n  ".join(rep.problems))
