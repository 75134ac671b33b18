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
``reruns.json`` beside this script, which ``seed_noise.py --reruns`` reads. A run that has not
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

    twins: dict[str, dict[str, Any]] = {s: {} for s in args.subnets}
    for item in args.twins:
        seed, _, root = item.partition("=")
        for s in args.subnets:
            run = averaged_run(Path(root) / f"individual-{s}", args.step, args.last, args.eval_corpus, [s])
            twins[s][seed] = {"exp": run["exp"], "averaged_checkpoints": run["averaged"], **by_split(run, s)}
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
        (HERE / "reruns.json").write_text(json.dumps(payload, indent=1) + "\n")
        print(f"wrote {HERE / 'reruns.json'}")


if __name__ == "__main__":
    main()
