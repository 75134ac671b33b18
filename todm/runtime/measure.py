"""``run_benchmark``: latency, real-time factor, memory and accuracy of a bundle on audio.

Offline mode decodes each utterance whole (features in one go, then every chunk).
Streaming mode simulates real-time arrival: audio comes in ``feed_ms`` pieces at the pace
of speech; each piece is decoded as far as it allows, and the compute durations are
measured while the arrival clock is simulated (no sleeping), so a first-partial latency
is the time from the arrival of the piece that produced the first words to those words,
and a final-result latency the time from the end of the audio to the final result, both
including any backlog the device had not yet caught up on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from todm.data.audio import load_audio
from todm.data.manifest import Utterance, read_manifest
from todm.errors import DataError
from todm.runtime import results as R
from todm.runtime import sysinfo
from todm.runtime.recognizer import OnlineStream, Recognizer

MODES = ("offline", "streaming")


def _voice(u: Utterance) -> str:
    return str(u.custom.get("voice") or u.speaker)


def _decode_streaming(rec: Recognizer, samples: np.ndarray, sr: int, feed_ms: int) -> tuple[OnlineStream, dict]:
    stream = rec.create_stream()
    piece = max(1, sr * feed_ms // 1000)
    clock = 0.0  # simulated time at which the device is free again
    first_partial = None
    n = len(samples)
    for start in range(0, n, piece):
        end = min(n, start + piece)
        arrival = end / sr
        clock = max(clock, arrival)
        t0 = time.perf_counter()
        stream.accept_waveform(sr, samples[start:end])
        if end == n:
            stream.input_finished()
        while rec.is_ready(stream):
            rec.decode_stream(stream)
        clock += time.perf_counter() - t0
        if first_partial is None and stream.result.tokens:
            first_partial = clock - arrival
    if n == 0:
        stream.input_finished()
    final = clock - n / sr
    return stream, {"first_partial_latency_s": None if first_partial is None else round(first_partial, 5),
                    "final_latency_s": round(final, 5)}  # fmt: skip


def decode_utterance(rec: Recognizer, samples: np.ndarray, mode: str, feed_ms: int = 100) -> tuple[OnlineStream, float, dict]:
    """Decode one utterance; returns the finished stream, its compute wall time and latencies."""
    sr = rec.meta.features.sample_rate
    t0 = time.perf_counter()
    if mode == "offline":
        stream, lat = rec.decode_offline(samples), {}
    else:
        stream, lat = _decode_streaming(rec, samples, sr, feed_ms)
    return stream, time.perf_counter() - t0, lat


def run_benchmark(
    bundle: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    *,
    mode: str = "offline",
    decoding: str = "greedy",
    beam: int = 4,
    backend: str | None = None,
    threads: int = 1,
    runs: int = 3,
    warmup: int = 1,
    feed_ms: int = 100,
    limit: int | None = None,
    on_utterance: Callable[[dict[str, Any]], None] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Measure ``bundle`` on the utterances of ``manifest``.

    Every utterance is decoded ``warmup`` times unmeasured, then ``runs`` times measured.

    Args:
        bundle: bundle directory.
        manifest: JSONL manifest (``todm.data.manifest``); ``text`` is the reference.
        mode: ``offline`` or ``streaming`` (simulated real-time arrival).
        decoding: ``greedy``, ``beam`` or ``ctc``.
        on_utterance: called with each utterance's record as soon as it is measured
            (remote runs stream these back).
        limit: measure only the first ``limit`` utterances.

    Returns:
        A results dict (schema in ``todm.runtime.results``).
    """
    if mode not in MODES:
        raise DataError(f"mode {mode!r} is not one of {MODES}")
    if runs < 1 or warmup < 0:
        raise DataError(f"runs must be >= 1 and warmup >= 0 (got runs={runs}, warmup={warmup})")
    utts = read_manifest(manifest)[:limit]
    if not utts:
        raise DataError(f"{manifest}: no utterances to measure")
    rss_before = sysinfo.rss_mb()
    t0 = time.perf_counter()
    rec = Recognizer.from_bundle(bundle, backend=backend, num_threads=threads, decoding=decoding, beam=beam)
    load_time = time.perf_counter() - t0
    b = rec.bundle
    sr = rec.meta.features.sample_rate
    records = []
    it = utts
    if progress:
        from tqdm import tqdm

        it = tqdm(utts, desc="bench", unit="utt")
    for u in it:
        samples = load_audio(u.audio, sr)
        for _ in range(warmup):
            decode_utterance(rec, samples, mode, feed_ms)
        compute: list[float] = []
        split = {"features_s": 0.0, "backend_s": 0.0, "search_s": 0.0}
        rec_u: dict[str, Any] = {}
        for _ in range(runs):
            stream, wall, lat = decode_utterance(rec, samples, mode, feed_ms)
            compute.append(wall)
            tm = stream.timers
            split["features_s"] += tm.features
            split["backend_s"] += tm.backend
            split["search_s"] += tm.search
            # words, chunk latencies and streaming latencies: from the last run (decoding is
            # deterministic; later runs have warmer caches)
            rec_u = {"id": u.id, "duration": round(len(samples) / sr, 4), "speaker": u.speaker,
                     "voice": _voice(u), "ref": u.text, "hyp": stream.result.text,
                     "chunks": len(tm.chunk_latencies),
                     "chunk_ms": [round(c * 1000, 3) for c in tm.chunk_latencies], **lat}  # fmt: skip
        rec_u.update({k: round(v, 6) for k, v in split.items()})
        rec_u["compute_s"] = [round(c, 6) for c in compute]
        rec_u["rtf"] = [round(c / max(rec_u["duration"], 1e-9), 5) for c in compute]
        records.append(rec_u)
        if on_utterance is not None:
            on_utterance(rec_u)
    peak = sysinfo.peak_rss_mb()
    model_bytes = sum((b.path / f).stat().st_size for f in {g.file for g in b.graphs.values()})
    return R.new_results(
        status="complete",
        bundle={"path": str(Path(bundle)), "format": b.format, "precision": b.precision,
                "subnet_id": b.subnet_id, "model_bytes": model_bytes},  # fmt: skip
        device={"name": "local", "transport": "in-process"},
        config={"mode": mode, "decoding": decoding, "beam": beam, "backend": rec.backend.name,
                "threads": threads, "runs": runs, "warmup": warmup, "feed_ms": feed_ms,
                "manifest": str(manifest)},  # fmt: skip
        environment=sysinfo.environment(threads, rec.backend.versions()),
        load_time_s=round(load_time, 4),
        memory={"rss_before_load_mb": rss_before, "peak_rss_mb": peak,
                "model_rss_mb": None if rss_before is None else round(peak - rss_before, 1)},  # fmt: skip
        utterances=records,
        aggregate=R.aggregate(records, runs),
    )
