"""Collect the runs that kept their checkpoints: each run's WER at one step and averaged up to it.

    .venv/bin/python benchmarks/supernet_vs_individual/reruns.py --eval-corpus corpora/open-2h-eval \
        --step 3000 --last 5 --subnets $FOUR $SIX \
        --twins 0=exp/svi-cpu-twin-seed0 --twins 1=exp/svi-cpu-kept-twin-seed1 --twins 2=exp/svi-cpu-kept-twin-seed2 \
        --supernet "recipe 3 (one random subnet per width)=0:exp/svi-cpu-strat-seed0/supernet" ... --record

``--twins SEED=DIR``: a seed's twins, ``DIR/individual-<subnet>`` each. ``--supernet LABEL=SEED:DIR``:
one supernet run of a recipe (repeat it for each seed; the label names the recipe, as in
``seed_noise.py``). A run whose ``exp/`` is gone but whose WERs ``average_effect.py --record``
kept (same step, same ``--last``, same evaluation corpus) comes from that record instead:
``--recorded-twin SEED=FILE`` (a record of one twin run) or ``--recorded-supernet
LABEL=SEED:FILE#RUN`` (the run named RUN in FILE); files are read beside this script.
Every run is decoded greedily on ``test`` and ``test-unseen-voice`` from its checkpoint of
``--step`` and from the mean of its ``--last`` checkpoints up to it
(``todm average``; ``--splits`` and ``--readings`` decode a part first), reusing the evaluations kept beside the checkpoints
(``average_effect.py`` decodes and keeps them the same way). ``--record`` writes
``reruns.json`` (or ``--record-file``) beside this script, which ``seed_noise.py --reruns``
reads, merging into what it holds: the runs named now are added or replaced, every other run
already recorded stays. So
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
    """Split -> reading -> WER, of the splits and readings decoded (``--splits``, ``--readings``)."""
    wer = run["wer"]
    return {split: {reading: wer[split][reading][subnet] for reading in READINGS if reading in wer[split]}
            for split in SPLITS if split in wer}  # fmt: skip


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


def from_record(name: str, run_label: str | None, about: dict[str, Any]) -> dict[str, Any]:
    """One run of an ``average_effect.py`` record, in ``averaged_run``'s shape; refused by name
    if it read its runs otherwise than ``about`` asks."""
    path = HERE / name
    rec = json.loads(path.read_text())
    got = {"step": rec["step"], "last": rec["last"], "eval_corpus": rec["eval_corpus"]}
    if got != about:
        raise SystemExit(f"{path}: read its runs as {got}, not {about}")
    if run_label is None:
        if len(rec["runs"]) != 1:
            raise SystemExit(f"{path}: holds {len(rec['runs'])} runs; name one as FILE#RUN")
        run_label = next(iter(rec["runs"]))
    if run_label not in rec["runs"]:
        raise SystemExit(f"{path}: has no run {run_label!r} (it has {', '.join(rec['runs'])})")
    return rec["runs"][run_label]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-corpus", type=Path, required=True)
    ap.add_argument("--step", type=int, required=True)
    ap.add_argument("--last", type=int, default=5)
    ap.add_argument("--subnets", nargs="+", required=True)
    ap.add_argument("--twins", action="append", default=[], metavar="SEED=DIR")
    ap.add_argument("--supernet", action="append", default=[], metavar="LABEL=SEED:DIR")
    ap.add_argument("--recorded-twin", action="append", default=[], metavar="SEED=FILE")
    ap.add_argument("--recorded-supernet", action="append", default=[], metavar="LABEL=SEED:FILE#RUN")
    ap.add_argument("--record", action="store_true", help="write (merge into) --record-file here")
    ap.add_argument("--record-file", default="reruns.json",
                    help="the record beside this script (default reruns.json; another comparison, another file)")
    ap.add_argument("--splits", nargs="+", choices=SPLITS, default=list(SPLITS),
                    help="decode only these splits; recording a run again replaces its entry whole, so name "
                         "every split and reading wanted in it")
    ap.add_argument("--readings", nargs="+", choices=READINGS, default=list(READINGS),
                    help="decode only these readings (as --splits)")
    args = ap.parse_args()
    part = {"splits": tuple(args.splits), "readings": tuple(args.readings)}
    about = {"step": args.step, "last": args.last, "eval_corpus": str(args.eval_corpus)}

    twins: dict[str, dict[str, Any]] = {}
    for item in args.twins:
        seed, _, root = item.partition("=")
        for s in args.subnets:
            run = averaged_run(Path(root) / f"individual-{s}", args.step, args.last, args.eval_corpus, [s], **part)
            twins.setdefault(s, {})[seed] = {
                "exp": run["exp"], "averaged_checkpoints": run["averaged"], **by_split(run, s)}  # fmt: skip
            print(f"twin {s} seed {seed}: " + ", ".join(
                f"{split} " + " -> ".join(f"{w:.2f}" for w in v.values()) for split, v in by_split(run, s).items()))  # fmt: skip
    for item in args.recorded_twin:
        seed, _, name = item.partition("=")
        run = from_record(name, None, about)
        (s,) = run["wer"]["test"]["final"]
        twins.setdefault(s, {})[seed] = {"exp": run["exp"], "averaged_checkpoints": run["averaged"],
                                         "from_record": name, **by_split(run, s)}  # fmt: skip
        print(f"twin {s} seed {seed} from {name}")
    supernets: dict[str, dict[str, Any]] = {}
    for item in args.recorded_supernet:
        label, _, rest = item.partition("=")
        seed, _, ref = rest.partition(":")
        name, _, run_label = ref.partition("#")
        run = from_record(name, run_label or None, about)
        supernets.setdefault(label, {})[seed] = {
            "exp": run["exp"], "averaged_checkpoints": run["averaged"], "from_record": f"{name}#{run_label}",
            "subnets": {s: by_split(run, s) for s in args.subnets}}  # fmt: skip
        print(f"{label} seed {seed} from {name}#{run_label}")
    for item in args.supernet:
        label, _, rest = item.partition("=")
        seed, _, exp = rest.partition(":")
        run = averaged_run(Path(exp), args.step, args.last, args.eval_corpus, args.subnets, **part)
        supernets.setdefault(label, {})[seed] = {
            "exp": run["exp"], "averaged_checkpoints": run["averaged"],
            "subnets": {s: by_split(run, s) for s in args.subnets}}  # fmt: skip
        print(f"{label} seed {seed}: decoded {len(args.subnets)} subnets")
    payload = {"about": {**about, "readings": {"final": f"the checkpoint of step {args.step}",
                                      "averaged": f"the mean of the last {args.last} checkpoints up to it"}},
               "twins": twins, "supernets": supernets}  # fmt: skip
    if args.record:
        out = HERE / args.record_file
        merged = merge(json.loads(out.read_text()), payload, out) if out.is_file() else payload
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(merged, indent=1) + "\n")
        tmp.replace(out)
        n_twins = sum(len(seeds) for seeds in merged["twins"].values())
        n_supernets = sum(len(seeds) for seeds in merged["supernets"].values())
        print(f"wrote {out}: {n_twins} twin runs, {n_supernets} supernet runs")


if __name__ == "__main__":
    main()
