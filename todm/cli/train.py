"""``todm train``, ``todm average`` and ``todm eval``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser(
        "train", help="train a supernet once (or one subnet alone with recipe.baseline_subnet)",
        description="Train with the TODM recipe: sandwich rule, in-place alpha-divergence "
        "distillation, adaptive dropout, ScaledAdam + Eden. Runs on CPU or GPU; use "
        "torchrun for several processes.",
    )  # fmt: skip
    t.add_argument("--config", type=Path, required=True, help="YAML recipe (see configs/)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set max_steps=100 (repeatable)")
    t.add_argument("--resume", action="store_true", help="continue from exp_dir/checkpoints/last.pt")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=_train)

    a = sub.add_parser(
        "average", help="average a run's last checkpoints into one (decodes better, varies less)",
        description="Write the element-wise mean of a run's last --last step-N.pt checkpoints (or "
        "of the --checkpoints given) as a checkpoint that todm eval, slice and export read. "
        "Example: todm average --exp-dir exp/svi-cpu --last 5",
    )  # fmt: skip
    a.add_argument("--exp-dir", type=Path, help="training experiment dir (holds checkpoints/step-N.pt)")
    a.add_argument("--last", type=int, default=5, help="how many of its latest checkpoints (default 5)")
    a.add_argument("--until", type=int, metavar="STEP", help="the latest step to take (default: the last kept)")
    a.add_argument("--checkpoints", type=Path, nargs="+", help="these checkpoints instead of --exp-dir")
    a.add_argument("--out", type=Path, help="file to write (default: checkpoints/avg-FIRST-LAST.pt beside them, "
                   "where eval finds the run's tokenizer)")  # fmt: skip
    a.set_defaults(func=_average)

    e = sub.add_parser("eval", help="WER/CER of subnets of a checkpoint on a manifest")
    e.add_argument("--checkpoint", type=Path, required=True)
    e.add_argument("--manifest", type=Path, required=True)
    e.add_argument("--subnet", action="append", default=None,
                   help="subnet id, 'largest' or 'smallest' (repeatable; default: both ends)")
    e.add_argument("--method", choices=["greedy", "beam", "ctc"], default="greedy")
    e.add_argument("--beam", type=int, default=4)
    e.add_argument("--max-utts", type=int, default=None)
    e.add_argument("--out", type=Path, help="write the results JSON here")
    e.add_argument("--compare-to", type=Path, metavar="RESULTS_JSON",
                   help="another eval's --out on the same manifest: print each WER ratio with its 95%% "
                   "paired-bootstrap interval")  # fmt: skip
    e.set_defaults(func=_eval)


def _train(args: argparse.Namespace) -> int:
    from todm.supernet.train import train
    from todm.supernet.train_config import TrainConfig

    cfg = TrainConfig.from_yaml_file(args.config, args.set)
    exp = train(cfg, resume=args.resume, quiet=args.quiet)
    print(f"{exp}: trained to step {cfg.max_steps}; checkpoint {exp / 'checkpoints' / 'last.pt'}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    import json

    from todm.errors import DataError
    from todm.supernet.evaluate import compare_results, evaluate, format_results

    baseline = None
    if args.compare_to is not None:  # read first: a bad file should not cost a decoding
        try:
            baseline = json.loads(args.compare_to.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise DataError(f"{args.compare_to}: not a readable eval result ({e})") from None
        if not isinstance(baseline, dict) or not {"manifest", "subnets"} <= baseline.keys():
            raise DataError(f"{args.compare_to}: not a readable eval result (no manifest and subnets)")
    res = evaluate(args.checkpoint, args.manifest, args.subnet, args.method, args.beam,
                   args.max_utts, args.out)  # fmt: skip
    print(format_results(res))
    if baseline is not None:
        print(compare_results(res, baseline, str(args.compare_to)))
    return 0


def _average(args: argparse.Namespace) -> int:
    from todm.cli import CLIError
    from todm.supernet.averaging import average_to_file, last_checkpoints

    if (args.exp_dir is None) == (args.checkpoints is None):
        raise CLIError("give one of --exp-dir and --checkpoints")
    paths = args.checkpoints or last_checkpoints(args.exp_dir, args.last, args.until)
    out = args.out or _default_average_path(paths)
    rec = average_to_file(paths, out)
    steps = ", ".join(str(s["step"]) for s in rec["averaged_from"])
    print(f"averaged {len(paths)} checkpoints (steps {steps}) -> {out}")
    # eval, slice and export find a checkpoint's tokenizer at <exp>/tokenizer, two levels up
    if not (out.parent.parent / "tokenizer").is_dir() and (paths[-1].parent.parent / "tokenizer").is_dir():
        print(f"note: todm eval looks for the tokenizer in {out.parent.parent / 'tokenizer'}; the run's is "
              f"{paths[-1].parent.parent / 'tokenizer'} (write into its checkpoints/ folder, or copy it)",
              file=sys.stderr)  # fmt: skip
    return 0


def _default_average_path(paths: list[Path]) -> Path:
    return paths[-1].parent / f"avg-{paths[0].stem.removeprefix('step-')}-{paths[-1].stem.removeprefix('step-')}.pt"
