"""Train once vs train each: one supernet against the same subnets trained individually.

    # full version (GPU; hours on a CPU): 10 h open-vocabulary corpus, paper recipe
    todm data synth --out corpora/open-10h --domain open --hours 10
    .venv/bin/python benchmarks/supernet_vs_individual/run.py \
        --corpus corpora/open-10h --config configs/paper-conformer-gpu.yaml --out exp/svi

    # reduced version (shared 2-core CPU, minutes): tiny digits corpus, tiny recipe
    .venv/bin/python benchmarks/supernet_vs_individual/run.py --reduced --out /tmp/svi

Trains the supernet with the TODM recipe, then each of ``--subnets`` (default: four
uniform subnets spread from the smallest to the largest of the search space) alone with
the same recipe in baseline mode (``recipe.baseline_subnet``), on the same data for the
same number of steps. Evaluates every model on ``test`` and ``test-unseen-voice`` and
writes ``results.json`` and ``results.md`` (a Markdown table) to ``--out``;
``--record`` also copies them beside this script. ``--part`` splits the work into
processes that run side by side (see README.md); each run's cost is the wall and CPU
seconds its training recorded in its checkpoint.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

from todm.supernet.checkpoint import read_checkpoint
from todm.supernet.evaluate import evaluate
from todm.supernet.model import Supernet
from todm.supernet.space import SearchSpace, SubnetSpec
from todm.supernet.train import train
from todm.supernet.train_config import TrainConfig

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SPLITS = ("test", "test-unseen-voice")


def spread_subnets(space: SearchSpace, n: int) -> list[SubnetSpec]:
    """``n`` uniform subnets from the smallest to the largest, each knob at the same quantile."""
    choices = [sorted(space.depth_choices), sorted(space.d_model_choices),
               sorted(space.ffn_choices), sorted(space.head_choices)]  # fmt: skip
    specs: list[SubnetSpec] = []
    for k in range(n):
        q = k / max(n - 1, 1)
        depth, d_model, ffn, heads = (c[round(q * (len(c) - 1))] for c in choices)
        spec = space.resolve(SubnetSpec.uniform(depth, d_model, ffn, heads))
        if spec not in specs:
            specs.append(spec)
    return specs


def trained(cfg: TrainConfig, quiet: bool, run_training: bool) -> dict[str, Any]:
    """Train (resuming what is there) and read the run's cost back from its checkpoint.

    The cost is what training recorded, summed over every resume: wall seconds and CPU
    seconds of the training process. CPU seconds are the fair measure when runs share a
    machine with other work, as they do when two runs go side by side on two cores.
    """
    exp = Path(cfg.exp_dir)
    if run_training:
        exp = train(cfg, resume=True, quiet=quiet)
    last = exp / "checkpoints" / "last.pt"
    if not last.is_file():
        raise SystemExit(f"{last}: not trained yet (run this part first)")
    rec = read_checkpoint(last)
    if int(rec["position"]["step"]) < cfg.max_steps and int(rec["position"]["epoch"]) < cfg.max_epochs:
        raise SystemExit(f"{last}: stopped at step {rec['position']['step']} of {cfg.max_steps}; resume it")
    cost = rec.get("cost", {})
    return {"exp": str(exp), "train_seconds": round(float(cost.get("wall_seconds", 0.0)), 1),
            "train_cpu_seconds": round(float(cost.get("cpu_seconds", 0.0)), 1)}  # fmt: skip


def evaluated(ckpt: Path, manifest: Path, subnet: str, method: str, max_utts: int | None) -> dict[str, Any]:
    """``evaluate``, kept beside the checkpoint so that a re-run reports without decoding again."""
    out = ckpt.parent.parent / f"eval-{subnet}-{manifest.stem}-{method}-{max_utts or 'all'}.json"
    if out.is_file() and out.stat().st_mtime >= ckpt.stat().st_mtime:
        return json.loads(out.read_text())
    res = evaluate(ckpt, manifest, [subnet], method, max_utts=max_utts)
    out.write_text(json.dumps(res, indent=2) + "\n")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="corpus dir with train/test/test-unseen-voice.jsonl")
    ap.add_argument("--config", type=Path, help="training recipe (YAML)")
    ap.add_argument("--out", type=Path, required=True, help="experiments and results go here")
    ap.add_argument("--subnets", nargs="+", help="subnet ids (default: --num-subnets spread over the space)")
    ap.add_argument("--num-subnets", type=int, default=4)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override for every run, e.g. --set max_steps=2000")  # fmt: skip
    ap.add_argument("--method", default="greedy", choices=["greedy", "beam", "ctc"])
    ap.add_argument("--max-eval-utts", type=int, default=None)
    ap.add_argument("--reduced", action="store_true",
                    help="tiny digits corpus + configs/tiny-digits.yaml (a CPU smoke version)")  # fmt: skip
    ap.add_argument("--record", action="store_true", help="copy results beside this script")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--part", default="all", choices=["all", "supernet", "individual", "report"],
                    help="train only the supernet or only the individual models (two processes side "
                    "by side), or only evaluate and report runs already trained")  # fmt: skip
    args = ap.parse_args()

    if args.reduced:
        from todm.data.testing import make_tiny_corpus

        args.corpus = args.corpus or make_tiny_corpus(args.out / "corpus")
        args.config = args.config or REPO / "configs" / "tiny-digits.yaml"
    if args.corpus is None or args.config is None:
        ap.error("--corpus and --config are required (or --reduced)")
    overrides = [f"data.train_manifest={args.corpus / 'train.jsonl'}", *args.set]
    base = TrainConfig.from_yaml_file(args.config, overrides)
    space = Supernet(base.model).space
    subnets = [space.resolve(s) for s in args.subnets] if args.subnets else spread_subnets(space, args.num_subnets)

    runs: list[dict[str, Any]] = []
    sup_cfg = TrainConfig.from_yaml_file(args.config, [*overrides, f"exp_dir={args.out / 'supernet'}"])
    if args.part in ("all", "supernet"):
        trained(sup_cfg, args.quiet, True)
    ind_cfgs = [
        TrainConfig.from_yaml_file(
            args.config,
            [*overrides, f"exp_dir={args.out / ('individual-' + spec.id)}", f"recipe.baseline_subnet={spec.id}"],
        )
        for spec in subnets
    ]
    if args.part in ("all", "individual"):
        for cfg in ind_cfgs:
            trained(cfg, args.quiet, True)
    if args.part in ("supernet", "individual"):
        return
    runs.append({"name": "supernet", **trained(sup_cfg, args.quiet, False), "subnets": [s.id for s in subnets]})
    for spec, cfg in zip(subnets, ind_cfgs):
        runs.append({"name": f"individual {spec.id}", **trained(cfg, args.quiet, False), "subnets": [spec.id]})

    rows = []
    for spec in subnets:
        row: dict[str, Any] = {"subnet": spec.id, "params": space.num_params(spec)}
        for kind, run in (("supernet", runs[0]), ("individual", next(r for r in runs[1:] if r["subnets"] == [spec.id]))):
            ckpt = Path(run["exp"]) / "checkpoints" / "last.pt"
            for split in SPLITS:
                res = evaluated(ckpt, args.corpus / f"{split}.jsonl", spec.id, args.method, args.max_eval_utts)
                row[f"{kind}_{split}_wer"] = res["subnets"][spec.id]["wer"]
                row[f"{kind}_{split}_cer"] = res["subnets"][spec.id]["cer"]
        rows.append(row)

    individual_total = sum(r["train_seconds"] for r in runs[1:])
    individual_cpu = sum(r["train_cpu_seconds"] for r in runs[1:])
    cost_ratio = runs[0]["train_cpu_seconds"] / max(individual_cpu, 1e-9)
    result = {
        "command": "python benchmarks/supernet_vs_individual/run.py " + " ".join(sys.argv[1:]),
        "reduced": args.reduced,
        "config": str(args.config),
        "corpus": str(args.corpus),
        "max_steps": base.max_steps,
        "method": args.method,
        "machine": f"{platform.machine()}, {base.num_threads or torch.get_num_threads()} training thread(s) per run, "
        f"{'cuda' if torch.cuda.is_available() else 'cpu'}",
        "supernet_train_seconds": runs[0]["train_seconds"],
        "individual_train_seconds_total": round(individual_total, 1),
        "supernet_train_cpu_seconds": runs[0]["train_cpu_seconds"],
        "individual_train_cpu_seconds_total": round(individual_cpu, 1),
        "cost_ratio_cpu": round(cost_ratio, 3),
        "runs": runs,
        "rows": rows,
    }
    lines = [
        f"Supernet trained once in {runs[0]['train_cpu_seconds']:.0f} CPU s ({runs[0]['train_seconds']:.0f} s "
        f"wall); the {len(subnets)} subnets trained individually took {individual_cpu:.0f} CPU s "
        f"({individual_total:.0f} s wall) in total: a cost ratio of {cost_ratio:.2f} "
        f"({base.max_steps} steps each, {args.method} decoding).",
        "",
        "WER % (CER %), supernet subnet against its individually trained twin; ratio = supernet / individual WER.",
        "",
        "| subnet | params | test: supernet | test: individual | ratio | unseen voice: supernet "
        "| unseen voice: individual | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def cell(r: dict[str, Any], kind: str, split: str) -> str:
        return f"{r[f'{kind}_{split}_wer']:.1f} ({r[f'{kind}_{split}_cer']:.1f})"

    for r in rows:
        ratios = [r[f"supernet_{sp}_wer"] / max(r[f"individual_{sp}_wer"], 1e-9) for sp in SPLITS]
        lines.append(
            f"| {r['subnet']} | {r['params']:,} | {cell(r, 'supernet', 'test')} | {cell(r, 'individual', 'test')} "
            f"| {ratios[0]:.3f} | {cell(r, 'supernet', 'test-unseen-voice')} "
            f"| {cell(r, 'individual', 'test-unseen-voice')} | {ratios[1]:.3f} |"
        )
    lines += ["", "| run | CPU s | wall s | CPU s per step |", "| --- | ---: | ---: | ---: |"]
    for r in runs:
        lines.append(f"| {r['name']} | {r['train_cpu_seconds']:.0f} | {r['train_seconds']:.0f} "
                     f"| {r['train_cpu_seconds'] / base.max_steps:.2f} |")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.record:
        shutil.copy(args.out / "results.json", HERE / "result.json")
        shutil.copy(args.out / "results.md", HERE / "result.md")


if __name__ == "__main__":
    main()
