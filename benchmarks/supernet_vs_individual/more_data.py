"""A seed-2 check of the five width-96 subnets below the largest: does the supernet / twin WER
ratio shrink when both sides train their 3,000 steps on more data, or with every width doubled?

    .venv/bin/python benchmarks/supernet_vs_individual/more_data.py [--record]          # 10h
    .venv/bin/python benchmarks/supernet_vs_individual/more_data.py wide [--record]     # twice the width
    .venv/bin/python benchmarks/supernet_vs_individual/more_data.py ssm [--record]      # the MH-SSM encoder

Reads, beside this script (both made by ``reruns.py --record``, averaged reading: the mean of
the last five checkpoints up to step 3,000, decoded on ``corpora/open-2h-eval``):

- ``reruns-scale0.1.json``: recipe 3 seed 2 and its seed-2 twins trained on ``corpora/open-2h``;
- the variant's record, made by ``five_runs.sh VARIANT a|b``: ``10h``, the same recipe, seed and
  twins trained on ``corpora/open-10h`` (``reruns-scale0.1-10h.json``); ``wide``, the same
  with every width doubled (``configs/svi-cpu-wide.yaml``, ``reruns-scale0.1-wide.json``), each
  wide subnet read against its narrow namesake (L2-D96-F384x2-H4x2 -> L2-D192-F768x2-H4x2);
  ``ssm``, the same recipe, seed and corpus with the multi-head SSM encoder in place of the
  conformer (``model.encoder=ssm``, ``reruns-scale0.1-ssm.json``), against SSM twins, and the
  largest against its twin on both sides.

The judged figure (README.md, "Five times the data, one seed" and "Twice the width, one seed")
is the geometric mean ratio over the five (``JUDGED``) on ``test``, the variant's over the
narrow 1.7 h conformer runs'; its thresholds are those of ``long_training.py`` for five subnets
(``SHIFT_SDS`` standard deviations of a change between two independent readings, from the
seed noise at 0.1). ``--record`` writes ``more-data-seed2.md`` and ``.json`` (``wide``:
``wide-seed2``; ``ssm``: ``ssm-seed2``) here.
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
    span: str  # what changes, for the table's caption: "trained on 1.7 h -> 8.5 h"
    on: bool = True  # the names read "on 1.7 h", not "narrow"
    largest_twin: bool = False  # the record holds the largest's twin: read its ratio too


VARIANTS = {
    "10h": Variant("reruns-scale0.1-10h.json", "Five times the data", "1.7 h", "8.5 h", "more-data-seed2", False,
                   "trained on 1.7 h -> 8.5 h"),
    "wide": Variant("reruns-scale0.1-wide.json", "Twice the width", "narrow", "wide", "wide-seed2", True,
                    "narrow -> wide (every width doubled)", on=False),
    "ssm": Variant("reruns-scale0.1-ssm.json", "The paper's encoder", "conformer", "MH-SSM", "ssm-seed2", False,
                   "conformer -> MH-SSM encoder (each against its own twins)", on=False, largest_twin=True),
}
LARGEST = "L4-D96-F384x4-H4x4"


def doubled(subnet: str) -> str:
    """The subnet with its model and feed-forward widths doubled (depth and heads kept)."""
    return re.sub(r"([DF])(\d+)", lambda m: f"{m.group(1)}{2 * int(m.group(2))}", subnet)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variant", nargs="?", default="10h", choices=sorted(VARIANTS))
    ap.add_argument("--large", help="the variant's record (default: its own)")
    ap.add_argument("--seeds", nargs="+", default=[SEED], metavar="SEED",
                    help="the seeds read, each supernet against its twins of the same seed (default: 2)")
    ap.add_argument("--record", nargs="?", const="", default=None, metavar="STEM",
                    help="write STEM.md and .json here (default stem: the variant's, by its seeds)")
    args = ap.parse_args()
    v = VARIANTS[args.variant]
    seeds = sorted(set(args.seeds), key=int)
    record = args.large or v.record
    name = {s: doubled(s) if v.doubled else s for s in JUDGED}
    small, large = read_reruns(SMALL, 3000), read_reruns(record, 3000)
    # (seed, narrow subnet) -> split -> WER, each side
    s2: dict[tuple[str, str], dict[str, float]] = {}
    s10: dict[tuple[str, str], dict[str, float]] = {}
    t2: dict[tuple[str, str], dict[str, float]] = {}
    t10: dict[tuple[str, str], dict[str, float]] = {}
    for seed in seeds:
        ss, sl = supernet_wers(SMALL, small, seed), supernet_wers(record, large, seed)
        ts, tl = twin_wers(small, seed), twin_wers(large, seed)
        missing = [name[s] for s in JUDGED if not (name[s] in sl and name[s] in tl and s in ss and s in ts)]
        if missing:
            raise SystemExit(f"{record}: no reading yet of {', '.join(missing)} on both sides, seed {seed}")
        for s in JUDGED:
            s2[seed, s], s10[seed, s], t2[seed, s], t10[seed, s] = ss[s], sl[name[s]], ts[s], tl[name[s]]
    keys = [(seed, s) for seed in seeds for s in JUDGED]
    # a record decoded in part (reruns.py --splits) is read on the splits both sides have
    splits = [sp for sp in SPLITS if all(sp in side[k] for side in (s2, s10, t2, t10) for k in keys)]
    if "test" not in splits:
        raise SystemExit(f"{record}: the judged split, test, is not decoded on both sides yet")
    many = len(seeds) > 1
    on_before, on_after = (f"on {v.before}", f"on {v.after}") if v.on else (v.before, v.after)
    span = v.span
    who = (f"recipe 3 seed {seeds[0]} against its seed-{seeds[0]} twins" if not many else
           f"recipe 3 seeds {', '.join(seeds)}, each against its twins of the same seed")
    lines = [f"# {v.title}, {'one seed' if not many else f'{len(seeds)} seeds'}: {who}, {READING} reading", "",
             f"WER % at 3,000 steps, {span}; ratio = supernet / twin.", "",
             f"| subnet |{' seed |' if many else ''} split | supernet | twin | ratio, {v.before} | ratio, {v.after} |",
             f"|---|{'---|' if many else ''}---|---|---|---|---|"]  # fmt: skip
    which = {"seeds": [int(x) for x in seeds]} if many else {"seed": int(seeds[0])}
    summary: dict[str, Any] = {"judged": [name[s] for s in JUDGED], **which, "step": 3000, "reading": READING,
                               "records": [SMALL, record], "splits": {}}  # fmt: skip
    if v.doubled:
        summary["narrow_namesakes"] = list(JUDGED)

    def by_name(values: dict[tuple[str, str], float]) -> dict[str, Any]:
        if not many:
            return {name[s]: values[seed, s] for seed, s in values}
        return {seed: {name[s]: values[seed, s] for sd, s in values if sd == seed} for seed in seeds}

    for split in splits:
        r2 = {k: s2[k][split] / t2[k][split] for k in keys}
        r10 = {k: s10[k][split] / t10[k][split] for k in keys}
        for seed, s in keys:
            k = (seed, s)
            label = s if not v.doubled else f"{s} -> {name[s]}"
            lines.append(f"| {label} |{f' {seed} |' if many else ''} {split} | {s2[k][split]:.2f} -> "
                         f"{s10[k][split]:.2f} | {t2[k][split]:.2f} -> {t10[k][split]:.2f} | {r2[k]:.3f} | {r10[k]:.3f} |")  # fmt: skip
        g = change_of(keys, r2, r10)
        summary["splits"][split] = {
            "ratio_small": by_name(r2),  # under the variant's names, as the narrow namesakes say
            "ratio_large": by_name(r10), "geo_mean_ratio_small": g["geo_mean_ratio_3000"],
            "geo_mean_ratio_large": g["geo_mean_ratio_6000"], "change": g["change"],
            "within_1.03_large": sorted((f"{name[s]} seed {seed}" if many else name[s]) for seed, s in keys
                                        if r10[seed, s] <= 1.03),
            "supernet_wer_change": geo_mean([s10[k][split] / s2[k][split] for k in keys]),
            "twin_wer_change": geo_mean([t10[k][split] / t2[k][split] for k in keys])}  # fmt: skip
        if many:
            per_seed = {seed: change_of([k for k in keys if k[0] == seed], r2, r10) for seed in seeds}
            summary["splits"][split]["change_by_seed"] = {seed: g["change"] for seed, g in per_seed.items()}
            summary["splits"][split]["geo_mean_ratio_by_seed"] = {
                seed: [g["geo_mean_ratio_3000"], g["geo_mean_ratio_6000"]] for seed, g in per_seed.items()}
    lines.append("")
    for split in splits:
        r = summary["splits"][split]
        by_seed = "" if not many else "; by seed: " + "; ".join(
            f"seed {seed} {a:.3f} -> {b:.3f}, change {r['change_by_seed'][seed]:.3f}"
            for seed, (a, b) in r["geo_mean_ratio_by_seed"].items())
        lines.append(f"- {split}: geometric mean ratio {r['geo_mean_ratio_small']:.3f} {on_before}, "
                     f"{r['geo_mean_ratio_large']:.3f} {on_after} (change {r['change']:.3f}{by_seed}); within 1.03 "
                     f"{on_after}: {len(r['within_1.03_large'])} of {len(keys)}; WER {on_after} over {on_before}: "
                     f"supernet {r['supernet_wer_change']:.3f}, twins {r['twin_wer_change']:.3f}.")  # fmt: skip
    if v.doubled:  # the largest has no twin here: its WER, for the record
        for seed in seeds:
            narrow, wide = supernet_wers(SMALL, small, seed), supernet_wers(record, large, seed)
            big = max(narrow, key=lambda s: [int(x) for x in re.findall(r"\d+", s)])
            if doubled(big) in wide:
                entry = {"narrow": narrow[big], "wide": wide[doubled(big)]}
                summary.setdefault("largest", {} if many else entry)
                if many:
                    summary["largest"][seed] = entry
                lines.append(f"- the supernet's largest{f', seed {seed}' if many else ''}, {big} -> {doubled(big)}: "
                             "WER " + ", ".join(f"{split} {narrow[big][split]:.2f} -> {wide[doubled(big)][split]:.2f}"
                                                for split in splits) + ".")  # fmt: skip
    if v.largest_twin:  # the largest against its own twin, each side (reported, not judged)
        summary["largest"] = {}
        for seed in seeds:
            pairs = {v.before: (supernet_wers(SMALL, small, seed), twin_wers(small, seed)),
                     v.after: (supernet_wers(record, large, seed), twin_wers(large, seed))}
            cells = []
            for side, (sup, twin) in pairs.items():
                if LARGEST in sup and LARGEST in twin and all(sp in twin[LARGEST] for sp in splits):
                    ratios = {split: sup[LARGEST][split] / twin[LARGEST][split] for split in splits}
                    summary["largest"].setdefault(seed, {})[side] = ratios
                    cells.append(f"{side} " + ", ".join(f"{split} {ratios[split]:.3f}" for split in splits))
                else:
                    cells.append(f"{side}: not read yet")
            lines.append(f"- the largest, {LARGEST}, to its twin{f' (seed {seed})' if many else ''}: "
                         + "; ".join(cells) + ".")
    for split in SPLITS:
        if split not in splits:
            lines.append(f"- {split}: not decoded yet on both sides (reruns.py --splits); not read.")
    change = summary["splits"]["test"]["change"]
    what = f"the {len(JUDGED)} subnets" + (f" x {len(seeds)} seeds" if many else "")
    line, verdict = judge(change, len(JUDGED), what, seeds=len(seeds))
    lines += ["", line]
    summary.update(verdict)
    if many:  # each seed alone, against one seed's thresholds (README.md: "Twice the width, seed 1")
        summary["by_seed"] = {}
        for seed, c in summary["splits"]["test"]["change_by_seed"].items():
            line, summary["by_seed"][seed] = judge(c, len(JUDGED), f"the {len(JUDGED)} subnets, seed {seed} alone")
            lines.append(line)
    text = "\n".join(lines)
    print(text)
    if args.record is not None:
        stem = args.record or v.stem.replace(f"seed{SEED}", ("seeds" if many else "seed") + "".join(seeds))
        write_reading(stem, text, summary)


if __name__ == "__main__":
    main()
