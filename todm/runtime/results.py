"""The benchmark results file: one versioned JSON schema, its aggregation and its table.

Schema ``todm.bench.results`` version 1 (keys; times in seconds unless the name says ms)::

    schema, schema_version, created (UTC ISO), status ("complete" | "partial")
    bundle:      path, format, precision, subnet_id, model_bytes
    device:      profile name (or "local") and how it was reached
    config:      mode, decoding, beam, backend, threads, runs, warmup, feed_ms
    environment: cpu_model, cpu_count, threads, os, python, numpy, runtimes{name: version},
                 governor, temperatures_c, load_average (see todm.runtime.sysinfo)
    load_time_s: opening the bundle (sessions/interpreters built), once
    memory:      rss_before_load_mb (interpreter + numpy + runtime imported),
                 peak_rss_mb (VmHWM: the peak of the whole process, model and audio included),
                 model_rss_mb (peak - before load: what loading and running the model added)
    utterances:  [{id, duration, speaker, voice, ref, hyp, compute_s [per run], rtf [per run],
                   features_s, backend_s, search_s, chunks, chunk_ms [per chunk, last run],
                   first_partial_latency_s, final_latency_s (streaming only)}]
    aggregate:   rtf (sum compute / sum audio, median over runs), rtf_per_run [..],
                 chunk_latency_ms {p50, p90, p99, n}, first_partial_latency_ms {p50, p90},
                 final_latency_ms {p50, p90}, wer, cer, per_voice {voice: {wer, cer, n}},
                 time_split {features_s, backend_s, search_s, other_s, harness_fraction}
    budget:      (added by ``todm bench --device``) checks against the profile

``harness_fraction`` is the share of measured wall time spent outside the backend's calls
and the feature front end: decoding's Python and numpy work and the chunking.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from todm.bundle import atomic_write_text
from todm.errors import DataError

SCHEMA_NAME = "todm.bench.results"
SCHEMA_VERSION = 1


def percentiles(values: list[float], scale: float = 1.0, qs: tuple[int, ...] = (50, 90, 99)) -> dict[str, Any]:
    if not values:
        return {f"p{q}": None for q in qs} | {"n": 0}
    arr = np.asarray(values, dtype=np.float64) * scale
    return {f"p{q}": round(float(np.percentile(arr, q)), 3) for q in qs} | {"n": len(values)}


def error_rates(refs: list[str], hyps: list[str]) -> dict[str, float | None]:
    """WER and CER with jiwer (an empty reference set gives None)."""
    import jiwer

    pairs = [(r, h) for r, h in zip(refs, hyps) if r.strip()]
    if not pairs:
        return {"wer": None, "cer": None}
    r, h = [p[0] for p in pairs], [p[1] for p in pairs]
    return {"wer": round(float(jiwer.wer(r, h)), 4), "cer": round(float(jiwer.cer(r, h)), 4)}


def aggregate(utts: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    """The ``aggregate`` block from per-utterance records (any subset: partial results too)."""
    dur = sum(u["duration"] for u in utts)
    per_run = []
    for r in range(runs):
        comp = [u["compute_s"][r] for u in utts if len(u["compute_s"]) > r]
        if comp and dur > 0:
            per_run.append(round(sum(comp) / dur, 5))
    chunks = [c for u in utts for c in u.get("chunk_ms", [])]
    out: dict[str, Any] = {
        "utterances": len(utts),
        "audio_s": round(dur, 3),
        "rtf": float(np.median(per_run)) if per_run else None,
        "rtf_per_run": per_run,
        "chunk_latency_ms": percentiles(chunks),
    }
    fp = [u["first_partial_latency_s"] for u in utts if u.get("first_partial_latency_s") is not None]
    fl = [u["final_latency_s"] for u in utts if u.get("final_latency_s") is not None]
    if fp or fl:
        out["first_partial_latency_ms"] = percentiles(fp, 1000, (50, 90))
        out["final_latency_ms"] = percentiles(fl, 1000, (50, 90))
    out.update(error_rates([u["ref"] for u in utts], [u["hyp"] for u in utts]))
    voices: dict[str, list[dict[str, Any]]] = {}
    for u in utts:
        voices.setdefault(u["voice"], []).append(u)
    out["per_voice"] = {
        v: {**error_rates([u["ref"] for u in us], [u["hyp"] for u in us]), "n": len(us)}
        for v, us in sorted(voices.items())
    }
    split = {k: sum(u[k] for u in utts) for k in ("features_s", "backend_s", "search_s")}
    total = sum(sum(u["compute_s"]) for u in utts)
    other = max(0.0, total - split["features_s"] - split["backend_s"])
    split = {k: round(v, 4) for k, v in split.items()}
    split["total_s"] = round(total, 4)
    split["harness_s"] = round(other, 4)
    split["harness_fraction"] = round(other / total, 4) if total > 0 else None
    out["time_split"] = split
    return out


def new_results(**blocks: Any) -> dict[str, Any]:
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **blocks,
    }


def write_results(path: str | Path, results: dict[str, Any]) -> Path:
    path = Path(path)
    atomic_write_text(path, json.dumps(results, indent=2) + "\n")
    return path


def read_results(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: cannot read results ({e})") from None
    if d.get("schema") != SCHEMA_NAME or d.get("schema_version") != SCHEMA_VERSION:
        raise DataError(f"{path}: not a {SCHEMA_NAME} v{SCHEMA_VERSION} results file")
    return d


def _fmt(v: Any, nd: int = 3) -> str:
    if v is None:
        return "-"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def format_table(results: dict[str, Any]) -> str:
    """A readable summary of one results dict."""
    a, cfg, b = results["aggregate"], results["config"], results["bundle"]
    env, mem = results.get("environment", {}), results.get("memory", {})
    lines = [
        f"bundle   {b['path']}  ({b['format']}, {b['precision']}, subnet {b['subnet_id']}, "
        f"{b['model_bytes'] / 1e6:.2f} MB)",
        f"device   {results.get('device', {}).get('name', 'local')}: {env.get('cpu_model', '?')}, "
        f"{cfg['threads']} thread(s), {cfg['backend']}",
        f"run      {cfg['mode']} / {cfg['decoding']}, {cfg['runs']} run(s) after {cfg['warmup']} warm-up, "
        f"{a['utterances']} utterances, {a['audio_s']:.1f} s audio ({results.get('status', 'complete')})",
        "",
        f"  RTF                    {_fmt(a['rtf'], 4)}",
        f"  chunk latency ms       p50 {_fmt(a['chunk_latency_ms']['p50'])}  "
        f"p90 {_fmt(a['chunk_latency_ms']['p90'])}  p99 {_fmt(a['chunk_latency_ms']['p99'])}",
    ]
    if "first_partial_latency_ms" in a:
        lines.append(f"  first partial ms       p50 {_fmt(a['first_partial_latency_ms']['p50'])}  "
                     f"p90 {_fmt(a['first_partial_latency_ms']['p90'])}")  # fmt: skip
        lines.append(f"  final result ms        p50 {_fmt(a['final_latency_ms']['p50'])}  "
                     f"p90 {_fmt(a['final_latency_ms']['p90'])}")  # fmt: skip
    lines += [
        f"  load time s            {_fmt(results.get('load_time_s'))}",
        f"  peak RSS MB            {_fmt(mem.get('peak_rss_mb'), 1)}  (model adds {_fmt(mem.get('model_rss_mb'), 1)})",
        f"  WER / CER              {_fmt(a['wer'], 4)} / {_fmt(a['cer'], 4)}",
        f"  harness overhead       {_fmt(100 * (a['time_split']['harness_fraction'] or 0), 1)}% of compute",
    ]
    if len(a["per_voice"]) > 1:
        lines.append("  per voice (WER, n):    " + ", ".join(
            f"{v} {_fmt(r['wer'], 3)} ({r['n']})" for v, r in a["per_voice"].items()))  # fmt: skip
    if "budget" in results:
        bud = results["budget"]
        lines.append("")
        lines.append(f"budget   {bud['device']}: {'FITS' if bud['fits'] else 'DOES NOT FIT'}")
        for c in bud["checks"]:
            mark = "ok  " if c["ok"] else ("FAIL" if c["ok"] is False else "n/a ")
            lines.append(f"  {mark} {c['name']:<22} {_fmt(c['value'])} (limit {c['limit']})")
    return "\n".join(lines)
