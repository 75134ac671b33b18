"""What another training setting does to the twins themselves: each twin's seed mean under it over its seed mean before.

    .venv/bin/python benchmarks/supernet_vs_individual/rate_effect.py --reading averaged \
        --before reruns.json --after reruns-scale0.1.json [--record]

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
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from seed_noise import pooled_squares
from seeds import SPLITS, load

HERE = Path(__file__).resolve().parent
Z95 = 1.959964


def log_wers(path: Path, data: dict[str, Any], reading: str) -> dict[str, dict[str, np.ndarray]]:
    """Per twin and split: the log WER of each seed's run, in seed order."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for subnet, seeds in data["twins"].items():
        out[subnet] = {}
        for sp in SPLITS:
            try:
                out[subnet][sp] = np.log([seeds[k][sp][reading] for k in sorted(seeds, key=int)])
            except KeyError as e:
                raise SystemExit(f"{path}: twin {subnet} has no {reading!r} {sp} WER ({e})") from e
    return out


def pooled_sigma(sides: list[dict[str, dict[str, np.ndarray]]], split: str) -> tuple[float, int]:
    """The pooled standard deviation of one run's log WER across seeds, and its degrees of freedom."""
    ss, dof = pooled_squares([runs[split] for side in sides for runs in side.values()])
    if dof == 0:
        raise SystemExit(
            "rate_effect: no twin has two seeds on either side; seed noise cannot be estimated"
        )
    return math.sqrt(ss / dof), dof


def effect(before_path: Path, after_path: Path, reading: str) -> dict[str, Any]:
    before, after = load([before_path, after_path])
    for key in ("step", "last", "eval_corpus"):
        if before["about"].get(key) != after["about"].get(key):
            raise SystemExit(f"{after_path}: {key} is {after['about'].get(key)!r}, "
                             f"but {before_path} has {before['about'].get(key)!r}; the two are not comparable")  # fmt: skip
    b, a = log_wers(before_path, before, reading), log_wers(after_path, after, reading)
    if missing := sorted(b.keys() ^ a.keys()):
        raise SystemExit(f"{after_path}: twins {', '.join(missing)} are in one file only "
                         f"({len(a)} twins there, {len(b)} in {before_path}); nothing to compare until both hold the same")  # fmt: skip
    seeds = {s: (len(b[s][SPLITS[0]]), len(a[s][SPLITS[0]])) for s in b}
    if short := sorted(s for s, (nb, na) in seeds.items() if (nb, na) != max(seeds.values())):
        raise SystemExit(f"{after_path} / {before_path}: twins {', '.join(short)} have fewer seeds than the others "
                         f"(seeds before, after: {', '.join(f'{s} {seeds[s]}' for s in short)})")  # fmt: skip
    n_before, n_after = max(seeds.values())
    out: dict[str, Any] = {"reading": reading, "before": before_path.name, "after": after_path.name,
                           "seeds": {"before": n_before, "after": n_after}, "splits": {}}  # fmt: skip
    for sp in SPLITS:
        sigma, dof = pooled_sigma([b, a], sp)
        half = Z95 * sigma * math.sqrt(1 / n_before + 1 / n_after)
        rows = {s: float(a[s][sp].mean() - b[s][sp].mean()) for s in b}
        mean = float(np.mean(list(rows.values())))
        half_mean = half / math.sqrt(len(rows))
        out["splits"][sp] = {
            "sigma": sigma, "dof": dof,
            "twins": {s: {"ratio": math.exp(d), "low": math.exp(d - half), "high": math.exp(d + half)} for s, d in rows.items()},
            "all": {"ratio": math.exp(mean), "low": math.exp(mean - half_mean), "high": math.exp(mean + half_mean)},
        }  # fmt: skip
    return out


def report(e: dict[str, Any]) -> list[str]:
    lines = [f"# Each twin's WER in {e['after']} over {e['before']} ({e['reading']} reading, "
             f"{e['seeds']['after']} seeds after, {e['seeds']['before']} before)", "",
             "Geometric mean over the seeds after / before [95% interval from seed noise alone].", "",
             "| twin | " + " | ".join(SPLITS) + " |", "|---|" + "---|" * len(SPLITS)]  # fmt: skip
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
    lines += ["", "Seed noise (sigma of one run's log WER, pooled over both files' twins): "
              + ", ".join(f"{sp} {e['splits'][sp]['sigma']:.4f} ({e['splits'][sp]['dof']} degrees of freedom)" for sp in SPLITS) + "."]  # fmt: skip
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reading", choices=("final", "averaged"), required=True)
    ap.add_argument("--before", default="reruns.json", help="a reruns.py record beside this script")
    ap.add_argument("--after", required=True, help="a reruns.py record beside this script")
    ap.add_argument(
        "--record", action="store_true", help="write rate-effect-<after>-READING.md and .json here"
    )
    args = ap.parse_args()
    e = effect(HERE / args.before, HERE / args.after, args.reading)
    text = "\n".join(report(e)) + "\n"
    print(text, end="")
    if args.record:
        stem = f"rate-effect-{Path(args.after).stem}-{args.reading}"
        (HERE / f"{stem}.md").write_text(text)
        (HERE / f"{stem}.json").write_text(json.dumps(e, indent=1) + "\n")
        print(f"wrote {HERE / stem}.md and .json")


if __name__ == "__main__":
    main()
