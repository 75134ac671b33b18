"""What averaging a run's last checkpoints does to its subnets' WER (``todm average``).

    .venv/bin/python benchmarks/supernet_vs_individual/average_effect.py \
        --eval-corpus corpora/open-2h-eval --step 3000 --last 5 \
        --run "recipe 3 seed 1=exp/svi-cpu-strat-seed1/supernet" ... --subnets $FOUR $SIX --record

For each supernet run: the WER of each subnet from the checkpoint of step ``--step`` (the
evaluation ``run.py --part report`` keeps beside it, else decoded now) and from the mean
of the ``--last`` checkpoints up to it; their ratio per subnet, the geometric mean per
run, and how far the runs are from each other either way (the standard deviation of log
WER across the runs, per subnet, root-mean-squared over the subnets). Twins are not in
it: their checkpoints were not kept, so this changes no comparison with them.
``--record [NAME]`` writes ``NAME.md`` and ``.json`` (default ``average-effect``) beside this script.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SPLITS = ("test", "test-unseen-voice")


def wer_of(checkpoint: Path, cache: Path, manifest: Path, subnets: list[str]) -> dict[str, float]:
    """{subnet: WER} of ``checkpoint`` on ``manifest``, decoded once and kept in ``cache``."""
    from todm.supernet.evaluate import evaluate

    if not cache.is_file():
        evaluate(checkpoint, manifest, subnets, "greedy", out=cache)
    res = json.loads(cache.read_text())["subnets"]
    # an evaluation names each subnet by its id and, for the two ends, also by 'largest'/'smallest'
    res |= {r["name"]: r for r in list(res.values()) if r.get("name")}
    missing = [s for s in subnets if s not in res]
    if missing:
        raise SystemExit(f"{cache}: has no {', '.join(missing)}; delete it to decode again")
    return {s: float(res[s]["wer"]) for s in subnets}


def final_wer(exp: Path, step: int, corpus: Path, split: str, subnets: list[str]) -> dict[str, float]:
    out = {}
    for s in subnets:  # run.py --part report keeps one evaluation per subnet and split
        cache = exp / f"eval-{s}-{corpus.name}-{split}-greedy-all-step-{step}.json"
        out |= wer_of(exp / "checkpoints" / f"step-{step}.pt", cache, corpus / f"{split}.jsonl", [s])
    return out


def averaged_wer(avg: Path, exp: Path, corpus: Path, split: str, subnets: list[str]) -> dict[str, float]:
    manifest = corpus / f"{split}.jsonl"
    whole = exp / f"eval-{avg.stem}-{corpus.name}-{split}-greedy.json"
    if whole.is_file():  # the runs decoded before 2026-12-04 kept every subnet in one file
        return wer_of(avg, whole, manifest, subnets)
    out = {}
    for s in subnets:  # one file per subnet: a decode killed with its session keeps the subnets it finished
        out |= wer_of(avg, exp / f"eval-{avg.stem}-{s}-{corpus.name}-{split}-greedy.json", manifest, [s])
    return out


def averaged_run(
    exp: Path, step: int, last: int, corpus: Path, subnets: list[str],
    splits: tuple[str, ...] = SPLITS, readings: tuple[str, ...] = ("final", "averaged"),
) -> dict[str, Any]:
    """One run's WER per split and subnet from the checkpoint of ``step`` ("final") and from the
    mean of the ``last`` checkpoints up to it ("averaged"); the mean is written once beside them.
    ``splits`` and ``readings`` decode a part of that (the rest can be decoded later)."""
    from todm.supernet.averaging import average_to_file, last_checkpoints

    sources = last_checkpoints(exp, last, step)
    avg = exp / "checkpoints" / f"avg-{sources[0].stem[5:]}-{sources[-1].stem[5:]}.pt"
    if not avg.is_file():
        average_to_file(sources, avg)
    run: dict[str, Any] = {"exp": str(exp), "averaged": [p.name for p in sources], "wer": {}}
    for split in splits:
        run["wer"][split] = {}
        if "final" in readings:
            run["wer"][split]["final"] = final_wer(exp, step, corpus, split, subnets)
        if "averaged" in readings:
            run["wer"][split]["averaged"] = averaged_wer(avg, exp, corpus, split, subnets)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=EXP_DIR",
                    help="a supernet run's experiment dir (repeatable)")  # fmt: skip
    ap.add_argument("--eval-corpus", type=Path, required=True)
    ap.add_argument("--step", type=int, required=True)
    ap.add_argument("--last", type=int, default=5)
    ap.add_argument("--subnets", nargs="+", required=True)
    ap.add_argument("--record", nargs="?", const="average-effect", metavar="NAME",
                    help="write NAME.md and NAME.json here (default name: average-effect)")  # fmt: skip
    args = ap.parse_args()
    runs = {label: averaged_run(Path(path), args.step, args.last, args.eval_corpus, args.subnets)
            for label, _, path in (item.partition("=") for item in args.run)}  # fmt: skip

    lines = [f"# Averaging the last {args.last} checkpoints up to step {args.step} (`todm average`)", "",
             "WER % from the step's checkpoint -> from the mean of the last checkpoints (ratio).", ""]  # fmt: skip
    summary: dict[str, Any] = {}
    for split in SPLITS:
        head = "| subnet | " + " | ".join(runs) + " |"
        lines += [f"## {split}", "", head, "|---|" + "---|" * len(runs)]
        for s in args.subnets:
            cells = []
            for r in runs.values():
                f, a = r["wer"][split]["final"][s], r["wer"][split]["averaged"][s]
                cells.append(f"{f:.1f} -> {a:.1f} ({a / f:.3f})")
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
        gm = {label: math.exp(np.mean([math.log(r["wer"][split]["averaged"][s] / r["wer"][split]["final"][s])
                                       for s in args.subnets])) for label, r in runs.items()}  # fmt: skip
        spread = {}
        for kind in ("final", "averaged"):
            logs = np.log([[r["wer"][split][kind][s] for s in args.subnets] for r in runs.values()])
            spread[kind] = float(np.sqrt(np.mean(np.var(logs, axis=0, ddof=1)))) if len(runs) > 1 else float("nan")
        summary[split] = {"geometric_mean_ratio": gm, "spread_across_runs": spread}
        across = (f" Spread across these runs (sd of log WER per subnet, RMS over subnets): step's checkpoint "
                  f"{spread['final']:.4f}, averaged {spread['averaged']:.4f}." if len(runs) > 1 else "")  # fmt: skip
        lines += ["", "Geometric mean ratio over the subnets: " + ", ".join(f"{k} {v:.3f}" for k, v in gm.items())
                  + "." + across, ""]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.record:
        (HERE / f"{args.record}.md").write_text(text + "\n")
        payload = {"step": args.step, "last": args.last, "eval_corpus": str(args.eval_corpus),
                   "runs": runs, "summary": summary}  # fmt: skip
        (HERE / f"{args.record}.json").write_text(json.dumps(payload, indent=1) + "\n")
        print(f"wrote {HERE / args.record}.md and .json")


if __name__ == "__main__":
    main()
