"""How much a training seed moves WER here, and what that means for judging a 3% target.

    .venv/bin/python benchmarks/supernet_vs_individual/seed_noise.py [--record]
    .venv/bin/python benchmarks/supernet_vs_individual/seed_noise.py --reruns averaged|final \
        [--reruns-file reruns-scale0.1.json] [--record]

Reads only committed files: every twin's WER by seed (``twin-seeds.json``, written by
``twin_seed.py --record``) and each supernet run's record (``RECORDS``); with ``--reruns``, the
runs that kept their checkpoints instead (``reruns.json``, written by ``reruns.py --record``),
each read at its last step's checkpoint or as the mean of its last ones. Prints:

1. the seed noise: the standard deviation sigma of one run's log WER across training seeds,
   from the seeds this benchmark has, for the twins (those with two seeds or more) and
   for the supernet's subnets (each recipe with two seeds or more), each with a 95%
   interval, and the correlation of a seed's luck between the two test splits. A supernet
   seed's luck is split further, over all those recipes, into the part its subnets share
   (one run trains them all) and the part each has alone;
2. the power of the first rule written down in README.md (two-seed twins; a two-seed recipe must
   be within the target in all 20 comparisons on average and each seed may miss one; a
   one-seed recipe may miss none): the chance that a supernet whose subnets are exactly as
   good as their twins, or 1-2% better or worse, passes it when runs vary so; and how
   many seeds per side a plain "all 20 within the target" rule needs to pass such a
   supernet 8 times in 10. The "none beyond doubt" clause is left out, so the chances are
   upper bounds;
3. each recipe's comparisons against the twins' seed mean (over the seeds every twin has),
   with intervals that carry the seed noise of both sides (not only the test sentences'
   luck, which the paired bootstrap of ``two_seed_twins.py`` measures), the recipe's
   mean ratio over all 20, the verdict of README.md's rule in force (three seeds a side,
   all 20 means within the target), and the mean ratio of each model width's subnets
   below the largest, with the gap between the widest and the narrowest; for a recipe with
   two seeds or more, each seed's mean ratio over the subnets; and, for each seed's run,
   two contrasts inside it (the width gap, and the subnet that lags the run's own mean most).

Assumes one run's log WER = the subnet's and method's true value + seed noise: for a twin
of one sigma, independent between twins; for a supernet subnet, a part shared by every
subnet of the run on that split plus a part of its own. A subnet's (or twin's) own parts on
the two splits correlate as the pooled estimate says (taken as 0 if negative). ``--record``
writes ``seed-noise.md`` and ``seed-noise.json`` beside this script.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from recipes import width
from seeds import SPLITS, load

HERE = Path(__file__).resolve().parent
TARGET = 1.03
RULE_SEEDS = 3  # seeds a side that README.md's rule judges by
VOCAB = 30  # characters in corpora/open-2h's tokenizer: the vocabulary every recorded run had
# each recipe's supernet runs, one run.py record per seed (reported against the twins' seed 0 runs
# in exp/svi-cpu-3000, or against the seed run.py --twins-from names)
RECORDS = {
    "recipe 1 (uniform draws)": ["result-uniform-draws.json"],
    "recipe 2 (delayed shrinking, width-weighted draws)": ["result.json", "result-seed1.json", "result-seed2.json"],
    "recipe 3 (one random subnet per width)": ["result-per-width.json", "result-per-width-seed1.json", "result-per-width-seed2.json"],
    "recipe 4 (recipe 3, channels sorted as the sandwich starts)": ["result-sorted.json"],
    "recipe 5 (recipe 3 without distillation)": ["result-no-kd.json"],
    "recipe 6 (recipe 3, each width's smallest at the bottom in turn)": ["result-bottoms.json"],
    "recipe 7 (recipe 3's four subnets a step, width 96 drawn three times in four)": ["result-wide-draws.json"],
}
SIMULATIONS = 20000
Z95 = 1.959964


@dataclass
class Noise:
    sigma: float  # sd of one run's log WER over seeds
    low: float
    high: float
    dof: int  # degrees of freedom behind it: (seeds - 1) x splits, summed over subnets
    split_correlation: float  # of seed 1's log ratio over seed 0 between the two splits


def seed_groups(twins: dict[str, Any], records: dict[str, list[dict[str, Any]]]) -> dict[str, list[np.ndarray]]:
    """Log WERs, one array (seeds x splits) per subnet with two seeds or more: twins, and recipes with two seeds."""
    out = {"twins": [np.log([[seed[sp]["wer"] for sp in SPLITS] for seed in seeds.values()])
                     for seeds in twins.values() if len(seeds) > 1]}  # fmt: skip
    for label, recs in records.items():
        if len(recs) > 1:
            rows = [{r["subnet"]: r for r in rec["rows"]} for rec in recs]
            out[f"supernet {label}"] = [np.log([[by[s][f"supernet_{sp}_wer"] for sp in SPLITS] for by in rows])
                                        for s in rows[0]]  # fmt: skip
    return out


def pooled_squares(groups: list[np.ndarray]) -> tuple[float, int]:
    """Sum of squared deviations from each group's seed mean (axis 0: seeds), and its degrees of freedom."""
    ss = sum(float(np.sum((g - g.mean(axis=0)) ** 2)) for g in groups)
    dof = sum((g.shape[0] - 1) * int(np.prod(g.shape[1:])) for g in groups)
    return ss, dof


def noise(groups: list[np.ndarray], rng: np.random.Generator) -> Noise:
    """Pooled within-subnet sd over seeds, with a chi-square interval."""
    ss, dof = pooled_squares(groups)
    chi = rng.chisquare(dof, size=200000)
    hi_q, lo_q = np.quantile(chi, [0.975, 0.025])
    diffs = np.array([g[1] - g[0] for g in groups])
    corr = float(np.corrcoef(diffs[:, 0], diffs[:, 1])[0, 1]) if len(diffs) > 2 else float("nan")
    return Noise(math.sqrt(ss / dof), math.sqrt(ss / hi_q), math.sqrt(ss / lo_q), dof, corr)


def draws(rng: np.random.Generator, sigma: float, rho: float, runs: int, subnets: int) -> np.ndarray:
    """Seed noise of ``runs`` runs on ``subnets`` subnets x 2 splits, correlated between splits: sims x runs x subnets x 2."""
    z = rng.standard_normal((SIMULATIONS, runs, subnets, 2))
    z[..., 1] = rho * z[..., 0] + math.sqrt(1 - rho**2) * z[..., 1]
    return sigma * z


@dataclass
class Sigmas:
    twin: float
    supernet_run: float  # shared by all subnets of one supernet run, on one split
    supernet_own: float  # each subnet's own
    rho: float  # correlation of a subnet's own luck between the splits

    @property
    def supernet(self) -> float:
        return math.hypot(self.supernet_run, self.supernet_own)


def supernet_parts(groups: list[list[np.ndarray]]) -> tuple[float, float]:
    """(shared, own) sigma from every recipe with two seeds or more; each recipe's groups are
    one array (seeds x splits) per subnet.

    Per recipe and split, log WER = subnet mean + the seed's shared luck + the subnet's own: a
    two-way layout without replication. The seed-by-subnet interaction mean square estimates
    own^2; the seeds' mean square over their means across S subnets estimates
    S shared^2 + own^2. Both pooled over recipes and splits by their degrees of freedom."""
    own_ss = own_dof = seed_ss = seed_dof = 0.0
    subnets_weighted = 0.0
    for recipe in groups:
        x = np.stack(recipe, axis=1)  # seeds x subnets x splits
        seeds, subnets = x.shape[0], x.shape[1]
        r = x - x.mean(axis=0, keepdims=True)
        seed_mean = r.mean(axis=1, keepdims=True)
        own_ss += float(np.sum((r - seed_mean) ** 2))
        own_dof += (seeds - 1) * (subnets - 1) * x.shape[2]
        seed_ss += subnets * float(np.sum(seed_mean**2))
        seed_dof += (seeds - 1) * x.shape[2]
        subnets_weighted += subnets * (seeds - 1) * x.shape[2]
    own2 = own_ss / own_dof
    shared2 = max((seed_ss / seed_dof - own2) / (subnets_weighted / seed_dof), 0.0)
    return math.sqrt(shared2), math.sqrt(own2)


def supernet_draws(rng: np.random.Generator, sig: Sigmas, runs: int, subnets: int) -> np.ndarray:
    shared = draws(rng, sig.supernet_run, 0.0, runs, 1)
    return shared + draws(rng, sig.supernet_own, sig.rho, runs, subnets)


def pass_chances(rng: np.random.Generator, sig: Sigmas, subnets: int, true_ratio: float) -> dict[str, float]:
    """Chance of passing README.md's rule (two-seed twins), for a two-seed and a one-seed recipe."""
    twin = np.exp(draws(rng, sig.twin, sig.rho, 2, subnets)).mean(axis=1)
    sup = true_ratio * np.exp(supernet_draws(rng, sig, 2, subnets))
    per_seed = sup / twin[:, None]
    mean_ok = (sup.mean(axis=1) / twin <= TARGET).all(axis=(1, 2))
    seeds_ok = ((per_seed > TARGET).sum(axis=(2, 3)) <= 1).all(axis=1)
    return {"two_seed_recipe": float(np.mean(mean_ok & seeds_ok)),
            "one_seed_recipe": float(np.mean((per_seed[:, 0] <= TARGET).all(axis=(1, 2))))}  # fmt: skip


PLAIN_RULE_RATIOS = (1.0, 1.01, 1.02)


def seeds_needed(rng: np.random.Generator, sig: Sigmas, subnets: int) -> dict[int, list[float]]:
    """Chance that a supernet of each true ratio (PLAIN_RULE_RATIOS) has every mean-over-n-seeds ratio within the target."""
    out = {}
    for n in (1, 2, 3, 4, 6, 8):
        twin = np.exp(draws(rng, sig.twin, sig.rho, n, subnets)).mean(axis=1)
        sup = np.exp(supernet_draws(rng, sig, n, subnets)).mean(axis=1)
        out[n] = [float(np.mean((r * sup / twin <= TARGET).all(axis=(1, 2)))) for r in PLAIN_RULE_RATIOS]
    return out


@dataclass
class Comparison:
    subnet: str
    split: str
    supernet_seeds: int
    twin_seeds: int
    ratio: float  # supernet seed-mean WER over twin seed-mean WER
    per_seed: list[float]  # each supernet seed's WER over the twin seed mean
    low: float  # 95% interval from seed noise of both sides
    high: float


def comparisons(recs: list[dict[str, Any]], twins: dict[str, Any], sig: Sigmas) -> list[Comparison]:
    """Each subnet and split against its twin's mean over the seeds that every twin has: a
    seed that only some twins have yet would make the comparisons unequal (README.md)."""
    common = min(len(seeds) for seeds in twins.values())
    # the twins' seed each record was reported against: run.py --twins-from names it, else seed 0's runs
    reported = [str(rec.get("twins_from", {}).get("seed", 0)) for rec in recs]
    out = []
    for row0 in recs[0]["rows"]:
        subnet = row0["subnet"]
        rows = [next(r for r in rec["rows"] if r["subnet"] == subnet) for rec in recs]
        for split in SPLITS:
            sup = float(np.mean([r[f"supernet_{split}_wer"] for r in rows]))
            twin_wers = [seed[split]["wer"] for seed in list(twins[subnet].values())[:common]]
            for seed, r in zip(reported, rows):
                kept = twins[subnet].get(seed, {}).get(split, {}).get("wer")
                if kept != r[f"individual_{split}_wer"]:
                    raise SystemExit(f"twin-seeds.json: {subnet}'s seed {seed} scores {kept} on {split}, a record "
                                     f"{r[f'individual_{split}_wer']}: compare one set of twins")  # fmt: skip
            twin = float(np.mean(twin_wers))
            ratio = sup / twin
            half = Z95 * math.sqrt(sig.supernet**2 / len(rows) + sig.twin**2 / len(twin_wers))
            out.append(Comparison(subnet, split, len(rows), len(twin_wers), ratio,
                                  [r[f"supernet_{split}_wer"] / twin for r in rows],
                                  ratio * math.exp(-half), ratio * math.exp(half)))  # fmt: skip
    return out


def rule_verdict(cs: list[Comparison]) -> str:
    """README.md's rule ("Next", since every twin had two seeds), on the point ratios: the mean of
    three supernet seeds within 1.03 of the mean of three seeds of each twin, in every comparison."""
    misses = [f"{c.subnet} {c.split} {c.ratio:.3f}" for c in cs if c.ratio > TARGET]
    if cs[0].supernet_seeds >= RULE_SEEDS and cs[0].twin_seeds >= RULE_SEEDS:
        return "not met: " + ", ".join(misses) if misses else "met"
    return (f"undecided ({cs[0].supernet_seeds} supernet and {cs[0].twin_seeds} twin seed(s) of the {RULE_SEEDS} "
            f"a side it asks); above 1.03 so far: " + (", ".join(misses) or "none"))  # fmt: skip


def seed_means(cs: list[Comparison]) -> dict[str, list[float]]:
    """Per split, each supernet seed's geometric mean ratio over the subnets: how far a seed's
    luck moves all of its subnets at once."""
    return {split: [math.exp(float(np.mean([math.log(c.per_seed[i]) for c in cs if c.split == split])))
                    for i in range(cs[0].supernet_seeds)] for split in SPLITS}  # fmt: skip


def mean_ratio(cs: list[Comparison], sig: Sigmas) -> tuple[float, float, float]:
    """Geometric mean ratio over the comparisons (subnet by subnet, both splits of each in turn); its
    interval from seed noise: the supernet run's shared luck does not average out over subnets."""
    logs = [math.log(c.ratio) for c in cs]
    var_each = [sig.supernet_own**2 / c.supernet_seeds + sig.twin**2 / c.twin_seeds for c in cs]
    var = (sum(var_each) + 2 * sig.rho * sum(var_each[i] for i in range(0, len(cs), 2))) / len(cs) ** 2
    var += sig.supernet_run**2 / cs[0].supernet_seeds / len(SPLITS)
    m, half = sum(logs) / len(logs), Z95 * math.sqrt(var)
    return math.exp(m), math.exp(m - half), math.exp(m + half)


def width_means(cs: list[Comparison], largest: str) -> dict[str, dict[str, float]]:
    """Per split: the mean ratio of each model width's subnets other than the largest, and the
    widest width's mean minus the narrowest's (recipe 6's reading in README.md)."""
    out: dict[str, dict[str, float]] = {}
    for split in SPLITS:
        by_width: dict[int, list[float]] = {}
        for c in cs:
            if c.split == split and c.subnet != largest:
                by_width.setdefault(width(c.subnet), []).append(c.ratio)
        means = {w: float(np.mean(r)) for w, r in sorted(by_width.items())}
        out[split] = {**{str(w): m for w, m in means.items()}, "gap": means[max(means)] - means[min(means)]}
    return out


def within_run(cs: list[Comparison], largest: str) -> dict[str, list[dict[str, Any]]]:
    """Per split and supernet seed, two contrasts inside that seed's run, in which the luck the
    run's subnets share cancels (recipe 7's reading in README.md): the width gap (as
    ``width_means``, from that seed's ratios) and each subnet's ratio over the run's geometric
    mean ratio, the most lagging one named."""
    out: dict[str, list[dict[str, Any]]] = {}
    for split in SPLITS:
        mine = [c for c in cs if c.split == split]
        out[split] = []
        for i in range(cs[0].supernet_seeds):
            by_width: dict[int, list[float]] = {}
            for c in mine:
                if c.subnet != largest:
                    by_width.setdefault(width(c.subnet), []).append(c.per_seed[i])
            means = {w: float(np.mean(r)) for w, r in by_width.items()}
            run_mean = math.exp(float(np.mean([math.log(c.per_seed[i]) for c in mine])))
            worst = max(mine, key=lambda c: c.per_seed[i])
            out[split].append({"width_gap": means[max(means)] - means[min(means)], "lagging_subnet": worst.subnet,
                               "lag_over_run_mean": worst.per_seed[i] / run_mean,
                               "each_over_run_mean": {c.subnet: c.per_seed[i] / run_mean for c in mine}})  # fmt: skip
    return out


def config_params(config: Path, subnets: set[str]) -> dict[str, int]:
    """Each subnet's parameter count in the search space of ``config`` (a todm config), with
    the corpus's character vocabulary, as the recorded runs had."""
    import yaml

    from todm.supernet.model_config import ModelConfig
    from todm.supernet.space import SearchSpace

    model = yaml.safe_load(config.read_text())["model"] | {"vocab_size": VOCAB}
    space = SearchSpace.from_config(ModelConfig(**model))
    return {s: space.num_params(space.resolve(s)) for s in subnets}


def rerun_inputs(reading: str, name: str = "reruns.json",
                 config: Path | None = None) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:  # fmt: skip
    """The twins and supernet records of ``name`` (``reruns.json`` or another comparison's record:
    the runs that kept their checkpoints), each run read as ``reading`` ("final": its last step's
    checkpoint; "averaged": the mean of its last checkpoints), in the shapes of ``twin-seeds.json``
    and of run.py records. Each record is reported against the twins' first seed there;
    parameter counts come from recipe 3's record, or from ``config``'s search space."""
    data = load([HERE / name])[0]
    if config is None:
        params = {r["subnet"]: r["params"] for r in load([HERE / "result-per-width.json"])[0]["rows"]}
    else:
        params = config_params(config, {s for seeds in data["supernets"].values() for run in seeds.values()
                                        for s in run["subnets"]})  # fmt: skip
    twins = {s: {seed: {sp: {"wer": run[sp][reading]} for sp in SPLITS} for seed, run in seeds.items()}
             for s, seeds in data["twins"].items()}  # fmt: skip
    wanted = {s for seeds in data["supernets"].values() for run in seeds.values() for s in run["subnets"]}
    if missing := sorted(wanted - twins.keys()):
        raise SystemExit(f"{HERE / name}: no twin run yet of {', '.join(missing)} "
                         f"({len(twins)} of the {len(wanted)} subnets have one); nothing to judge until every twin is in")  # fmt: skip
    records: dict[str, list[dict[str, Any]]] = {}
    for label, seeds in data["supernets"].items():
        for run in seeds.values():
            rows = []
            for s, wers in run["subnets"].items():
                first = next(iter(twins[s].values()))
                rows.append({"subnet": s, "params": params[s],
                             **{f"supernet_{sp}_wer": wers[sp][reading] for sp in SPLITS},
                             **{f"individual_{sp}_wer": first[sp]["wer"] for sp in SPLITS}})  # fmt: skip
            first_seed = next(iter(twins[rows[0]["subnet"]]))
            records.setdefault(label, []).append({"rows": rows, "twins_from": {"seed": first_seed}})
    return twins, records


def averaging_gain(name: str) -> dict[str, dict[str, float]]:
    """Per side (the twins, each recipe) and split: the geometric mean over its runs and subnets of
    WER from the mean of the last checkpoints over WER from the last step's checkpoint, and how
    many such pairs it is over; both readings are in ``name``."""
    data = load([HERE / name])[0]
    sides = {"twins": [run for seeds in data["twins"].values() for run in seeds.values()]}
    for label, seeds in data["supernets"].items():
        sides[label] = [wers for run in seeds.values() for wers in run["subnets"].values()]
    return {side: {**{sp: math.exp(float(np.mean([math.log(r[sp]["averaged"] / r[sp]["final"]) for r in runs])))
                      for sp in SPLITS}, "pairs": len(runs)}
            for side, runs in sides.items()}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true", help="write seed-noise.md and seed-noise.json here")
    ap.add_argument("--reruns", choices=("final", "averaged"),
                    help="judge the runs of reruns.json instead, each read at its last step's checkpoint or as "
                         "the mean of its last checkpoints (records seed-noise-reruns-READING.md, .json)")  # fmt: skip
    ap.add_argument("--reruns-file", default="reruns.json",
                    help="with --reruns: the record to judge, beside this script; a file other than reruns.json "
                         "records seed-noise-<its name>-READING.md, .json")  # fmt: skip
    ap.add_argument("--config", type=Path,
                    help="with --reruns: the runs' config, for the subnets' parameter counts (default: those "
                         "of recipe 3's record, result-per-width.json; configs/svi-cpu-wide.yaml for the wide runs)")  # fmt: skip
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    if args.reruns:
        twins, records = rerun_inputs(args.reruns, args.reruns_file, args.config)
        out_name = f"seed-noise-{Path(args.reruns_file).stem}-{args.reruns}"
    else:
        twins = load([HERE / "twin-seeds.json"])[0]["twins"]
        records = {label: load([HERE / f for f in files]) for label, files in RECORDS.items()}
        out_name = "seed-noise"
    subnets = len(twins)
    seed_counts = {s: len(seeds) for s, seeds in twins.items()}
    by_count = {n: sum(c == n for c in seed_counts.values()) for n in sorted(set(seed_counts.values()), reverse=True)}

    groups = seed_groups(twins, records)
    noises = {name: noise(g, rng) for name, g in groups.items()}
    pooled = noise([g for gs in groups.values() for g in gs], rng)
    noises["pooled"] = pooled
    source = ({"final": f"the runs of {args.reruns_file}, each at its last step's checkpoint",
               "averaged": f"the runs of {args.reruns_file}, each as the mean of its last checkpoints"}[args.reruns]
              if args.reruns else "the committed run.py records and twin-seeds.json")  # fmt: skip
    lines = [f"# Seed noise and the 3% target ({source}; of the {subnets} twins, "
             + ", ".join(f"{k} with {n} seeds" for n, k in by_count.items()) + ")", "",
             "## How far a training seed moves one run's WER", "",
             "| seeds of | degrees of freedom | sigma of log WER | 95% interval | split correlation |",
             "|---|---|---|---|---|"]  # fmt: skip
    for name, n in noises.items():
        lines.append(f"| {name} | {n.dof} | {n.sigma:.4f} | [{n.low:.4f}, {n.high:.4f}] | {n.split_correlation:.2f} |")
    supernet_pairs = [n for name, n in noises.items() if name.startswith("supernet")]
    if "twins" not in noises or not supernet_pairs:
        raise SystemExit("seed_noise: needs twins with two seeds and a recipe with two supernet seeds")
    shared, own = supernet_parts([gs for name, gs in groups.items() if name.startswith("supernet")])
    sig = Sigmas(noises["twins"].sigma, shared, own, max(pooled.split_correlation, 0.0))
    lines += ["", f"Of a supernet subnet's sigma, shared by every subnet of the run on a split: {shared:.4f}; "
              f"each subnet's own: {own:.4f} (from every recipe with two seeds or more: "
              + ", ".join(n.removeprefix("supernet ") for n in noises if n.startswith("supernet")) + ")."]  # fmt: skip

    lines += ["", f"## Chance to pass README.md's first rule, two seeds against two-seed twins (sigma: twins {sig.twin:.4f}, supernet subnets "
              f"{sig.supernet:.4f} = shared {sig.supernet_run:.4f} + own {sig.supernet_own:.4f}; split correlation "
              f"{sig.rho:.2f}; {subnets} subnets x 2 splits; "
              f"{SIMULATIONS} simulated benchmarks)", "",
              "| true supernet / twin ratio | two-seed recipe passes | one-seed recipe has no miss |",
              "|---|---|---|"]  # fmt: skip
    power = {}
    for true_ratio in (0.98, 0.99, 1.0, 1.01, 1.02):
        power[true_ratio] = pass_chances(rng, sig, subnets, true_ratio)
        p = power[true_ratio]
        lines.append(f"| {true_ratio:.2f} | {p['two_seed_recipe']:.3f} | {p['one_seed_recipe']:.3f} |")
    tw = noises["twins"]
    at_ends = {end: pass_chances(rng, Sigmas(s, sig.supernet_run, sig.supernet_own, sig.rho), subnets, 1.0)
               for end, s in (("low", tw.low), ("high", tw.high))}  # fmt: skip
    lines += ["", f"With the twins' sigma at its interval ends ({tw.low:.4f}, {tw.high:.4f}), true ratio 1.00: "
              f"two-seed recipe {at_ends['low']['two_seed_recipe']:.3f} and {at_ends['high']['two_seed_recipe']:.3f}."]  # fmt: skip
    needed = seeds_needed(rng, sig, subnets)
    lines += ["", "Seeds per side for a plain rule (the n-seed mean within 1.03 of the twins' n-seed mean in all "
              f"{2 * subnets} comparisons): the chance to pass, by the true supernet / twin ratio:", "",
              "| seeds per side | " + " | ".join(f"{r:.2f}" for r in PLAIN_RULE_RATIOS) + " |",
              "|---|" + "---|" * len(PLAIN_RULE_RATIOS)]  # fmt: skip
    lines += [f"| {n} | " + " | ".join(f"{p:.3f}" for p in ps) + " |" for n, ps in needed.items()]

    lines += ["", "## Each recipe against the twins' seed mean, with seed noise on both sides", "",
              "Ratio [95% interval from seed noise]; **bold**: the interval lies wholly above 1.03.", ""]
    by_recipe = {}
    for label, recs in records.items():
        cs = comparisons(recs, twins, sig)
        m = mean_ratio(cs, sig)
        above = [c for c in cs if c.low > TARGET]
        below_one = [c for c in cs if c.high < 1.0]
        verdict = rule_verdict(cs)
        largest = max(recs[0]["rows"], key=lambda r: r["params"])["subnet"]
        widths = width_means(cs, largest)
        runs = within_run(cs, largest)
        by_recipe[label] = {"comparisons": [asdict(c) for c in cs], "mean_ratio": m, "rule_verdict": verdict,
                            "above_target_beyond_noise": [f"{c.subnet} {c.split}" for c in above],
                            "better_than_twin_beyond_noise": [f"{c.subnet} {c.split}" for c in below_one],
                            "mean_ratio_by_width_below_largest": widths, "seed_mean_ratios": seed_means(cs),
                            "within_each_run": runs}  # fmt: skip
        lines += [f"### {label}: {len(recs)} seed(s); mean ratio {m[0]:.3f} [{m[1]:.3f}, {m[2]:.3f}]; "
                  f"over 1.03 point estimate {sum(c.ratio > TARGET for c in cs)}, beyond seed noise {len(above)}", "",
                  f"README.md's rule against the twins as they are now: {verdict}.", "",
                  *(["Each seed's geometric mean ratio over the subnets, in record order: "
                     + "; ".join(f"{split} " + ", ".join(f"{v:.3f}" for v in vs) for split, vs in seed_means(cs).items())
                     + ".", ""] if len(recs) > 1 else []),
                  f"Mean ratio of the subnets below the largest ({largest}), by model width: "
                  + "; ".join(f"{split} " + ", ".join(f"width {w} {m:.3f}" for w, m in ws.items() if w != "gap")
                              + f" (widest minus narrowest {ws['gap']:.3f})" for split, ws in widths.items())
                  + ".", "",
                  "Inside each seed's run, in record order (the luck its subnets share cancels): "
                  + "; ".join(f"{split} " + ", ".join(f"width gap {r['width_gap']:.3f}, {r['lagging_subnet']} "
                                                      f"{r['lag_over_run_mean']:.3f} of the run's mean" for r in rs)
                              for split, rs in runs.items()) + ".", "",
                  "| subnet | twin seeds | " + " | ".join(SPLITS) + " |", "|---|---|---|---|"]  # fmt: skip
        for i in range(0, len(cs), 2):
            cells = [f"{'**' if c.low > TARGET else ''}{c.ratio:.3f} [{c.low:.3f}, {c.high:.3f}]"
                     f"{'**' if c.low > TARGET else ''}" for c in cs[i : i + 2]]  # fmt: skip
            lines.append(f"| {cs[i].subnet} | {cs[i].twin_seeds} | " + " | ".join(cells) + " |")
        lines.append("")
    gains = averaging_gain(args.reruns_file) if args.reruns else None
    if gains:
        lines += ["## What averaging the last checkpoints gives each side", "",
                  "Geometric mean over runs and subnets of WER averaged / WER at the last step "
                  "(below 1: averaging helps).", "",
                  "| side | runs x subnets | " + " | ".join(SPLITS) + " |", "|---|---|---|---|",
                  *(f"| {side} | {g['pairs']} | " + " | ".join(f"{g[sp]:.3f}" for sp in SPLITS) + " |"
                    for side, g in gains.items()), ""]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.record:
        (HERE / f"{out_name}.md").write_text(text)
        payload = {"target": TARGET, "twin_seeds": seed_counts, "simulations": SIMULATIONS,
                   "noise": {k: asdict(v) for k, v in noises.items()}, "sigmas_used": {**asdict(sig), "supernet": sig.supernet},
                   "pass_chance_by_true_ratio": {f"{k:.2f}": v for k, v in power.items()},
                   "pass_chance_at_sigma_interval_ends": at_ends,
                   "plain_rule_pass_chance_by_seeds": needed, "recipes": by_recipe,
                   **({"averaging_gain": gains} if gains else {})}  # fmt: skip
        (HERE / f"{out_name}.json").write_text(json.dumps(payload, indent=1) + "\n")
        print(f"\nwrote {HERE / out_name}.md and .json")


if __name__ == "__main__":
    main()
