"""Two supernet runs subnet by subnet: one's WER over the other's, with no twin in between.

    .venv/bin/python benchmarks/supernet_vs_individual/paired.py exp/svi-cpu-strat exp/svi-cpu-sort [--out FILE]

For runs that differ in one knob and nothing else (same seed, same draws, same data order),
this is the knob's effect, free of the twins' luck: for every subnet decoded in both and
each test split, the second run's WER over the first's with a 95% paired-bootstrap
interval over the test utterances, then the mean of those ratios per model width over
the subnets below the largest (the one every step trains in both).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from statistics import mean

from recipes import width
from seeds import SPLITS
from twin_seed import errors, eval_name

from todm.runtime.scoring import paired_bootstrap_ratio


def decoded(exp: Path) -> set[str]:
    return {p.name.removeprefix("eval-").split("-open-2h-eval-")[0]
            for p in (exp / "supernet").glob("eval-*-open-2h-eval-test-greedy-all-step-3000.json")}  # fmt: skip


def report(first: Path, second: Path) -> list[str]:
    subnets = sorted(decoded(first) & decoded(second))
    if not subnets:
        raise SystemExit(f"{first}, {second}: no subnet decoded at step 3000 in both")
    dims = {s: [int(x) for x in re.findall(r"\d+", s)] for s in subnets}
    largest = max(subnets, key=lambda s: dims[s])
    if any(len(dims[s]) != len(dims[largest]) or any(a > b for a, b in zip(dims[s], dims[largest])) for s in subnets):
        raise SystemExit(f"{first}: the largest subnet is not among those decoded: {subnets}")
    lines = [f"WER of {second} over {first}, by subnet (95% paired-bootstrap interval):", ""]
    ratios: dict[tuple[str, str], float] = {}
    for subnet in subnets:
        cells = []
        for split in SPLITS:
            a = errors(first / "supernet" / eval_name(subnet, split), subnet)
            b = errors(second / "supernet" / eval_name(subnet, split), subnet)
            iv = paired_bootstrap_ratio(b[1], a[1])
            ratios[subnet, split] = iv.ratio
            cells.append(f"{split} {a[0]:.1f} -> {b[0]:.1f}: {iv.ratio:.3f} [{iv.low:.3f}, {iv.high:.3f}]")
        lines.append(f"- {subnet}: " + "; ".join(cells))
    lines.append("")
    for split in SPLITS:
        for w in sorted({width(s) for s in subnets}):
            members = [s for s in subnets if width(s) == w and s != largest]
            if members:
                m = mean(ratios[s, split] for s in members)
                lines.append(f"{split}, width {w}, {len(members)} subnets below the largest: mean ratio {m:.3f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first", type=Path, help="run.py --out directory of the run to compare against")
    ap.add_argument("second", type=Path, help="run.py --out directory of the run that differs")
    ap.add_argument("--out", type=Path, help="also write the report here")
    args = ap.parse_args()
    lines = report(args.first, args.second)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
