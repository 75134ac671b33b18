"""A one-factor recipe screen at 0.1: a changed recipe against recipe 3, paired by seed.

    .venv/bin/python benchmarks/supernet_vs_individual/recipe_screen.py spread [--record]    # recipe 8
    .venv/bin/python benchmarks/supernet_vs_individual/recipe_screen.py uniform [--record]   # recipe 9
    .venv/bin/python benchmarks/supernet_vs_individual/recipe_screen.py largest-half [--record]   # recipe 10
    .venv/bin/python benchmarks/supernet_vs_individual/recipe_screen.py private-norms [--record]  # recipe 11
    .venv/bin/python benchmarks/supernet_vs_individual/recipe_screen.py width96 [--record]  # recipe 12

Reads, beside this script (made by ``reruns.py --record``, step 3,000, the last five
checkpoints): ``reruns-scale0.1.json`` (the twins' three seeds and recipe 3's seeds) and the
screened recipe's record, made by ``recipe_screen_run.sh SCREEN SEED`` (``spread``: recipe 8,
spread depth, seed 2; ``uniform``: recipe 9, layer-uniform draws, seeds 1 and 2;
``largest-half``: recipe 10, the largest's loss at half weight, seeds 1 and 2;
``private-norms``: recipe 11, a LayerNorm pair per layer shape, seeds 1 and 2; ``width96``:
recipe 12, a diagnostic, no width-64 subnet in the space, seeds 1 and 2, its six width-96
subnets only).

The judged figure (README.md, each recipe's section, written before its result) is the
geometric mean, over the screen's judged subnets and seeds, of the screened recipe's WER over
recipe 3's of the same seed on ``test``, averaged reading. Its thresholds are ``SDS`` standard
deviations of that mean from seed noise (``seed-noise-reruns-scale0.1-averaged.json``), each
pair of runs taken as independent seeds, which overstates the noise of two runs that share
their first 1,200 steps, so it errs towards "no effect". Reported beside it, deciding
nothing: the same paired figure for the other groups of subnets, and each run's ratio to the
twins' three-seed mean WER (the ratio the target is about) with the count within 1.03.

``--record-file FILE --label LABEL`` reads another run in the screened recipe's place (a
check of the arithmetic: ``spread --record-file reruns-scale0.1.json --label "recipe 3 (one
random subnet per width)"`` reads recipe 3 against itself, 1.000 everywhere). ``--record``
writes the screen's ``.md`` and ``.json`` here.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readings import geo_mean, read_reruns, supernet_wers, write_reading
from seeds import SPLITS

HERE = Path(__file__).resolve().parent
BASE_LABEL = "recipe 3 (one random subnet per width)"
READING = "averaged"
TARGET = 1.03
SDS = 2.0
SHALLOW_96 = ("L2-D96-F384x2-H4x2", "L3-D96-F288x3-H4x3", "L3-D96-F384x3-H2x3")
DEEP_96 = ("L4-D96-F192x4-H2x4", "L4-D96-F288x4-H2x4")
WIDTH_64 = ("L2-D64-F192x2-H2x2", "L3-D64-F288x3-H2x3", "L4-D64-F384x4-H4x4", "L4-D64-F192x4-H2x4")
LARGEST = ("L4-D96-F384x4-H4x4",)


@dataclass(frozen=True)
class Screen:
    recipe: str  # "recipe 8"
    what: str  # "spread depth"
    record: str  # its reruns.py record, beside this script
    label: str  # its supernet label in that record
    seeds: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]  # the first is judged
    stem: str  # --record writes STEM.md and STEM.json
    judged_phrase: str  # what the judged subnets are, in the verdict's sentence

    @property
    def judged(self) -> tuple[str, ...]:
        return next(iter(self.groups.values()))


SCREENS = {
    "spread": Screen("recipe 8", "spread depth", "reruns-scale0.1-spread.json", "recipe 8 (recipe 3, spread depth)",
                     ("2",), {"judged: width 96, 2-3 layers": SHALLOW_96,
                              "width 64, 2-3 layers": WIDTH_64[:2],
                              "4 layers, below the largest": (*DEEP_96, *WIDTH_64[2:]),
                              "the largest": LARGEST}, "spread-depth-seed2", "width-96 subnets of 2-3 layers"),
    "uniform": Screen("recipe 9", "layer-uniform draws", "reruns-scale0.1-uniform.json",
                      "recipe 9 (recipe 3, layer-uniform draws)", ("1", "2"),
                      {"judged: width 96, below the largest": (*SHALLOW_96, *DEEP_96),
                       "width 64": WIDTH_64, "the largest": LARGEST}, "uniform-draws-seeds12",
                      "width-96 subnets below the largest"),
    "largest-half": Screen("recipe 10", "the largest at half weight", "reruns-scale0.1-largest-half.json",
                           "recipe 10 (recipe 3, the largest at half weight)", ("1", "2"),
                           {"judged: width 96, below the largest": (*SHALLOW_96, *DEEP_96),
                            "width 64": WIDTH_64, "the largest": LARGEST}, "largest-half-seeds12",
                           "width-96 subnets below the largest"),
    "private-norms": Screen("recipe 11", "private norms", "reruns-scale0.1-private-norms.json",
                            "recipe 11 (recipe 3, private norms)", ("1", "2"),
                            {"judged: width 96, below the largest": (*SHALLOW_96, *DEEP_96),
                             "width 64": WIDTH_64, "the largest": LARGEST}, "private-norms-seeds12",
                            "width-96 subnets below the largest"),
    "width96": Screen("recipe 12", "width 96 alone", "reruns-scale0.1-width96.json",
                      "recipe 12 (recipe 3, width 96 alone)", ("1", "2"),
                      {"judged: width 96, below the largest": (*SHALLOW_96, *DEEP_96), "the largest": LARGEST},
                      "width96-seeds12", "width-96 subnets below the largest"),
}  # fmt: skip


def twin_means(data: dict[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for s, seeds in data["twins"].items():
        if sorted(seeds) != ["0", "1", "2"]:
            raise SystemExit(f"{HERE / 'reruns-scale0.1.json'}: twin {s} has seeds {sorted(seeds)}, not 0, 1, 2")
        out[s] = {split: sum(seeds[k][split][READING] for k in seeds) / 3 for split in SPLITS}
    return out


def noise_sd(subnets: int, seeds: int = 1) -> float:
    """Log sd of a geometric-mean WER ratio over ``subnets`` subnets and ``seeds`` pairs of
    supernet runs, each pair taken as independent seeds: each run's shared luck, and each
    subnet's own, twice per pair, averaged over the pairs."""
    sig = json.loads((HERE / "seed-noise-reruns-scale0.1-averaged.json").read_text())["sigmas_used"]
    return math.sqrt(2 * (sig["supernet_run"] ** 2 + sig["supernet_own"] ** 2 / subnets) / seeds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("screen", choices=sorted(SCREENS))
    ap.add_argument("--record-file", help="the screened runs' record (default: the screen's own)")
    ap.add_argument("--label", help="their supernet label in it (default: the screen's own)")
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    sc = SCREENS[args.screen]
    record, label = args.record_file or sc.record, args.label or sc.label
    recorded = read_reruns("reruns-scale0.1.json", 3000)
    screened = read_reruns(record, 3000)
    base = {seed: supernet_wers("reruns-scale0.1.json", recorded, BASE_LABEL, seed, READING) for seed in sc.seeds}
    new = {seed: supernet_wers(record, screened, label, seed, READING) for seed in sc.seeds}
    twins = twin_means(recorded)
    subnets = [s for group in sc.groups.values() for s in group]
    for seed in sc.seeds:
        missing = [s for s in subnets if s not in new[seed] or s not in base[seed] or s not in twins]
        if missing:
            raise SystemExit(f"{HERE / record}: seed {seed}: no reading of {', '.join(missing)} on every side")

    name, short, key = sc.recipe.capitalize(), sc.recipe, sc.recipe.replace(" ", "")
    many = len(sc.seeds) > 1
    lines = [f"# {name} ({sc.what}) against recipe 3, seed{'s' if many else ''} {' and '.join(sc.seeds)}, "
             f"{READING} reading, step 3,000", "",
             f"WER %; paired = {short} / recipe 3{' of the same seed' if many else ''}; to twins = the run's WER "
             "over the twins' three-seed mean WER; * judged (decided before the run).", "",
             f"| subnet | split |{' seed |' if many else ''} twins (3 seeds) | recipe 3 | {short} | paired | "
             f"recipe 3 to twins | {short} to twins |", "|---|---|" + ("---|" if many else "") + "---|---|---|---|---|---|"]  # fmt: skip
    seeds: Any = [int(s) for s in sc.seeds] if many else int(sc.seeds[0])
    summary: dict[str, Any] = {"seeds" if many else "seed": seeds, "reading": READING, "judged": list(sc.judged),
                               f"{args.screen}_record": record, f"{args.screen}_label": label, "splits": {}}  # fmt: skip
    for split in SPLITS:
        paired = {seed: {s: new[seed][s][split] / base[seed][s][split] for s in subnets} for seed in sc.seeds}
        to_twin_3 = {seed: {s: base[seed][s][split] / twins[s][split] for s in subnets} for seed in sc.seeds}
        to_twin_new = {seed: {s: new[seed][s][split] / twins[s][split] for s in subnets} for seed in sc.seeds}
        for s in subnets:
            for seed in sc.seeds:
                mark = "*" if s in sc.judged else ""
                lines.append(f"| {s}{mark} | {split} |{f' {seed} |' if many else ''} {twins[s][split]:.2f} | "
                             f"{base[seed][s][split]:.2f} | {new[seed][s][split]:.2f} | {paired[seed][s]:.3f} | "
                             f"{to_twin_3[seed][s]:.3f} | {to_twin_new[seed][s]:.3f} |")  # fmt: skip
        summary["splits"][split] = {
            "paired": paired, "recipe3_to_twins": to_twin_3, f"{key}_to_twins": to_twin_new,
            "paired_geo_mean": {g: geo_mean([paired[seed][s] for seed in sc.seeds for s in members])
                                for g, members in sc.groups.items()},
            "judged_to_twins_geo_mean": {"recipe 3": geo_mean([to_twin_3[seed][s] for seed in sc.seeds for s in sc.judged]),
                                         short: geo_mean([to_twin_new[seed][s] for seed in sc.seeds for s in sc.judged])},
            "within_target": {"recipe 3": sum(v <= TARGET for seed in sc.seeds for v in to_twin_3[seed].values()),
                              short: sum(v <= TARGET for seed in sc.seeds for v in to_twin_new[seed].values())}}  # fmt: skip
        if not many:  # the one-seed record as recipe 8's was first written
            v = summary["splits"][split]
            for k in ("paired", "recipe3_to_twins", f"{key}_to_twins"):
                v[k] = v[k][sc.seeds[0]]
    lines.append("")
    total = len(subnets) * len(sc.seeds)
    for split in SPLITS:
        v = summary["splits"][split]
        groups = "; ".join(f"{g} {m:.3f}" for g, m in v["paired_geo_mean"].items())
        to_twins = ", ".join(f"{r} {m:.3f}" for r, m in v["judged_to_twins_geo_mean"].items())
        lines.append(f"- {split}: paired geometric mean, {groups}. Within {TARGET} of the twins: recipe 3 "
                     f"{v['within_target']['recipe 3']} of {total}, {short} {v['within_target'][short]} of {total}. "
                     f"The judged subnets to the twins, geometric mean: {to_twins}.")  # fmt: skip
    sd = noise_sd(len(sc.judged), len(sc.seeds))
    low, high = math.exp(-SDS * sd), math.exp(SDS * sd)
    group = next(iter(sc.groups))
    judged = summary["splits"]["test"]["paired_geo_mean"][group]
    verdict = "helps" if judged < low else "hurts" if judged > high else "no effect shown"
    lines += ["", f"Judged (on `test`, the {len(sc.judged)} {sc.judged_phrase}"
              f"{f', {len(sc.seeds)} seeds' if many else ''}): {short} over recipe 3 {judged:.3f} against the "
              f"thresholds {low:.3f} and {high:.3f} ({SDS:g} sd, sd {sd:.4f} in log from seed noise): **{verdict}**."]  # fmt: skip
    summary.update({"judged_paired": judged, "thresholds": [low, high], "log_sd": sd, "verdict": verdict})
    text = "\n".join(lines)
    print(text)
    if args.record:
        write_reading(sc.stem, text, summary)


if __name__ == "__main__":
    main()
