"""RNN-T loss cost: time and peak memory of forward + backward at realistic sizes.

    .venv/bin/python benchmarks/rnnt_loss/run.py            # the default size grid
    .venv/bin/python benchmarks/rnnt_loss/run.py --sizes 8x150x40x256 --threads 2

Each size runs in its own process, so that the peak resident memory (``ru_maxrss``) it
reports belongs to that size alone. Reported per size:

- ``logits_mb``: the joiner output ``[B, T, U+1, V]`` float32 that the loss consumes
  (it exists before the loss runs and is not counted in the loss's own cost);
- ``saved_mb``: tensors autograd keeps for backward inside the loss (what the loss adds
  to a training step's activation memory), counted with ``saved_tensors_hooks``;
- ``peak_mb``: peak resident memory of forward + backward minus the resident memory
  just after the logits were made (the loss's whole transient footprint, gradient
  included);
- ``fwd_ms``, ``fwd_bwd_ms``: medians over ``--repeats`` runs after one warm-up.

Writes result.json and result.md beside this script.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = ["8x150x40x256", "16x300x60x500", "32x250x50x256", "32x150x40x500"]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


IMPLS = {
    "full_log_softmax": "run.py:full_log_softmax",
    "lean": "todm.supernet.rnnt_loss_lean:rnnt_loss_lean",
}


def full_log_softmax(logits, targets, logit_lens, target_lens, blank=0):
    """The recurrence over a full log_softmax lattice (what rnnt_loss ran before lean)."""
    import torch

    from todm.supernet.rnnt_loss import rnnt_loss_reference

    return rnnt_loss_reference(torch.log_softmax(logits, -1), targets, logit_lens, target_lens, blank).mean()


def run_one(size: str, impl: str, threads: int, repeats: int) -> dict:
    import importlib

    import torch

    module, name = IMPLS[impl].split(":")
    rnnt_loss = full_log_softmax if module == "run.py" else getattr(importlib.import_module(module), name)

    torch.set_num_threads(threads)
    bsz, t_max, u_max, vocab = (int(x) for x in size.split("x"))
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(bsz, t_max, u_max + 1, vocab, generator=g)
    targets = torch.randint(1, vocab, (bsz, u_max), generator=g)
    # Realistic ragged batches: lengths spread down to ~70% of the maximum.
    logit_lens = torch.linspace(t_max, int(0.7 * t_max), bsz).round().long()
    target_lens = torch.linspace(u_max, int(0.7 * u_max), bsz).round().long()
    logits.requires_grad_(True)
    base_rss = _rss_mb()

    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.data_ptr() != logits.data_ptr():
            saved[t.data_ptr()] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = rnnt_loss(logits, targets, logit_lens, target_lens)
    loss.backward()
    logits.grad = None
    fwd, fwd_bwd = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        loss = rnnt_loss(logits, targets, logit_lens, target_lens)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        logits.grad = None
        fwd.append((t1 - t0) * 1000)
        fwd_bwd.append((t2 - t0) * 1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "size": size,
        "impl": impl,
        "B": bsz, "T": t_max, "U": u_max, "V": vocab,
        "logits_mb": round(logits.numel() * 4 / 2**20, 1),
        "saved_mb": round(sum(saved.values()) / 2**20, 1),
        "peak_mb": round(peak_mb - base_rss, 1),
        "fwd_ms": round(statistics.median(fwd), 1),
        "fwd_bwd_ms": round(statistics.median(fwd_bwd), 1),
        "loss": round(float(loss), 4),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES, help="BxTxUxV, e.g. 8x150x40x256")
    ap.add_argument("--impls", nargs="+", default=list(IMPLS), choices=list(IMPLS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.impls[0], args.threads, args.repeats)))
        return
    rows = []
    for size in args.sizes:
        for impl in args.impls:
            out = subprocess.run(
                [sys.executable, __file__, "--one", size, "--impls", impl,
                 "--threads", str(args.threads), "--repeats", str(args.repeats)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    import torch

    result = {
        "command": "python benchmarks/rnnt_loss/run.py " + " ".join(sys.argv[1:]),
        "implementations": IMPLS,
        "threads": args.threads,
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "rows": rows,
    }
    (HERE / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "| impl | B | T | U | V | logits MB | saved for backward MB | peak extra RSS MB | fwd ms | fwd+bwd ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['impl']} | {r['B']} | {r['T']} | {r['U']} | {r['V']} | {r['logits_mb']} | {r['saved_mb']} | "
            f"{r['peak_mb']} | {r['fwd_ms']} | {r['fwd_bwd_ms']} |"
        )
    (HERE / "result.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
