"""Collect the runs that kept their checkpoints: each run's WER at one step and averaged up to it.

    .venv/bin/python benchmarks/supernet_vs_individual/reruns.py --eval-corpus corpora/open-2h-eval \
        --step 3000 --last 5 --subnets $FOUR $SIX \
        --twins 0=exp/svi-cpu-twin-seed0 --twins 1=exp/svi-cpu-twin-seed1 --twins 2=exp/svi-cpu-twin-seed2 \
        --supernet "recipe 3 (one random subnet per width)=0:exp/svi-cpu-strat-seed0/supernet" ... --record

``--twins SEED=DIR``: a seed's twins, ``DIR/individual-<subnet>`` each. ``--supernet LABEL=SEED:DIR``:
one supernet run of a recipe (repeat it for each seed; the label names the recipe, as in
``seed_noise.py``). Every run is decoded greedily on ``test`` and ``test-unseen-voice`` from
its checkpoint of ``--step`` and from the mean of its ``--last`` checkpoints up to it
(``todm average``), reusing the evaluations kept beside the checkpoints
(``average_effect.py`` decodes and keeps them the same way). ``--record`` writes
``reruns.json`` beside this script, which ``seed_noise.py --reruns`` reads, merging into what it
holds: the runs named now are added or replaced, every other run already recorded stays. So
each run can be recorded (and committed) as soon as it is decoded, and a machine lost with
``exp/`` on it loses only the runs not yet recorded (it happened twice). A record made with
another ``--step``, ``--last`` or evaluation corpus is refused by name. A run that has not
reached ``--step`` stops this with its name; nothing decoded before is lost.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from average_effect import SPLITS, averaged_run

HERE = Path(__file__).resolve().parent
READINGS = ("final", "averaged")


def by_split(run: dict[str, Any], subnet: str) -> dict[str, dict[str, float]]:
    return {split: {reading: run["wer"][split][reading][subnet] for reading in READINGS} for split in SPLITS}


def merge(old: dict[str, Any], new: dict[str, Any], path: Path) -> dict[str, Any]:
    """``old`` with the runs of ``new`` added or replaced; both must read the runs the same way."""
    if old["about"] != new["about"]:
        raise SystemExit(f"{path}: recorded with {old['about']}, not {new['about']}; "
                         "record these runs elsewhere or start a new file")  # fmt: skip
    twins = {s: dict(seeds) for s, seeds in old["twins"].items()}
    for s, seeds in new["twins"].items():
        twins.setdefault(s, {}).update(seeds)
    supernets = {label: dict(seeds) for label, seeds in old["supernets"].items()}
    for label, seeds in new["supernets"].items():
        supernets.setdefault(label, {}).update(seeds)
    return {"about": old["about"], "twins": twins, "supernets": supernets}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-corpus", type=Path, required=True)
    ap.add_argument("--step", type=int, required=True)
    ap.add_argument("--last", type=int, default=5)
    ap.add_argument("--subnets", nargs="+", required=True)
    ap.add_argument("--twins", action="append", default=[], metavar="SEED=DIR")
    ap.add_argument("--supernet", action="append", default=[], metavar="LABEL=SEED:DIR")
    ap.add_argument("--record", action="store_true", help="write reruns.json here")
    args = ap.parse_args()

    twins: dict[str, dict[str, Any]] = {}
    for item in args.twins:
        seed, _, root = item.partition("=")
        for s in args.subnets:
            run = averaged_run(Path(root) / f"individual-{s}", args.step, args.last, args.eval_corpus, [s])
            twins.setdefault(s, {})[seed] = {
                "exp": run["exp"], "averaged_checkpoints": run["averaged"], **by_split(run, s)}  # fmt: skip
            print(f"twin {s} seed {seed}: " + ", ".join(
                f"{split} {v['final']:.2f} -> {v['averaged']:.2f}" for split, v in by_split(run, s).items()))  # fmt: skip
    supernets: dict[str, dict[str, Any]] = {}
    for item in args.supernet:
        label, _, rest = item.partition("=")
        seed, _, exp = rest.partition(":")
        run = averaged_run(Path(exp), args.step, args.last, args.eval_corpus, args.subnets)
        supernets.setdefault(label, {})[seed] = {
            "exp": run["exp"], "averaged_checkpoints": run["averaged"],
            "subnets": {s: by_split(run, s) for s in args.subnets}}  # fmt: skip
        print(f"{label} seed {seed}: decoded {len(args.subnets)} subnets")
    payload = {"about": {"step": args.step, "last": args.last, "eval_corpus": str(args.eval_corpus),
                         "readings": {"final": f"the checkpoint of step {args.step}",
                                      "averaged": f"the mean of the last {args.last} checkpoints up to it"}},
               "twins": twins, "supernets": supernets}  # fmt: skip
    if args.record:
        out = HERE / "reruns.json"
        merged = merge(json.loads(out.read_text()), payload, out) if out.is_file() else payload
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(merged, indent=1) + "\n")
        tmp.replace(out)
        n_twins = sum(len(seeds) for seeds in merged["twins"].values())
        n_supernets = sum(len(seeds) for seeds in merged["supernets"].values())
        print(f"wrote {out}: {n_twins} twin runs, {n_supernets} supernet runs")


if __name__ == "__main__":
    main()
