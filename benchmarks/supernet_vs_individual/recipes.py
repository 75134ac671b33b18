"""Side by side: supernets trained with different recipes, against the same twins.

    .venv/bin/python benchmarks/supernet_vs_individual/recipes.py \
        benchmarks/supernet_vs_individual/result-uniform-draws.json \
        benchmarks/supernet_vs_individual/result.json benchmarks/supernet_vs_individual/result-per-width.json

Each record is a ``run.py`` report (``results.json``). For every subnet and test split, each
recipe's supernet / twin WER ratio (misses of the target in bold); then, per recipe, how
many ratios meet the target, the side-by-side step cost, and the mean ratio of each model
width's subnets other than the largest, since the recipes differ in how they share the
training among widths. Only the recipe varies, so the records must share their subnets
and twins, else this stops (``seeds.py`` sets seeds of one recipe side by side).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from statistics import mean
from typing import Any

from seeds import SPLITS, load, rows_by_subnet


def width(subnet: str) -> int:
    found = re.search(r"-D(\d+)-", subnet)
    if not found:
        raise SystemExit(f"{subnet}: not a subnet id with a width (-D<width>-)")
    return int(found.group(1))


def table(paths: list[Path], records: list[dict[str, Any]]) -> list[str]:
    target = records[0]["targets"]["wer_ratio_max"]
    subnets, by_subnet = rows_by_subnet(paths, records)
    for path, rows in zip(paths[1:], by_subnet[1:]):
        for subnet in subnets:
            for split in SPLITS:
                key = f"individual_{split}_wer"
                if rows[subnet][key] != by_subnet[0][subnet][key]:
                    raise SystemExit(f"{path}: its twin of {subnet} scores {rows[subnet][key]} on {split}, "
                                     f"{paths[0]}'s {by_subnet[0][subnet][key]}: compare one set of twins")  # fmt: skip
    names = [p.stem for p in paths]
    largest = max(subnets, key=lambda s: by_subnet[0][s]["params"])

    def ratio(rows: dict[str, Any], subnet: str, split: str) -> float:
        return float(rows[subnet][f"{split}_wer_ratio"]["ratio"])

    summary = []
    for name, rec, rows in zip(names, records, by_subnet):
        probe = (rec.get("step_cost_probe") or {}).get("cost_ratio_cpu")
        cost = f"step cost {probe['ratio']:.3f} [{probe['low']:.3f}, {probe['high']:.3f}]" if probe else "no cost probe"
        groups = []
        for split in SPLITS:
            per_width = {}
            for w in sorted({width(s) for s in subnets}):
                members = [s for s in subnets if width(s) == w and s != largest]
                if members:
                    per_width[w] = mean(ratio(rows, s, split) for s in members)
            groups.append(f"{split} " + ", ".join(f"width {w} {r:.3f}" for w, r in per_width.items()))
        t = rec["targets"]
        summary.append(f"- {name} (seed {rec['runs'][0].get('seed', 'not recorded')}): {t['wer_ratios_met']} of "
                       f"{t['wer_ratios_total']} within {target}; {cost}; mean ratio below the largest: "
                       + "; ".join(groups) + ".")  # fmt: skip
    head = ["subnet", *(f"{split}: {n}" for split in SPLITS for n in names)]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for subnet in subnets:
        cells = []
        for split in SPLITS:
            for rows in by_subnet:
                r = ratio(rows, subnet, split)
                cells.append(f"**{r:.3f}**" if r > target else f"{r:.3f}")
        lines.append(f"| {subnet} | " + " | ".join(cells) + " |")
    return [*summary, "", *lines]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records", nargs="+", type=Path, help="run.py results.json files, one per recipe")
    args = ap.parse_args()
    print("\n".join(table(args.records, load(args.records))))


if __name__ == "__main__":
    main()
