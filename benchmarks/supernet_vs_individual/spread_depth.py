"""Recipe 8 (spread depth), seed 2, against recipe 3 seed 2 and the three-seed twins, at 0.1.

    .venv/bin/python benchmarks/supernet_vs_individual/spread_depth.py [--record]

Reads, beside this script (made by ``reruns.py --record``, step 3,000, the last five
checkpoints): ``reruns-scale0.1.json`` (the twins' three seeds and recipe 3 seed 2) and
``reruns-scale0.1-spread.json`` (recipe 8 seed 2, made by ``spread_depth_run.sh``).

The judged figure (README.md, "Recipe 8: spread depth") is the geometric mean, over the three
width-96 subnets shallower than the largest (``JUDGED``), of recipe 8's WER over recipe 3's on
``test``, averaged reading. Its thresholds are ``SDS`` standard deviations of that mean from
seed noise (``seed-noise-reruns-scale0.1-averaged.json``), the two runs taken as independent
seeds, which overstates the noise of two runs that share their first 1,200 steps, so it errs
towards "no effect". Reported beside it, deciding nothing: the same paired figure for the
other groups of subnets, and each run's ratio to the twins' three-seed mean WER (the ratio
the target is about) with the count within 1.03.

``--spread FILE --label LABEL`` reads another run in recipe 8's place (a check of the
arithmetic: ``--spread reruns-scale0.1.json --label "recipe 3 (one random subnet per width)"``
reads recipe 3 against itself, 1.000 everywhere). ``--record`` writes
``spread-depth-seed2.md`` and ``.json`` here.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from readings import geo_mean, read_reruns, supernet_wers, write_reading
from seeds import SPLITS

HERE = Path(__file__).resolve().parent
BASE_LABEL = "recipe 3 (one random subnet per width)"
SPREAD_LABEL = "recipe 8 (recipe 3, spread depth)"
SEED = "2"
READING = "averaged"
TARGET = 1.03
SDS = 2.0
JUDGED = ("L2-D96-F384x2-H4x2", "L3-D96-F288x3-H4x3", "L3-D96-F384x3-H2x3")
GROUPS = {
    "judged: width 96, 2-3 layers": JUDGED,
    "width 64, 2-3 layers": ("L2-D64-F192x2-H2x2", "L3-D64-F288x3-H2x3"),
    "4 layers, below the largest": ("L4-D96-F192x4-H2x4", "L4-D96-F288x4-H2x4", "L4-D64-F384x4-H4x4",
                                    "L4-D64-F192x4-H2x4"),
    "the largest": ("L4-D96-F384x4-H4x4",),
}


def twin_means(data: dict[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for s, seeds in data["twins"].items():
        if sorted(seeds) != ["0", "1", "2"]:
            raise SystemExit(f"{HERE / 'reruns-scale0.1.json'}: twin {s} has seeds {sorted(seeds)}, not 0, 1, 2")
        out[s] = {split: sum(seeds[k][split][READING] for k in seeds) / 3 for split in SPLITS}
    return out


def noise_sd(subnets: int) -> float:
    """Log sd of a geometric-mean WER ratio over ``subnets`` subnets between two supernet runs
    taken as independent seeds: each run's shared luck, and each subnet's own, twice."""
    sig = json.loads((HERE / "seed-noise-reruns-scale0.1-averaged.json").read_text())["sigmas_used"]
    return math.sqrt(2 * (sig["supernet_run"] ** 2 + sig["supernet_own"] ** 2 / subnets))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spread", default="reruns-scale0.1-spread.json")
    ap.add_argument("--label", default=SPREAD_LABEL)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    recorded = read_reruns("reruns-scale0.1.json", 3000)
    base = supernet_wers("reruns-scale0.1.json", recorded, BASE_LABEL, SEED, READING)
    spread = supernet_wers(args.spread, read_reruns(args.spread, 3000), args.label, SEED, READING)
    twins = twin_means(recorded)
    subnets = [s for group in GROUPS.values() for s in group]
    missing = [s for s in subnets if s not in spread or s not in base or s not in twins]
    if missing:
        raise SystemExit(f"{HERE / args.spread}: no reading of {', '.join(missing)} on every side")

    lines = [f"# Recipe 8 (spread depth) against recipe 3, seed 2, {READING} reading, step 3,000", "",
             "WER %; paired = recipe 8 / recipe 3; to twins = the run's WER over the twins' three-seed "
             "mean WER; * judged (decided before the run).", "",
             "| subnet | split | twins (3 seeds) | recipe 3 | recipe 8 | paired | recipe 3 to twins | "
             "recipe 8 to twins |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    summary: dict[str, Any] = {"seed": int(SEED), "reading": READING, "judged": list(JUDGED),
                               "spread_record": args.spread, "spread_label": args.label, "splits": {}}  # fmt: skip
    for split in SPLITS:
        paired = {s: spread[s][split] / base[s][split] for s in subnets}
        to_twin_3 = {s: base[s][split] / twins[s][split] for s in subnets}
        to_twin_8 = {s: spread[s][split] / twins[s][split] for s in subnets}
        for s in subnets:
            mark = "*" if s in JUDGED else ""
            lines.append(f"| {s}{mark} | {split} | {twins[s][split]:.2f} | {base[s][split]:.2f} | "
                         f"{spread[s][split]:.2f} | {paired[s]:.3f} | {to_twin_3[s]:.3f} | {to_twin_8[s]:.3f} |")  # fmt: skip
        summary["splits"][split] = {
            "paired": paired, "recipe3_to_twins": to_twin_3, "recipe8_to_twins": to_twin_8,
            "paired_geo_mean": {g: geo_mean([paired[s] for s in members]) for g, members in GROUPS.items()},
            "within_target": {"recipe 3": sum(v <= TARGET for v in to_twin_3.values()),
                              "recipe 8": sum(v <= TARGET for v in to_twin_8.values())}}  # fmt: skip
    lines.append("")
    for split in SPLITS:
        v = summary["splits"][split]
        groups = "; ".join(f"{g} {m:.3f}" for g, m in v["paired_geo_mean"].items())
        lines.append(f"- {split}: paired geometric mean, {groups}. Within {TARGET} of the twins: recipe 3 "
                     f"{v['within_target']['recipe 3']} of {len(subnets)}, recipe 8 "
                     f"{v['within_target']['recipe 8']} of {len(subnets)}.")  # fmt: skip
    sd = noise_sd(len(JUDGED))
    low, high = math.exp(-SDS * sd), math.exp(SDS * sd)
    judged = summary["splits"]["test"]["paired_geo_mean"]["judged: width 96, 2-3 layers"]
    verdict = "helps" if judged < low else "hurts" if judged > high else "no effect shown"
    lines += ["", f"Judged (on `test`, the {len(JUDGED)} width-96 subnets of 2-3 layers): recipe 8 over recipe 3 "
              f"{judged:.3f} against the thresholds {low:.3f} and {high:.3f} ({SDS:g} sd, sd {sd:.4f} in log "
              f"from seed noise): **{verdict}**."]  # fmt: skip
    summary.update({"judged_paired": judged, "thresholds": [low, high], "log_sd": sd, "verdict": verdict})
    text = "\n".join(lines)
    print(text)
    if args.record:
        write_reading("spread-depth-seed2", text, summary)

if __name__ == "__main__":
    main()
