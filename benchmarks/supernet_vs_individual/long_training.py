"""Twice the steps, one seed: does the supernet / twin WER ratio shrink from 3,000 to 6,000 steps?

    .venv/bin/python benchmarks/supernet_vs_individual/long_training.py [--record]

Reads, beside this script (all made by ``reruns.py --record``, averaged reading: the mean
of the last five checkpoints up to the step):

- ``reruns-scale0.1.json``: the twins' seed-2 runs at 3,000 steps, as recorded (the runs
  that ``long_runs.sh twins`` continued, and that ``long_runs.sh extra`` trained again);
- ``reruns-scale0.1-long-at-3000.json``: the runs trained afresh (the supernet of
  ``long_runs.sh supernet``, recipe 3 seed 2, and the twins of ``long_runs.sh extra``) read
  at 3,000 steps;
- ``reruns-scale0.1-6000.json``: every run read at 6,000 steps.

For each subnet both records hold and each split: both sides' WER at 3,000 and 6,000
steps, and the ratio at each. The judged figure (README.md, "Twice the steps, one seed") is
the geometric mean ratio over the four subnets decided before the runs (``JUDGED``) on
``test``, at 6,000 over at 3,000; the same over every subnet read is reported beside it. Its
thresholds come from the seed noise of ``seed-noise-reruns-scale0.1-averaged.json``
(``SHIFT_SDS`` standard deviations of the change, the two readings taken as independent,
which overstates the noise of a change within one run, so it errs towards "no effect").
It also checks that each run trained afresh retraced the recorded seed-2 run to 3,000
steps (same WERs). ``--record`` writes ``long-training-seed2.md`` and ``.json`` here.

``--at-6000 reruns-scale0.1-9000.json --later-step 9000 --record long-training-9000-seed2``
reads "Three times the steps" the same way (the keys named ``6000`` then hold the 9,000-step
reading). ``--at-3000-supernet`` and ``--at-6000`` name other records (a check of the arithmetic:
``--at-3000-supernet reruns-scale0.1.json --at-6000 reruns-scale0.1.json`` reads the
recorded runs against themselves, a change of exactly 1.000).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import readings
from readings import geo_mean, read_reruns, write_reading
from seeds import SPLITS

HERE = Path(__file__).resolve().parent
LABEL = "recipe 3 (one random subnet per width)"
SEED = "2"
SHIFT_SDS = 2.0
READING = "averaged"
JUDGED = ("L2-D96-F384x2-H4x2", "L4-D96-F192x4-H2x4", "L4-D96-F288x4-H2x4", "L4-D64-F192x4-H2x4")


def supernet_wers(path: str, data: dict[str, Any], seed: str = SEED) -> dict[str, dict[str, float]]:
    return readings.supernet_wers(path, data, LABEL, seed, READING)


def twin_wers(data: dict[str, Any], seed: str = SEED) -> dict[str, dict[str, float]]:
    return {s: {split: seeds[seed][split][READING] for split in SPLITS if READING in seeds[seed].get(split, {})}
            for s, seeds in data["twins"].items() if seed in seeds}  # fmt: skip


def noise_sd(subnets: int) -> float:
    """Seed noise of the log geometric-mean ratio over ``subnets`` subnets of one supernet run
    against as many single-seed twins: the run's shared luck stays, the rest averages down."""
    sig = json.loads((HERE / "seed-noise-reruns-scale0.1-averaged.json").read_text())["sigmas_used"]
    return math.sqrt(sig["supernet_run"] ** 2 + (sig["supernet_own"] ** 2 + sig["twin"] ** 2) / subnets)


def change_of(subnets: list[str], r3: dict[str, float], r6: dict[str, float]) -> dict[str, float]:
    g3, g6 = geo_mean([r3[s] for s in subnets]), geo_mean([r6[s] for s in subnets])
    return {"geo_mean_ratio_3000": g3, "geo_mean_ratio_6000": g6, "change": g6 / g3}


def judge(change: float, subnets: int, what: str, seeds: int = 1) -> tuple[str, dict[str, Any]]:
    """The verdict on a change of the geometric mean ratio over ``subnets`` subnets (``what``
    names them) between two independent readings, averaged in log over ``seeds`` seeds whose
    changes are independent: its sentence, and its thresholds, log sd and verdict for the record."""
    sd = noise_sd(subnets) * math.sqrt(2 / seeds)
    low, high = math.exp(-SHIFT_SDS * sd), math.exp(SHIFT_SDS * sd)
    verdict = "shrinks" if change < low else "widens" if change > high else "no effect shown"
    line = (f"Judged (on `test`, {what}): the change {change:.3f} against the thresholds {low:.3f} and "
            f"{high:.3f} ({SHIFT_SDS:g} sd of a change, sd {sd:.4f} in log from seed noise): **{verdict}**.")
    return line, {"thresholds": [low, high], "log_sd_of_change": sd, "verdict": verdict}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--at-3000-supernet", default="reruns-scale0.1-long-at-3000.json")
    ap.add_argument("--at-6000", default="reruns-scale0.1-6000.json",
                    help="the record of the later reading (default: 6,000 steps)")
    ap.add_argument("--later-step", type=int, default=6000, help="the step --at-6000 was read at")
    ap.add_argument("--record", nargs="?", const="long-training-seed2", default=None, metavar="STEM",
                    help="write STEM.md and .json here (default stem: long-training-seed2)")
    args = ap.parse_args()
    recorded = read_reruns("reruns-scale0.1.json", 3000)
    later_step = 3000 if args.at_6000 == "reruns-scale0.1.json" else args.later_step
    at = f"{later_step:,}"
    title = {6000: "Twice the steps", 9000: "Three times the steps"}.get(later_step, f"{at} steps")
    later = read_reruns(args.at_6000, later_step)
    fresh = read_reruns(args.at_3000_supernet, 3000)
    s3, s6 = supernet_wers(args.at_3000_supernet, fresh), supernet_wers(args.at_6000, later)
    t3, t6 = twin_wers(recorded), twin_wers(later)
    subnets = [s for s in s6 if s in t6 and s in s3]
    missing = [s for s in JUDGED if s not in subnets]
    if missing:
        raise SystemExit(f"{HERE / args.at_6000}: no reading yet of {', '.join(missing)} on both sides")
    rec_s3 = supernet_wers("reruns-scale0.1.json", recorded)
    retraced = {f"supernet {s}": all(s3[s][sp] == rec_s3[s][sp] for sp in SPLITS) for s in subnets}
    t3_fresh = twin_wers(fresh)
    retraced |= {f"twin {s}": all(t3_fresh[s][sp] == t3[s][sp] for sp in SPLITS) for s in subnets if s in t3_fresh}

    lines = [f"# {title}, one seed: recipe 3 seed 2 against its seed-2 twins, {READING} reading", "",
             f"WER % at 3,000 -> {at} steps; ratio = supernet / twin; * a subnet judged "
             "(decided before the runs).", "",
             f"| subnet | split | supernet | twin | ratio at 3,000 | ratio at {at} |", "|---|---|---|---|---|---|"]  # fmt: skip
    summary: dict[str, Any] = {"judged": list(JUDGED), "subnets": subnets, "seed": int(SEED), "later_step": later_step,
                               "reading": READING, "splits": {}}  # fmt: skip
    for split in SPLITS:
        r3 = {s: s3[s][split] / t3[s][split] for s in subnets}
        r6 = {s: s6[s][split] / t6[s][split] for s in subnets}
        for s in subnets:
            mark = "*" if s in JUDGED else ""
            lines.append(f"| {s}{mark} | {split} | {s3[s][split]:.2f} -> {s6[s][split]:.2f} | "
                         f"{t3[s][split]:.2f} -> {t6[s][split]:.2f} | {r3[s]:.3f} | {r6[s]:.3f} |")  # fmt: skip
        summary["splits"][split] = {
            "ratio_3000": r3, "ratio_6000": r6,
            "judged": change_of(list(JUDGED), r3, r6), "all": change_of(subnets, r3, r6),
            "supernet_wer_change": geo_mean([s6[s][split] / s3[s][split] for s in subnets]),
            "twin_wer_change": geo_mean([t6[s][split] / t3[s][split] for s in subnets])}  # fmt: skip
    lines.append("")
    for split in SPLITS:
        v = summary["splits"][split]
        for group, members in (("judged", JUDGED), ("all", subnets)):
            g = v[group]
            lines.append(f"- {split}, {len(members)} subnets ({group}): geometric mean ratio "
                         f"{g['geo_mean_ratio_3000']:.3f} at 3,000, {g['geo_mean_ratio_6000']:.3f} at {at} "
                         f"(change {g['change']:.3f}).")  # fmt: skip
        lines.append(f"- {split}, WER at {at} over at 3,000, all {len(subnets)}: supernet "
                     f"{v['supernet_wer_change']:.3f}, twins {v['twin_wer_change']:.3f}.")  # fmt: skip
    change = summary["splits"]["test"]["judged"]["change"]
    line, verdict = judge(change, len(JUDGED), f"the {len(JUDGED)} judged subnets")
    lines += ["", line, "",
              "Retraced the recorded seed-2 run to 3,000 steps (same WERs on both splits), each run trained "
              "afresh: " + ", ".join(f"{s} {'yes' if ok else 'no'}" for s, ok in retraced.items()) + "."]  # fmt: skip
    summary.update({**verdict, "retraced": retraced})
    text = "\n".join(lines)
    print(text)
    if args.record:
        write_reading(args.record, text, summary)

if __name__ == "__main__":
    main()
