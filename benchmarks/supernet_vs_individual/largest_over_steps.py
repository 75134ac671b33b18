"""The largest subnet's WER at every few hundred steps of supernet runs: how far it still
moves from one checkpoint to the next near the end of training.

    .venv/bin/python benchmarks/supernet_vs_individual/largest_over_steps.py \
        --manifest corpora/open-2h-eval/test.jsonl --cache-dir exp/warmup \
        --run r3-seed1=exp/svi-cpu-strat-seed1/supernet ... --record

Each run's ``checkpoints/step-N.pt`` for N in ``--steps``, decoded greedily once (kept as
``CACHE_DIR/NAME-stepN.json``). ``--record`` writes ``largest-over-steps.md`` and
``.json`` beside this script.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from average_effect import HERE, wer_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", required=True, metavar="NAME=EXP_DIR")
    ap.add_argument("--manifest", type=Path, required=True)
    ap.add_argument("--steps", type=int, nargs="+", default=list(range(300, 3001, 300)))
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    table: dict[str, dict[int, float]] = {}
    for item in args.run:
        name, _, path = item.partition("=")
        exp = Path(path)
        table[name] = {}
        for step in args.steps:
            wer = wer_of(exp / "checkpoints" / f"step-{step}.pt", args.cache_dir / f"{name}-step{step}.json",
                         args.manifest, ["largest"])  # fmt: skip
            table[name][step] = wer["largest"]
    lines = [f"# The largest subnet's WER % on {args.manifest} by training step (greedy)", "",
             "| run | " + " | ".join(map(str, args.steps)) + " |", "|---|" + "---|" * len(args.steps)]  # fmt: skip
    lines += [f"| {name} | " + " | ".join(f"{w:.1f}" for w in row.values()) + " |" for name, row in table.items()]
    text = "\n".join(lines)
    print(text)
    if args.record:
        (HERE / "largest-over-steps.md").write_text(text + "\n")
        (HERE / "largest-over-steps.json").write_text(json.dumps(
            {"manifest": str(args.manifest), "runs": {k: dict(zip(args.steps, v.values())) for k, v in table.items()},
             "exp": dict(r.partition("=")[::2] for r in args.run)}, indent=1) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
