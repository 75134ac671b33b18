"""The gap over training: each supernet subnet's WER over its first-seed twin's, checkpoint by checkpoint.

    .venv/bin/python benchmarks/supernet_vs_individual/gap_over_steps.py exp/svi-cpu-strat \
        --steps 2000 2500 3000 [--split test] [--out FILE]

Whether longer training would close the gap: if the supernet's subnets fall behind their
twins as both train on, more steps of the same recipe will not bring them within the
target. For every subnet decoded at every step (``todm eval --out`` files beside the
checkpoints, README.md), the supernet's WER over its twin's (``exp/svi-cpu-3000``, seed 0,
the twins every recipe shares) with a 95% paired-bootstrap interval, then per step the
mean ratio of each model width's subnets below the largest, and the largest's.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from statistics import mean

from recipes import width
from twin_seed import TWINS, errors, eval_name
from two_seed_twins import SUBNETS

from todm.runtime.scoring import paired_bootstrap_ratio

LARGEST = "L4-D96-F384x4-H4x4"  # the search space's largest, trained every step


def report(supernet: Path, steps: list[int], split: str) -> list[str]:
    lines = [f"WER of {supernet}'s subnets over their seed-0 twins' ({TWINS[0]}) on {split}, "
             "by checkpoint (95% paired-bootstrap interval):", ""]  # fmt: skip
    ratios: dict[tuple[str, int], float] = {}
    for subnet in SUBNETS:
        cells = []
        for step in steps:
            name = eval_name(subnet, split, step)
            sup_wer, sup = errors(supernet / "supernet" / name, subnet)
            twin_wer, twin = errors(TWINS[0] / f"individual-{subnet}" / name, subnet)
            iv = paired_bootstrap_ratio(sup, twin)
            ratios[subnet, step] = iv.ratio
            cells.append(f"{step}: {sup_wer:.1f}/{twin_wer:.1f} = {iv.ratio:.3f} [{iv.low:.3f}, {iv.high:.3f}]")
        lines.append(f"- {subnet}: " + "; ".join(cells))
    lines.append("")
    for step in steps:
        groups = []
        for w in sorted({width(s) for s in SUBNETS}):
            members = [s for s in SUBNETS if width(s) == w and s != LARGEST]
            groups.append(f"width {w} ({len(members)} below the largest) {mean(ratios[s, step] for s in members):.3f}")
        lines.append(f"step {step}: mean ratio " + ", ".join(groups) + f"; the largest {ratios[LARGEST, step]:.3f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("supernet", type=Path, help="a benchmark run directory (with supernet/)")
    ap.add_argument("--steps", nargs="+", type=int, default=[2000, 2500, 3000])
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", type=Path, help="also write the report here")
    args = ap.parse_args()
    text = "\n".join(report(args.supernet, args.steps, args.split)) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
