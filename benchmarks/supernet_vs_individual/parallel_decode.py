"""Decode every (run, split, subnet) of a comparison at once, one core each, ahead of its report.

    python benchmarks/supernet_vs_individual/parallel_decode.py --out EXP --eval-corpus CORPUS \
        --step 1600 --subnets $FOUR --jobs 16

``run.py --part report`` decodes its runs one after another in one process: on a machine
with many cores (the GPU machine of ``gpu_run.sh``) that is most of the report's time.
This decodes them side by side, one process per core and one thread per process, through
the same ``evaluated`` that the report calls, so the files it keeps beside each checkpoint
are the ones the report then reads instead of decoding again. ``EXP`` holds ``supernet``
(all ``--subnets``) and ``individual-<subnet>`` (its own subnet) as ``run.py --out`` makes them.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from run import SPLITS, checkpoint_at, evaluated


def decode_one(ckpt: str, manifest: str, subnet: str) -> tuple[str, float]:
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    res = evaluated(Path(ckpt), Path(manifest), [subnet], "greedy", None)[subnet]
    return f"{ckpt} {Path(manifest).stem} {subnet}: WER {res['wer']:.2f}", time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="the comparison's run.py --out")
    ap.add_argument("--eval-corpus", type=Path, required=True)
    ap.add_argument("--step", type=int, default=None, help="decode the step-N checkpoints (default: last)")
    ap.add_argument("--subnets", nargs="+", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    jobs = []
    runs = [(args.out / "supernet", args.subnets)] + [(args.out / f"individual-{s}", [s]) for s in args.subnets]
    for exp, subnets in runs:
        ckpt = checkpoint_at(exp, args.step)
        if not ckpt.is_file():
            raise SystemExit(f"{ckpt}: no such checkpoint (has every run reached step {args.step}?)")
        jobs += [(str(ckpt), str(args.eval_corpus / f"{split}.jsonl"), s) for split in SPLITS for s in subnets]
    with ProcessPoolExecutor(max_workers=min(args.jobs, len(jobs))) as pool:
        futures = [pool.submit(decode_one, *job) for job in jobs]
        for f in as_completed(futures):
            line, seconds = f.result()
            print(f"{line} ({seconds:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
