"""``todm eval``: WER and CER of any subnet of a checkpoint on any manifest.

Per-voice (per-speaker) breakdowns come from the manifest's ``speaker`` / ``custom.voice``.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from todm.bundle import atomic_write_text
from todm.data.manifest import read_manifest
from todm.data.tokenizer import Tokenizer
from todm.errors import ConfigError, DataError
from todm.runtime.scoring import (
    UtteranceErrors,
    corpus_rates,
    paired_bootstrap_ratio,
    utterance_errors,
)
from todm.supernet.checkpoint import load_checkpoint
from todm.supernet.decode import (
    LSTMHistoryDecoder,
    ctc_greedy,
    greedy_search_batch,
    modified_beam_search,
)
from todm.supernet.model import Supernet

METHODS = ("greedy", "beam", "ctc")


def error_rates(refs: list[str], hyps: list[str]) -> dict[str, float | int]:
    """WER and CER in percent (jiwer), with the word counts behind them."""
    return corpus_rates(utterance_errors(refs, hyps))


@torch.no_grad()
def transcribe_batch(model: Supernet, tok: Tokenizer, feats: list[torch.Tensor], method: str, beam: int = 4) -> list[str]:
    """Transcribe utterances' raw fbank ``feats`` (each ``[T, 80]``) with the active subnet.

    One padded encoder pass for all; the encoder masks each utterance to its own length,
    so every transcript is what the utterance alone would give.
    """
    lens = torch.tensor([f.shape[0] for f in feats])
    enc, enc_lens = model(torch.nn.utils.rnn.pad_sequence(feats, batch_first=True), lens)
    cfg = model.config
    if method == "ctc":
        lp = model.ctc_log_probs(enc)
        return [tok.decode(ctc_greedy(lp[b, :n], cfg.blank_id)) for b, n in enumerate(enc_lens.tolist())]
    proj = model.encoder_proj(enc)
    # The LSTM state after a token history is the same in every utterance: one memo for all.
    lstm = {"history_decoder": LSTMHistoryDecoder(model.predictor)} if cfg.predictor == "lstm" else {}
    decoder = None if lstm else model.decoder_out
    if method == "greedy":
        ids = greedy_search_batch(proj, enc_lens, decoder, model.joiner, cfg.blank_id, cfg.context_size, **lstm)
    else:
        ids = [modified_beam_search(proj[b, :n], decoder, model.joiner, cfg.blank_id, cfg.context_size, beam=beam, **lstm)
               for b, n in enumerate(enc_lens.tolist())]  # fmt: skip
    return [tok.decode(i) for i in ids]


def transcribe(model: Supernet, tok: Tokenizer, feats: torch.Tensor, method: str, beam: int = 4) -> str:
    """Transcribe one utterance's raw fbank ``feats [T, 80]`` with the active subnet."""
    return transcribe_batch(model, tok, [feats], method, beam)[0]


def _length_batches(lengths: list[int], max_frames: int) -> list[list[int]]:
    """Indices grouped by similar length, each group's padded size within ``max_frames``."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = [[]]
    for i in order:
        if groups[-1] and lengths[i] * (len(groups[-1]) + 1) > max_frames:
            groups.append([])
        groups[-1].append(i)
    return [g for g in groups if g]


def evaluate(
    checkpoint: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    subnets: list[str] | None = None,
    method: str = "greedy",
    beam: int = 4,
    max_utts: int | None = None,
    out: Path | None = None,
    max_batch_frames: int = 20_000,
) -> dict[str, Any]:
    """Decode ``manifest`` with each subnet; returns (and optionally writes) the results.

    Utterances of similar length are decoded together, up to ``max_batch_frames`` padded
    fbank frames a batch (1 decodes one at a time; the transcripts are the same).
    """
    if method not in METHODS:
        raise ConfigError(f"method {method!r} is not one of {METHODS}")
    from todm.data.audio import load_audio
    from todm.data.fbank import compute_fbank

    loaded = load_checkpoint(checkpoint)
    model = loaded.model
    tok = Tokenizer.load(loaded.tokenizer_dir)
    utts = read_manifest(manifest)[:max_utts]
    settings = model.config.feature_settings()
    feats = [torch.from_numpy(compute_fbank(load_audio(u.audio), settings)) for u in utts]
    results: dict[str, Any] = {"checkpoint": str(checkpoint), "manifest": str(manifest),
                               "method": method, "subnets": {}}  # fmt: skip
    for name in subnets or ["largest", "smallest"]:
        spec = model.set_active_subnet(name)
        hyps = [""] * len(feats)
        for group in _length_batches([f.shape[0] for f in feats], max_batch_frames):
            for i, h in zip(group, transcribe_batch(model, tok, [feats[i] for i in group], method, beam)):
                hyps[i] = h
        errors = utterance_errors([u.text for u in utts], hyps)
        by_voice: dict[str, list[UtteranceErrors]] = defaultdict(list)
        for u, e in zip(utts, errors):
            by_voice[u.voice].append(e)
        results["subnets"][spec.id] = {
            "name": name,
            "params": model.space.num_params(spec),
            **corpus_rates(errors),
            "per_voice": {v: corpus_rates(es) for v, es in sorted(by_voice.items())},
            "examples": [{"id": u.id, "ref": u.text, "hyp": h} for u, h in list(zip(utts, hyps))[:5]],
            # per utterance, so that two evaluations can be compared with a paired bootstrap
            "utterances": [{"id": u.id, "voice": u.voice, "hyp": h, **e.to_dict()}
                           for u, h, e in zip(utts, hyps, errors)],  # fmt: skip
        }
    if out is not None:
        atomic_write_text(Path(out), json.dumps(results, indent=2) + "\n")
    return results


def format_results(results: dict[str, Any]) -> str:
    lines = [f"{'subnet':<34} {'params':>9} {'WER %':>7} {'CER %':>7}  ({results['method']}, {results['manifest']})"]
    for sid, r in results["subnets"].items():
        lines.append(f"{sid:<34} {r['params']:>9,} {r['wer']:>7.2f} {r['cer']:>7.2f}")
    return "\n".join(lines)


def compare_results(results: dict[str, Any], baseline: dict[str, Any], baseline_name: str) -> str:
    """Each subnet of ``results`` against ``baseline`` (another ``evaluate`` result on the same
    manifest): WER ratio with its 95% paired-bootstrap interval over the utterances.

    A subnet is compared with the baseline's subnet of the same id, or with the baseline's
    only subnet (a model trained alone, say).
    """
    if Path(results["manifest"]).resolve() != Path(baseline["manifest"]).resolve():
        raise DataError(f"{baseline_name}: decoded {baseline['manifest']}, not {results['manifest']}")
    lines = [f"{'subnet':<34} {'WER %':>7} {'base %':>7} {'ratio':>6}  95% interval  (against {baseline_name})"]
    for sid, r in results["subnets"].items():
        base = baseline["subnets"].get(sid)
        if base is None and len(baseline["subnets"]) == 1:
            base = next(iter(baseline["subnets"].values()))
        if base is None:
            raise DataError(f"{baseline_name}: has no subnet {sid} (it holds {', '.join(baseline['subnets'])})")
        if "utterances" not in base or [u["id"] for u in base["utterances"]] != [u["id"] for u in r["utterances"]]:
            raise DataError(f"{baseline_name}: not the same utterances as this evaluation (or written by an "
                            "older todm without per-utterance counts); evaluate both on the same manifest")  # fmt: skip
        if not any(u["word_errors"] for u in base["utterances"]):
            lines.append(f"{sid:<34} {r['wer']:>7.2f} {base['wer']:>7.2f}  (no ratio: the baseline makes no error)")
            continue
        iv = paired_bootstrap_ratio([UtteranceErrors.from_dict(u) for u in r["utterances"]],
                                    [UtteranceErrors.from_dict(u) for u in base["utterances"]])  # fmt: skip
        lines.append(f"{sid:<34} {r['wer']:>7.2f} {base['wer']:>7.2f} {iv.ratio:>6.3f}  [{iv.low:.3f}, {iv.high:.3f}]")
    return "\n".join(lines)
