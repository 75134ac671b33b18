"""Within one model width, how much does each side's WER depend on the subnet's size?

    .venv/bin/python benchmarks/supernet_vs_individual/within_width.py [--record]

Descriptive, written after every result it reads; it decides nothing. Reads the recorded
runs (``reruns.py --record``, averaged reading at step 3,000): recipe 3 and its twins in
``reruns-scale0.1.json`` (the seeds every run has, 0, 1 and 2) and in
``reruns-scale0.1-wide.json`` (whatever seeds both sides have there). For each record, width
and split: every subnet's WER on each side (the mean over the seeds), and the spread within
the width, the highest WER over the lowest, on each side. The twins of one width reaching
nearly the same WER at every depth and feed-forward width would mean that, on this corpus
and at these sizes, a subnet trained alone loses little to the largest of its width, so the
target asks the supernet's smallest slices of a width to match its largest. ``--record``
writes ``within-width.md`` and ``.json`` here.
"""

from __future__ import annotations

import argparse
from typing import Any

from long_training import LABEL, READING
from readings import read_reruns, write_reading
from recipes import width
from seeds import SPLITS

RECORDS = ("reruns-scale0.1.json", "reruns-scale0.1-wide.json")


def seeds_in_common(data: dict[str, Any], subnets: list[str]) -> list[str]:
    runs = data["supernets"][LABEL]
    common = set(runs)
    for s in subnets:
        common &= set(data["twins"][s])
    return sorted(common, key=int)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    lines = [f"# Within a width: WER by subnet on each side, recipe 3 and its twins, {READING} reading", "",
             "WER % at step 3,000, the mean over the seeds both sides have; spread = the width's highest WER "
             "over its lowest, on that side.", ""]  # fmt: skip
    summary: dict[str, Any] = {"reading": READING, "records": {}}
    for name in RECORDS:
        data = read_reruns(name, 3000)
        runs = data["supernets"][LABEL]
        subnets = sorted((s for s in data["twins"] if all(s in run["subnets"] for run in runs.values())),
                         key=lambda s: (width(s), s))  # fmt: skip
        seeds = seeds_in_common(data, subnets)
        if not seeds:
            raise SystemExit(f"{name}: no seed has both a supernet run and every twin")
        lines += [f"## {name}, seed{'s' if len(seeds) > 1 else ''} {', '.join(seeds)}", "",
                  "| subnet | split | supernet | twin |", "|---|---|---|---|"]  # fmt: skip
        record: dict[str, Any] = {"seeds": [int(k) for k in seeds], "wer": {}, "spread": {}}
        for split in SPLITS:
            wer = {s: {"supernet": sum(runs[k]["subnets"][s][split][READING] for k in seeds) / len(seeds),
                       "twin": sum(data["twins"][s][k][split][READING] for k in seeds) / len(seeds)}
                   for s in subnets}  # fmt: skip
            record["wer"][split] = wer
            lines += [f"| {s} | {split} | {w['supernet']:.2f} | {w['twin']:.2f} |" for s, w in wer.items()]
            for w in sorted({width(s) for s in subnets}):
                members = [s for s in subnets if width(s) == w]
                if len(members) < 2:
                    continue
                spread = {side: max(wer[s][side] for s in members) / min(wer[s][side] for s in members)
                          for side in ("supernet", "twin")}  # fmt: skip
                record["spread"].setdefault(split, {})[str(w)] = {"subnets": members, **spread}
        lines.append("")
        for split, by_width in record["spread"].items():
            for w, v in by_width.items():
                lines.append(f"- {split}, width {w} ({len(v['subnets'])} subnets): spread supernet "
                             f"{v['supernet']:.3f}, twins {v['twin']:.3f}.")  # fmt: skip
        lines.append("")
        summary["records"][name] = record
    text = "\n".join(lines).rstrip()
    print(text)
    if args.record:
        write_reading("within-width", text, summary)


if __name__ == "__main__":
    main()
