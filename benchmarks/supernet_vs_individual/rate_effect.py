"""What another training setting does to the twins (or to a supernet's subnets): each one's seed mean under it over its seed mean before.

    .venv/bin/python benchmarks/supernet_vs_individual/rate_effect.py --reading averaged \
        --before reruns.json --after reruns-scale0.1.json [--supernet LABEL] [--record]

Both files are records of ``reruns.py --record`` (beside this script), made on the same
evaluation corpus, step and number of averaged checkpoints; this stops, naming the file, if
they differ or if a twin lacks a seed on either side. For each twin and split it prints the
geometric mean over the seeds of WER after over WER before (read as ``--reading``: "final",
the last step's checkpoint, or "averaged", the mean of the last checkpoints), with a 95%
interval from seed noise alone: the pooled standard deviation of one run's log WER across
seeds, over every twin of both files. The last row is the geometric mean over the twins,
whose seeds train independently, so its interval narrows with their number. It reports; it
judges nothing. ``--record`` writes ``rate-effect-<after's name>-READING.md`` and ``.json``
beside this script.

With ``--supernet LABEL`` (a supernet record both files hold, e.g. "recipe 3 (one random
subnet per width)") it does the same for that supernet's subnets instead of the twins, and
records ``rate-effect-<after's name>-READING-<recipe N>.md``. A subnet's interval uses the
pooled seed noise of one subnet (the luck its run shares with the other subnets included).
The last row's does not average that shared luck away: it comes from each run's mean log WER
over its subnets, whose seed-to-seed spread, pooled over both files, estimates how far a
seed moves a whole run, with a Student t quantile for its few degrees of freedom.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from seed_noise import pooled_squares
from seeds import SPLITS, load

HERE = Path(__file__).resolve().parent
Z95 = 1.959964


def runs_by_subnet(
    path: Path, data: dict[str, Any], supernet: str | None
) -> dict[str, dict[str, Any]]:
    """Per subnet, each seed's WERs: the twins' runs, or the subnets of ``supernet``'s runs."""
    if supernet is None:
        return data["twins"]
    if supernet not in data["supernets"]:
        raise SystemExit(
            f"{path}: no supernet record {supernet!r}; it holds {', '.join(map(repr, data['supernets']))}"
        )
    seeds = data["supernets"][supernet]
    subnets = next(iter(seeds.values()))["subnets"]
    return {s: {seed: run["subnets"][s] for seed, run in seeds.items()} for s in subnets}


def log_wers(
    path: Path, runs: dict[str, dict[str, Any]], reading: str
) -> dict[str, dict[str, np.ndarray]]:
    """Per subnet and split: the log WER of each seed's run, in seed order."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for subnet, seeds in runs.items():
        out[subnet] = {}
        for sp in SPLITS:
            try:
                out[subnet][sp] = np.log([seeds[k][sp][reading] for k in sorted(seeds, key=int)])
            except KeyError as e:
                raise SystemExit(f"{path}: {subnet} has no {reading!r} {sp} WER ({e})") from e
    return out


def t_quantile(dof: int, q: float = 0.975, draws: int = 400_000) -> float:
    """Student t quantile, by simulation (numpy only; fixed seed, so the record is reproducible)."""
    return float(np.quantile(np.random.default_rng(0).standard_t(dof, size=draws), q))


def whole_run_interval(
    sides: list[dict[str, dict[str, np.ndarray]]], split: str, mean: float
) -> dict[str, float]:
    """The mean over subnets as the difference of the run means' means; its interval from the
    spread of one run's mean log WER over its subnets across seeds, pooled over the sides."""
    run_means = [np.mean([runs[split] for runs in side.values()], axis=0) for side in sides]
    ss, dof = pooled_squares(run_means)
    if dof == 0:
        raise SystemExit("rate_effect: one run a side; a supernet's seed noise cannot be estimated")
    sigma = math.sqrt(ss / dof)
    half = t_quantile(dof) * sigma * math.sqrt(sum(1 / len(m) for m in run_means))
    return {"ratio": math.exp(mean), "low": math.exp(mean - half), "high": math.exp(mean + half),
            "run_sigma": sigma, "run_dof": dof}  # fmt: skip


def pooled_sigma(sides: list[dict[str, dict[str, np.ndarray]]], split: str) -> tuple[float, int]:
    """The pooled standard deviation of one run's log WER across seeds, and its degrees of freedom."""
    ss, dof = pooled_squares([runs[split] for side in sides for runs in side.values()])
    if dof == 0:
        raise SystemExit(
            "rate_effect: no twin has two seeds on either side; seed noise cannot be estimated"
        )
    return math.sqrt(ss / dof), dof


def effect(
    before_path: Path, after_path: Path, reading: str, supernet: str | None = None
) -> dict[str, Any]:
    before, after = load([before_path, after_path])
    for key in ("step", "last", "eval_corpus"):
        if before["about"].get(key) != after["about"].get(key):
            raise SystemExit(f"{after_path}: {key} is {after['about'].get(key)!r}, "
                             f"but {before_path} has {before['about'].get(key)!r}; the two are not comparable")  # fmt: skip
    b = log_wers(before_path, runs_by_subnet(before_path, before, supernet), reading)
    a = log_wers(after_path, runs_by_subnet(after_path, after, supernet), reading)
    if missing := sorted(b.keys() ^ a.keys()):
        raise SystemExit(f"{after_path}: subnets {', '.join(missing)} are in one file only "
                         f"({len(a)} there, {len(b)} in {before_path}); nothing to compare until both hold the same")  # fmt: skip
    seeds = {s: (len(b[s][SPLITS[0]]), len(a[s][SPLITS[0]])) for s in b}
    if short := sorted(s for s, (nb, na) in seeds.items() if (nb, na) != max(seeds.values())):
        raise SystemExit(f"{after_path} / {before_path}: {', '.join(short)} have fewer seeds than the others "
                         f"(seeds before, after: {', '.join(f'{s} {seeds[s]}' for s in short)})")  # fmt: skip
    n_before, n_after = max(seeds.values())
    out: dict[str, Any] = {"reading": reading, "before": before_path.name, "after": after_path.name,
                           "side": supernet or "twins", "seeds": {"before": n_before, "after": n_after}, "splits": {}}  # fmt: skip
    for sp in SPLITS:
        sigma, dof = pooled_sigma([b, a], sp)
        half = Z95 * sigma * math.sqrt(1 / n_before + 1 / n_after)
        rows = {s: float(a[s][sp].mean() - b[s][sp].mean()) for s in b}
        mean = float(np.mean(list(rows.values())))
        # the twins' seeds train independently, so their noise averages over twins
        if supernet is None:
            half_mean = half / math.sqrt(len(rows))
            whole = {
                "ratio": math.exp(mean),
                "low": math.exp(mean - half_mean),
                "high": math.exp(mean + half_mean),
            }
        else:
            whole = whole_run_interval([b, a], sp, mean)
        out["splits"][sp] = {
            "sigma": sigma, "dof": dof,
            "twins": {s: {"ratio": math.exp(d), "low": math.exp(d - half), "high": math.exp(d + half)} for s, d in rows.items()},
            "all": whole,
        }  # fmt: skip
    return out


def report(e: dict[str, Any]) -> list[str]:
    twins = e.get("side", "twins") == "twins"
    who = "Each twin's WER" if twins else f"The WER of each subnet of {e['side']}"
    lines = [f"# {who} in {e['after']} over {e['before']} ({e['reading']} reading, "
             f"{e['seeds']['after']} seeds after, {e['seeds']['before']} before)", "",
             "Geometric mean over the seeds after / before [95% interval from seed noise alone].", "",
             f"| {'twin' if twins else 'subnet'} | " + " | ".join(SPLITS) + " |", "|---|" + "---|" * len(SPLITS)]  # fmt: skip
    first = e["splits"][SPLITS[0]]
    for s in first["twins"]:
        cells = [e["splits"][sp]["twins"][s] for sp in SPLITS]
        lines.append(
            f"| {s} | "
            + " | ".join(f"{c['ratio']:.3f} [{c['low']:.3f}, {c['high']:.3f}]" for c in cells)
            + " |"
        )
    cells = [e["splits"][sp]["all"] for sp in SPLITS]
    lines.append(
        f"| all {len(first['twins'])} | "
        + " | ".join(f"**{c['ratio']:.3f}** [{c['low']:.3f}, {c['high']:.3f}]" for c in cells)
        + " |"
    )
    lines += ["", f"Seed noise (sigma of one run's log WER, pooled over both files' {'twins' if twins else 'subnets'}): "
              + ", ".join(f"{sp} {e['splits'][sp]['sigma']:.4f} ({e['splits'][sp]['dof']} degrees of freedom)" for sp in SPLITS) + "."]  # fmt: skip
    if not twins:
        lines += ["", "The last row's interval: sigma of a run's mean log WER over its subnets, pooled over both files' runs: "
                  + ", ".join(f"{sp} {e['splits'][sp]['all']['run_sigma']:.4f} ({e['splits'][sp]['all']['run_dof']} degrees of freedom, t quantile)" for sp in SPLITS) + "."]  # fmt: skip
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reading", choices=("final", "averaged"), required=True)
    ap.add_argument("--before", default="reruns.json", help="a reruns.py record beside this script")
    ap.add_argument("--after", required=True, help="a reruns.py record beside this script")
    ap.add_argument(
        "--supernet", help="a supernet record both files hold: its subnets in place of the twins"
    )
    ap.add_argument(
        "--record", action="store_true", help="write rate-effect-<after>-READING.md and .json here"
    )
    args = ap.parse_args()
    e = effect(HERE / args.before, HERE / args.after, args.reading, args.supernet)
    text = "\n".join(report(e)) + "\n"
    print(text, end="")
    if args.record:
        stem = f"rate-effect-{Path(args.after).stem}-{args.reading}"
        if args.supernet:
            stem += "-" + re.sub(r"\W+", "-", args.supernet.split("(")[0].strip())
        (HERE / f"{stem}.md").write_text(text)
        (HERE / f"{stem}.json").write_text(json.dumps(e, indent=1) + "\n")
        print(f"wrote {HERE / stem}.md and .json")


if __name__ == "__main__":
    main()
