"""The WER target judged against two-seed twins: every supernet run over the mean of its twin's two seeds.

    .venv/bin/python benchmarks/supernet_vs_individual/two_seed_twins.py [--record]

For each recipe's supernet runs (``RECIPES``), each subnet and test split: the supernet
subnet's WER over the mean WER of its twin's two seeds (``exp/svi-cpu-3000`` and
``exp/svi-cpu-twin-seed1``), from the word errors kept beside each checkpoint (summed, so
nothing is rounded), with a 95% paired-bootstrap interval over the test utterances.
Then each recipe's verdict by the rule written down in README.md before the twins'
second seeds were all in:

- a recipe with two supernet seeds meets the target if (a) the mean of its seeds is within
  the target of the twin mean in every comparison, and (b) each seed alone misses at most
  one comparison, and none beyond doubt (interval wholly above the target);
- a recipe with one supernet seed is out if it misses any comparison; if it misses none,
  it waits for a second seed, to be judged as in the first case.

A comparison is final once its twin has both seeds; until every twin has, a recipe is
decided only if its final comparisons already break the rule, else it is pending.
``--record`` writes ``result-two-seed-twins.md`` and ``.json`` beside this script.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from seeds import SPLITS
from twin_seed import EXP, TWINS, errors, eval_name, has_second_seed, summed

from todm.runtime.scoring import RatioInterval, UtteranceErrors, paired_bootstrap_ratio

HERE = Path(__file__).resolve().parent
TARGET = 1.03
# FOUR then SIX, as in README.md
SUBNETS = ["L2-D64-F192x2-H2x2", "L3-D64-F288x3-H2x3", "L3-D96-F288x3-H4x3", "L4-D96-F384x4-H4x4",
           "L4-D64-F384x4-H4x4", "L3-D96-F384x3-H2x3", "L4-D96-F192x4-H2x4", "L4-D96-F288x4-H2x4",
           "L2-D96-F384x2-H4x2", "L4-D64-F192x4-H2x4"]  # fmt: skip
# each recipe's supernet runs, one per seed: the experiment directories of run.py
RECIPES = {
    "recipe 1 (uniform draws)": [EXP / "svi-cpu-3000"],
    "recipe 2 (delayed shrinking, width-weighted draws)": [
        EXP / "svi-cpu-deps",
        EXP / "svi-cpu-deps-seed1",
    ],
    "recipe 3 (one random subnet per width)": [EXP / "svi-cpu-strat"],
    "recipe 4 (recipe 3, channels sorted as the sandwich starts)": [EXP / "svi-cpu-sort"],
    "recipe 5 (recipe 3 without distillation)": [EXP / "svi-cpu-nokd"],
}


@dataclass
class Comparison:
    subnet: str
    split: str
    final: bool  # the twin has both seeds
    twin_wer: float  # mean of the twin's seeds (seed 0 alone while the second is missing)
    supernet_wer: list[float]  # one per supernet seed
    per_seed: list[RatioInterval]
    mean: RatioInterval  # the supernet seeds' mean over the twin's


def repeated(errs: list[UtteranceErrors], times: int) -> list[UtteranceErrors]:
    """One run's errors counted ``times`` times: its WER over the mean of ``times`` summed runs."""
    out = errs
    for _ in range(times - 1):
        out = summed(out, errs)
    return out


def compare(runs: list[Path], subnet: str, split: str) -> Comparison:
    name = eval_name(subnet, split)
    twin_runs = [errors(TWINS[0] / f"individual-{subnet}" / name, subnet)]
    final = has_second_seed(subnet)
    if final:
        twin_runs.append(errors(TWINS[1] / f"individual-{subnet}" / name, subnet))
    twin = twin_runs[0][1] if len(twin_runs) == 1 else summed(twin_runs[0][1], twin_runs[1][1])
    sups = [errors(run / "supernet" / name, subnet) for run in runs]
    n_twin, n_sup = len(twin_runs), len(sups)
    # a / b with a counted n_twin times and b n_sup times puts both sides on the same footing
    per_seed = [paired_bootstrap_ratio(repeated(e, n_twin), twin) for _, e in sups]
    sup_sum = sups[0][1]
    for _, e in sups[1:]:
        sup_sum = summed(sup_sum, e)
    mean = paired_bootstrap_ratio(repeated(sup_sum, n_twin), repeated(twin, n_sup))
    return Comparison(
        subnet,
        split,
        final,
        sum(w for w, _ in twin_runs) / n_twin,
        [w for w, _ in sups],
        per_seed,
        mean,
    )


def verdict(comparisons: list[Comparison], seeds: int) -> str:
    final = [c for c in comparisons if c.final]
    if seeds >= 2:
        broken = [c for c in final if c.mean.ratio > TARGET]
        for i in range(seeds):
            misses = [c for c in final if c.per_seed[i].ratio > TARGET]
            if len(misses) > 1 or any(c.per_seed[i].low > TARGET for c in misses):
                broken += [c for c in misses if c not in broken]
    else:
        broken = [c for c in final if c.per_seed[0].ratio > TARGET]
    if broken:
        which = ", ".join(f"{c.subnet} on {c.split}" for c in broken)
        return f"not met: {which} break the rule against two-seed twins"
    if len(final) < len(comparisons):
        return (
            f"pending: {len(final)} of {len(comparisons)} comparisons final, none breaks the rule"
        )
    return "met" if seeds >= 2 else "no miss; needs a second supernet seed (judged as recipe 2)"


def report() -> tuple[list[str], dict]:
    twins_done = [s for s in SUBNETS if has_second_seed(s)]
    lines = [f"Twins with both seeds: {len(twins_done)} of {len(SUBNETS)}. Ratio: supernet WER over the mean "
             f"of its twin's two seeds (a twin without its second seed: over its first, marked *); target {TARGET}.",
             ""]  # fmt: skip
    record: dict = {"target": TARGET, "twins_with_two_seeds": twins_done, "recipes": {}}
    for recipe, runs in RECIPES.items():
        comps = [compare(runs, s, split) for s in SUBNETS for split in SPLITS]
        v = verdict(comps, len(runs))
        met = sum(c.mean.ratio <= TARGET for c in comps)
        lines += [f"### {recipe}: {v}", "",
                  f"Supernet runs: {', '.join(str(r) for r in runs)}; within {TARGET}: {met} of {len(comps)}"
                  + (" (mean of the seeds)." if len(runs) > 1 else "."), ""]  # fmt: skip
        seed_cols = (
            [f"seed {i}: WER, ratio" for i in range(len(runs))]
            if len(runs) > 1
            else ["supernet WER, ratio"]
        )
        head = ["subnet", "split", "twin WER", *seed_cols] + (
            ["ratio of means"] if len(runs) > 1 else []
        )
        lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * 2 + " ---: |" * (len(head) - 2)]
        for c in comps:
            cells = [f"{w:.1f}, {fmt(iv)}" for w, iv in zip(c.supernet_wer, c.per_seed)]
            if len(runs) > 1:
                cells.append(fmt(c.mean))
            lines.append(
                f"| {c.subnet} | {c.split} | {c.twin_wer:.1f}{'' if c.final else '*'} | "
                + " | ".join(cells)
                + " |"
            )
        lines.append("")
        record["recipes"][recipe] = {"runs": [str(r) for r in runs], "verdict": v, "within_target": met,
                                     "comparisons": [asdict(c) for c in comps]}  # fmt: skip
    return lines, record


def fmt(iv: RatioInterval) -> str:
    text = f"{iv.ratio:.3f} [{iv.low:.2f}, {iv.high:.2f}]"
    return f"**{text}**" if iv.ratio > TARGET else text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--record",
        action="store_true",
        help="write result-two-seed-twins.{md,json} beside this script",
    )
    args = ap.parse_args()
    lines, record = report()
    print("\n".join(lines))
    if args.record:
        (HERE / "result-two-seed-twins.md").write_text("\n".join(lines))
        (HERE / "result-two-seed-twins.json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
