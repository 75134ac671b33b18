"""File size and encoder chunk latency of one realistic subnet, per format x precision.

    .venv/bin/python benchmarks/export_formats/run.py --out benchmarks/export_formats/result.json

Random weights (size and latency do not depend on training). Every export goes through
``todm.export.export_bundle``; latency is measured through ``todm.runtime``'s backends
(the path a device runs), one thread, median of ``--runs`` calls after ``--warmup``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

MODEL = dict(  # ~10M parameters: a 6-layer, 256-wide conformer, 500 tokens
    encoder="conformer", subsampling=4, subsampling_channels=32, max_depth=6, d_model=256, ffn_dim=1024,
    num_heads=4, head_dim=64, conv_kernel=15, chunk_frames=8, left_context_frames=32, context_size=2,
    predictor="stateless", decoder_dim=256, predictor_groups=64, joiner_dim=256, dropout=0.0, vocab_size=500,
    depth_choices=[6], d_model_choices=[256], ffn_choices=[1024], head_choices=[4],
)  # fmt: skip
COMBOS = [("onnx", "fp32"), ("onnx", "int8"), ("executorch", "fp32"), ("executorch", "int8"),
          ("tflite", "fp32"), ("tflite", "int8")]  # fmt: skip


def time_calls(fn, warmup: int, runs: int) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    from todm.bundle import load_bundle
    from todm.export import export_bundle
    from todm.runtime.backends import open_graph
    from todm.supernet.model import Supernet
    from todm.supernet.model_config import ModelConfig
    from todm.supernet.slicing import slice_subnet

    model = slice_subnet(Supernet(ModelConfig.from_dict(MODEL)), "largest")
    meta = model.meta
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((1, meta.chunk_input_frames, 80)) * 3 + 8).astype(np.float32)
    caches = [np.zeros(c.shape, dtype=c.dtype) for c in model.cache_specs(1)]
    with torch.no_grad():
        xt, ct = torch.from_numpy(x), [torch.from_numpy(c) for c in caches]
        eager_ms = time_calls(lambda: model.encode_chunk(xt, *ct), args.warmup, args.runs)
    result = {"subnet": meta.subnet_id, "params": sum(p.numel() for p in model.parameters()),
              "chunk_ms": meta.chunk_shift_frames * 10, "threads": 1, "runs": args.runs,
              "eager_pytorch_encoder_ms": round(eager_ms, 3), "rows": []}  # fmt: skip
    toks = ["<blk>"] + [f"t{i}" for i in range(meta.vocab_size - 1)]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, prec in COMBOS:
            t0 = time.perf_counter()
            out = export_bundle(model, fmt, Path(tmp) / f"{fmt}-{prec}", toks, precision=prec)
            export_s = time.perf_counter() - t0
            b = load_bundle(out)
            # The streaming set the runtime loads (sherpa-onnx's offline copy not counted).
            files = {g.file for g in b.graphs.values()}
            size = sum((out / f).stat().st_size for f in files)
            enc = open_graph(b, "encoder")
            ms = time_calls(lambda enc=enc: enc.run(x, *caches), args.warmup, args.runs)
            row = {"format": fmt, "precision": prec, "bytes": size, "encoder_chunk_ms": round(ms, 3),
                   "export_s": round(export_s, 1)}  # fmt: skip
            print(json.dumps(row), flush=True)
            result["rows"].append(row)
            args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['subnet']} ({result['params']:,} params), eager encoder chunk {eager_ms:.2f} ms")
    print("| format | precision | MB | encoder chunk ms (median) |\n| --- | --- | --- | --- |")
    for r in result["rows"]:
        print(f"| {r['format']} | {r['precision']} | {r['bytes'] / 1e6:.1f} | {r['encoder_chunk_ms']:.2f} |")


if __name__ == "__main__":
    main()
