"""Five times the data, one seed: does the supernet / twin WER ratio shrink when both sides
train their 3,000 steps on 8.5 h instead of 1.7 h?

    .venv/bin/python benchmarks/supernet_vs_individual/more_data.py [--record]

Reads, beside this script (both made by ``reruns.py --record``, averaged reading: the mean of
the last five checkpoints up to step 3,000, decoded on ``corpora/open-2h-eval``):

- ``reruns-scale0.1.json``: recipe 3 seed 2 and its seed-2 twins trained on ``corpora/open-2h``;
- ``reruns-scale0.1-10h.json``: the same recipe, seed and twins trained on ``corpora/open-10h``
  (``five_runs.sh 10h``).

The judged figure (README.md, "Five times the data, one seed") is the geometric mean ratio
over the five width-96 subnets below the largest (``JUDGED``) on ``test``, on 8.5 h over on
1.7 h; its thresholds are those of ``long_training.py`` for five subnets (``SHIFT_SDS``
standard deviations of a change between two independent readings, from the seed noise at
0.1). ``--record`` writes ``more-data-seed2.md`` and ``.json`` here.
"""

from __future__ import annotations

import argparse
from typing import Any

from long_training import READING, SEED, change_of, judge, supernet_wers, twin_wers
from readings import geo_mean, read_reruns, write_reading
from seeds import SPLITS

JUDGED = ("L2-D96-F384x2-H4x2", "L3-D96-F288x3-H4x3", "L3-D96-F384x3-H2x3", "L4-D96-F192x4-H2x4",
          "L4-D96-F288x4-H2x4")  # fmt: skip
SMALL, LARGE = "reruns-scale0.1.json", "reruns-scale0.1-10h.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", default=LARGE, help="the record of the runs on more data")
    ap.add_argument("--record", nargs="?", const="more-data-seed2", default=None, metavar="STEM",
                    help="write STEM.md and .json here (default stem: more-data-seed2)")
    args = ap.parse_args()
    small, large = read_reruns(SMALL, 3000), read_reruns(args.large, 3000)
    s2, s10 = supernet_wers(SMALL, small), supernet_wers(args.large, large)
    t2, t10 = twin_wers(small), twin_wers(large)
    missing = [s for s in JUDGED if not (s in s10 and s in t10 and s in s2 and s in t2)]
    if missing:
        raise SystemExit(f"{args.large}: no reading yet of {', '.join(missing)} on both sides")
    lines = [f"# Five times the data, one seed: recipe 3 seed 2 against its seed-2 twins, {READING} reading", "",
             "WER % at 3,000 steps, trained on 1.7 h -> 8.5 h; ratio = supernet / twin.", "",
             "| subnet | split | supernet | twin | ratio, 1.7 h | ratio, 8.5 h |", "|---|---|---|---|---|---|"]  # fmt: skip
    summary: dict[str, Any] = {"judged": list(JUDGED), "seed": int(SEED), "step": 3000, "reading": READING,
                               "records": [SMALL, args.large], "splits": {}}  # fmt: skip
    for split in SPLITS:
        r2 = {s: s2[s][split] / t2[s][split] for s in JUDGED}
        r10 = {s: s10[s][split] / t10[s][split] for s in JUDGED}
        for s in JUDGED:
            lines.append(f"| {s} | {split} | {s2[s][split]:.2f} -> {s10[s][split]:.2f} | "
                         f"{t2[s][split]:.2f} -> {t10[s][split]:.2f} | {r2[s]:.3f} | {r10[s]:.3f} |")  # fmt: skip
        g = change_of(list(JUDGED), r2, r10)
        summary["splits"][split] = {
            "ratio_small": r2, "ratio_large": r10, "geo_mean_ratio_small": g["geo_mean_ratio_3000"],
            "geo_mean_ratio_large": g["geo_mean_ratio_6000"], "change": g["change"],
            "within_1.03_large": sorted(s for s in JUDGED if r10[s] <= 1.03),
            "supernet_wer_change": geo_mean([s10[s][split] / s2[s][split] for s in JUDGED]),
            "twin_wer_change": geo_mean([t10[s][split] / t2[s][split] for s in JUDGED])}  # fmt: skip
    lines.append("")
    for split in SPLITS:
        v = summary["splits"][split]
        lines.append(f"- {split}: geometric mean ratio {v['geo_mean_ratio_small']:.3f} on 1.7 h, "
                     f"{v['geo_mean_ratio_large']:.3f} on 8.5 h (change {v['change']:.3f}); within 1.03 on "
                     f"8.5 h: {len(v['within_1.03_large'])} of {len(JUDGED)}; WER on 8.5 h over on 1.7 h: "
                     f"supernet {v['supernet_wer_change']:.3f}, twins {v['twin_wer_change']:.3f}.")  # fmt: skip
    change = summary["splits"]["test"]["change"]
    line, verdict = judge(change, len(JUDGED), f"the {len(JUDGED)} subnets")
    lines += ["", line]
    summary.update(verdict)
    text = "\n".join(lines)
    print(text)
    if args.record:
        write_reading(args.record, text, summary)


if __name__ == "__main__":
    main()
