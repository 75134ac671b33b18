"""``todm demo``: the whole pipeline on a small synthetic corpus."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the pipeline end to end on a small synthetic corpus",
        description="Synthesize a small corpus with real TTS voices, then run every stage "
        "of todm on it. Artifacts go to --out; a re-run resumes.",
    )
    p.add_argument("--out", type=Path, default=Path("todm-demo"), help="demo directory (default: todm-demo)")
    p.add_argument("--domain", default="digits", choices=["digits", "commands"],
                   help="small-vocabulary domain that trains in minutes on a CPU")
    p.add_argument("--num-utts", type=int, default=400, help="corpus size (utterances)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from todm.demo import DemoConfig, run_demo

    run_demo(DemoConfig(out_dir=args.out, domain=args.domain, num_utts=args.num_utts,
                        seed=args.seed, quiet=args.quiet))  # fmt: skip
    return 0
