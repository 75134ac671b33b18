"""A seed-2 check of the five width-96 subnets below the largest: does the supernet / twin WER
ratio shrink when both sides train their 3,000 steps on more data, or with every width doubled?

    .venv/bin/python benchmarks/supernet_vs_individual/more_data.py [--record]          # 10h
    .venv/bin/python benchmarks/supernet_vs_individual/more_data.py wide [--record]     # twice the width

Reads, beside this script (both made by ``reruns.py --record``, averaged reading: the mean of
the last five checkpoints up to step 3,000, decoded on ``corpora/open-2h-eval``):

- ``reruns-scale0.1.json``: recipe 3 seed 2 and its seed-2 twins trained on ``corpora/open-2h``;
- the variant's record, made by ``five_runs.sh VARIANT a|b``: ``10h``, the same recipe, seed and
  twins trained on ``corpora/open-10h`` (``reruns-scale0.1-10h.json``); ``wide``, the same
  with every width doubled (``configs/svi-cpu-wide.yaml``, ``reruns-scale0.1-wide.json``), each
  wide subnet read against its narrow namesake (L2-D96-F384x2-H4x2 -> L2-D192-F768x2-H4x2).

The judged figure (README.md, "Five times the data, one seed" and "Twice the width, one seed")
is the geometric mean ratio over the five (``JUDGED``) on ``test``, the variant's over the
narrow 1.7 h runs'; its thresholds are those of ``long_training.py`` for five subnets
(``SHIFT_SDS`` standard deviations of a change between two independent readings, from the
seed noise at 0.1). ``--record`` writes ``more-data-seed2.md`` and ``.json`` (``wide``:
``wide-seed2``) here.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from long_training import READING, SEED, change_of, judge, supernet_wers, twin_wers
from readings import geo_mean, read_reruns, write_reading
from seeds import SPLITS

JUDGED = ("L2-D96-F384x2-H4x2", "L3-D96-F288x3-H4x3", "L3-D96-F384x3-H2x3", "L4-D96-F192x4-H2x4",
          "L4-D96-F288x4-H2x4")  # fmt: skip
SMALL = "reruns-scale0.1.json"


@dataclass(frozen=True)
class Variant:
    record: str
    title: str  # "Five times the data"
    before: str  # how the narrow 1.7 h runs are named in the table: "1.7 h"
    after: str  # and the variant's: "8.5 h"
    stem: str
    doubled: bool  # its subnets are the judged ones with every width doubled


VARIANTS = {
    "10h": Variant("reruns-scale0.1-10h.json", "Five times the data", "1.7 h", "8.5 h", "more-data-seed2", False),
    "wide": Variant("reruns-scale0.1-wide.json", "Twice the width", "narrow", "wide", "wide-seed2", True),
}


def doubled(subnet: str) -> str:
    """The subnet with its model and feed-forward widths doubled (depth and heads kept)."""
    return re.sub(r"([DF])(\d+)", lambda m: f"{m.group(1)}{2 * int(m.group(2))}", subnet)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variant", nargs="?", default="10h", choices=sorted(VARIANTS))
    ap.add_argument("--large", help="the variant's record (default: its own)")
    ap.add_argument("--record", nargs="?", const="", default=None, metavar="STEM",
                    help="write STEM.md and .json here (default stem: the variant's)")
    args = ap.parse_args()
    v = VARIANTS[args.variant]
    record = args.large or v.record
    name = {s: doubled(s) if v.doubled else s for s in JUDGED}
    small, large = read_reruns(SMALL, 3000), read_reruns(record, 3000)
    s2, s10 = supernet_wers(SMALL, small), supernet_wers(record, large)
    t2, t10 = twin_wers(small), twin_wers(large)
    missing = [name[s] for s in JUDGED if not (name[s] in s10 and name[s] in t10 and s in s2 and s in t2)]
    if missing:
        raise SystemExit(f"{record}: no reading yet of {', '.join(missing)} on both sides")
    on_before, on_after = (f"on {v.before}", f"on {v.after}") if not v.doubled else (v.before, v.after)
    span = f"trained on {v.before} -> {v.after}" if not v.doubled else "narrow -> wide (every width doubled)"
    lines = [f"# {v.title}, one seed: recipe 3 seed 2 against its seed-2 twins, {READING} reading", "",
             f"WER % at 3,000 steps, {span}; ratio = supernet / twin.", "",
             f"| subnet | split | supernet | twin | ratio, {v.before} | ratio, {v.after} |", "|---|---|---|---|---|---|"]  # fmt: skip
    summary: dict[str, Any] = {"judged": [name[s] for s in JUDGED], "seed": int(SEED), "step": 3000,
                               "reading": READING, "records": [SMALL, record], "splits": {}}  # fmt: skip
    if v.doubled:
        summary["narrow_namesakes"] = list(JUDGED)
    for split in SPLITS:
        r2 = {s: s2[s][split] / t2[s][split] for s in JUDGED}
        r10 = {s: s10[name[s]][split] / t10[name[s]][split] for s in JUDGED}
        for s in JUDGED:
            label = s if not v.doubled else f"{s} -> {name[s]}"
            lines.append(f"| {label} | {split} | {s2[s][split]:.2f} -> {s10[name[s]][split]:.2f} | "
                         f"{t2[s][split]:.2f} -> {t10[name[s]][split]:.2f} | {r2[s]:.3f} | {r10[s]:.3f} |")  # fmt: skip
        g = change_of(list(JUDGED), r2, r10)
        summary["splits"][split] = {
            "ratio_small": {name[s]: r for s, r in r2.items()} if v.doubled else r2,
            "ratio_large": {name[s]: r for s, r in r10.items()}, "geo_mean_ratio_small": g["geo_mean_ratio_3000"],
            "geo_mean_ratio_large": g["geo_mean_ratio_6000"], "change": g["change"],
            "within_1.03_large": sorted(name[s] for s in JUDGED if r10[s] <= 1.03),
            "supernet_wer_change": geo_mean([s10[name[s]][split] / s2[s][split] for s in JUDGED]),
            "twin_wer_change": geo_mean([t10[name[s]][split] / t2[s][split] for s in JUDGED])}  # fmt: skip
    lines.append("")
    for split in SPLITS:
        r = summary["splits"][split]
        lines.append(f"- {split}: geometric mean ratio {r['geo_mean_ratio_small']:.3f} {on_before}, "
                     f"{r['geo_mean_ratio_large']:.3f} {on_after} (change {r['change']:.3f}); within 1.03 "
                     f"{on_after}: {len(r['within_1.03_large'])} of {len(JUDGED)}; WER {on_after} over {on_before}: "
                     f"supernet {r['supernet_wer_change']:.3f}, twins {r['twin_wer_change']:.3f}.")  # fmt: skip
    if v.doubled:  # the largest has no twin here: its WER, for the record
        big = max(s2, key=lambda s: [int(x) for x in re.findall(r"\d+", s)])
        if doubled(big) in s10:
            summary["largest"] = {"narrow": s2[big], "wide": s10[doubled(big)]}
            lines.append(f"- the supernet's largest, {big} -> {doubled(big)}: WER " + ", ".join(
                f"{split} {s2[big][split]:.2f} -> {s10[doubled(big)][split]:.2f}" for split in SPLITS) + ".")
    change = summary["splits"]["test"]["change"]
    line, verdict = judge(change, len(JUDGED), f"the {len(JUDGED)} subnets")
    lines += ["", line]
    summary.update(verdict)
    text = "\n".join(lines)
    print(text)
    if args.record is not None:
        write_reading(args.record or v.stem, text, summary)


if __name__ == "__main__":
    main()
