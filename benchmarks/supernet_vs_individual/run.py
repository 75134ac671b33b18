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
reports each WER ratio with its 95% paired-bootstrap interval over the test utterances
(``todm.runtime.scoring``: a ratio's miss or pass is only meaningful outside it), and
writes ``results.json`` and ``results.md`` (a Markdown table) to ``--out``;
``--record`` also copies them beside this script (``--record NAME``: as NAME.json and
NAME.md), with every decoded utterance's word errors (NAME-utterances.json), so that
paired comparisons between records need no ``exp/``. ``--part`` splits the work into
processes that run side by side (see README.md); each run's cost is the wall and CPU
seconds its training recorded in its checkpoint. ``--part cost-probe`` also times
``--probe-steps`` steps of every run's recipe interleaved in one process
(``todm.supernet.step_cost``), a per-step cost ratio that does not depend on what else
shared the machine while each run trained; the report adds it when it is there.
``--eval-corpus`` decodes a larger test set than the training corpus's own; ``--step N``
reports every run as it stood at step N. ``--twins-from twin-seeds.json`` reports a
supernet against one recorded seed of its twins (``twin_seed.py --record``: their WERs
and every utterance's word errors) instead of twins trained under ``--out``, so that a
supernet trained on a machine where the twins' runs are gone is still compared, paired
utterance by utterance; the twins' training cost is then the cost probe's alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

import torch
from seeds import compact_json

from todm.runtime.scoring import UtteranceErrors, paired_bootstrap_ratio
from todm.supernet.checkpoint import read_checkpoint
from todm.supernet.evaluate import evaluate
from todm.supernet.model import Supernet
from todm.supernet.space import SearchSpace, SubnetSpec
from todm.supernet.step_cost import StepCosts, probe_step_costs
from todm.supernet.train import train
from todm.supernet.train_config import TrainConfig

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SPLITS = ("test", "test-unseen-voice")
# The paper's claim, as issue 3 states it: every subnet within 3% of its twin's WER, for at
# most a third of the cost of training the twins.
WER_RATIO_TARGET = 1.03
COST_RATIO_TARGET = 1 / 3


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


def checkpoint_at(exp: Path, step: int | None) -> Path:
    return exp / "checkpoints" / ("last.pt" if step is None else f"step-{step}.pt")


def trained(cfg: TrainConfig, quiet: bool, run_training: bool, step: int | None = None) -> dict[str, Any]:
    """Train (resuming what is there) and read the run's cost back from its checkpoint.

    ``step`` reads an intermediate checkpoint instead of the last one, to report the
    comparison as it stood earlier in the same runs.

    The cost is what training recorded, summed over every resume: wall seconds and CPU
    seconds of the training process. CPU seconds are the fair measure when runs share a
    machine with other work, as they do when two runs go side by side on two cores.
    """
    exp = Path(cfg.exp_dir)
    if run_training:
        exp = train(cfg, resume=True, quiet=quiet)
    ckpt = checkpoint_at(exp, step)
    if not ckpt.is_file():
        raise SystemExit(f"{ckpt}: not trained yet (run this part first)")
    rec = read_checkpoint(ckpt)
    reached = int(rec["position"]["step"])
    if step is None and reached < cfg.max_steps and int(rec["position"]["epoch"]) < cfg.max_epochs:
        raise SystemExit(f"{ckpt}: stopped at step {reached} of {cfg.max_steps}; resume it")
    cost = rec.get("cost", {})
    # what the run trained with, as its own config.yaml says, not as this report was told
    saved = TrainConfig.from_yaml_file(exp / "config.yaml")
    return {"exp": str(exp), "checkpoint": str(ckpt), "steps": reached,
            "train_seconds": round(float(cost.get("wall_seconds", 0.0)), 1),
            "train_cpu_seconds": round(float(cost.get("cpu_seconds", 0.0)), 1),
            "num_threads": saved.num_threads, "seed": saved.seed,
            "recipe": dataclasses.asdict(saved.recipe)}  # fmt: skip


def describe_recipe(recipe: dict[str, Any]) -> str:
    """The supernet's sampling rule in words, for the report."""
    widths = recipe.get("random_width_weights")
    bottom = "each width's smallest in turn" if recipe.get("smallest_per_width") else "the smallest"
    text = (f"each step the largest, {bottom} and {recipe['num_random']} random subnet(s)"
            + (f" (width odds {widths})" if widths else "")
            + (" (one of each width)" if recipe.get("random_per_width") else ""))  # fmt: skip
    if recipe.get("shrink_after_steps"):
        sort = " (its channels sorted by importance at the end)" if recipe.get("sort_channels_at_shrink") else ""
        text = f"the largest subnet alone for the first {recipe['shrink_after_steps']} steps{sort}, then {text}"
    return f"Supernet recipe: {text}; in-place distillation weight {recipe['kd_weight']}."


def evaluated(ckpt: Path, manifest: Path, subnets: list[str], method: str, max_utts: int | None) -> dict[str, Any]:
    """Each subnet's ``evaluate`` result, kept beside the checkpoint so that a re-run reports
    without decoding again; the subnets not kept yet are decoded in one pass (features once)."""
    at = "" if ckpt.stem == "last" else f"-{ckpt.stem}"
    found: dict[str, Any] = {}
    paths = {}
    for subnet in subnets:
        name = f"eval-{subnet}-{manifest.parent.name}-{manifest.stem}-{method}-{max_utts or 'all'}{at}.json"
        paths[subnet] = out = ckpt.parent.parent / name
        if out.is_file() and out.stat().st_mtime >= ckpt.stat().st_mtime:
            res = json.loads(out.read_text())
            # older evaluations lack per-utterance counts: decode again
            if res["manifest"] == str(manifest) and "utterances" in res["subnets"][subnet]:
                found[subnet] = res["subnets"][subnet]
    missing = [s for s in subnets if s not in found]
    if missing:
        res = evaluate(ckpt, manifest, missing, method, max_utts=max_utts)
        for subnet in missing:
            one = {**res, "subnets": {subnet: res["subnets"][subnet]}}
            paths[subnet].write_text(json.dumps(one, indent=2) + "\n")
            found[subnet] = res["subnets"][subnet]
    return found


def recorded_twins(path: Path, seed: int, subnets: list[str]) -> tuple[int, dict[str, dict[str, dict[str, Any]]]]:
    """The steps the recorded twins trained, and each subnet's twin of ``seed`` on each split
    as ``twin_seed.py --record`` kept it: {subnet: {split: {wer, source, words, word_errors}}};
    stops, naming the file, where a twin, its seed or its per-utterance word errors are missing."""
    try:
        record = json.loads(path.read_text())
        twins, steps = record["twins"], int(record["about"]["steps"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise SystemExit(f"{path}: not a twin_seed.py record ({type(e).__name__}: {e})") from e
    out = {}
    for subnet in subnets:
        kept = twins.get(subnet, {}).get(str(seed), {})
        for split in SPLITS:
            if "word_errors" not in kept.get(split, {}):
                raise SystemExit(f"{path}: no word errors by utterance for seed {seed} of {subnet}'s twin on {split} "
                                 "(only seeds decoded since twin_seed.py kept them have them)")  # fmt: skip
        out[subnet] = kept
    return steps, out


def twin_errors(kept: dict[str, Any], sup: list[UtteranceErrors], where: str) -> list[UtteranceErrors]:
    """A recorded twin's word errors, utterance by utterance beside the supernet's decoding of
    the same test set (the record keeps no character counts: the supernet's stand in)."""
    if kept["words"] != [u.words for u in sup]:
        raise SystemExit(f"{where}: the twin was scored on other test utterances than the supernet "
                         "(another --eval-corpus, or one made differently)")  # fmt: skip
    return [UtteranceErrors(u.words, e, u.chars, 0) for u, e in zip(sup, kept["word_errors"])]


def step_cost_summary(path: Path, names: list[str], result: dict[str, Any]) -> list[str]:
    """Add the side-by-side step cost probe (``--part cost-probe``) of the runs ``names``
    (the supernet first) to ``result``; its lines for the report. Nothing when no probe of
    exactly these runs is there."""
    if not path.is_file():
        return []
    probe = StepCosts(**json.loads(path.read_text()))
    if sorted(probe.cpu_seconds) != sorted(names):
        print(f"{path}: probed other runs than these; left out of the report (run --part cost-probe again)")
        return []
    twins = names[1:]
    by_sizes = [probe.ratio("supernet", twins[:k]) for k in range(1, len(twins) + 1)]
    result["step_cost_probe"] = {
        "steps": probe.steps,
        "cpu_seconds_per_step": {n: round(probe.mean_cpu(n), 4) for n in names},
        "cost_ratio_cpu": by_sizes[-1],
        "cost_ratio_cpu_by_sizes": [round(r["ratio"], 3) for r in by_sizes],
    }
    result["targets"]["cost_ratio_side_by_side_met"] = by_sizes[-1]["ratio"] <= COST_RATIO_TARGET
    last = by_sizes[-1]
    lines = [
        "",
        f"Step cost measured side by side ({path.name}: every run's recipe built in one process and "
        f"timed on the same {len(probe.steps)} batches, interleaved step by step): one supernet step costs "
        f"{last['ratio']:.3f} [95%: {last['low']:.3f}, {last['high']:.3f}] times one step of all {len(twins)} twins "
        f"together (target {COST_RATIO_TARGET:.3f}); with equal steps that is the cost ratio, free of what else ran "
        f"beside each training. Against the first k twins: {', '.join(format(r['ratio'], '.2f') for r in by_sizes)}.",
        "",
        "| run | CPU s per step, side by side |",
        "| --- | ---: |",
    ]
    lines += [f"| {n} | {probe.mean_cpu(n):.2f} |" for n in names]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="corpus dir with train/test/test-unseen-voice.jsonl")
    ap.add_argument("--config", type=Path, help="training recipe (YAML)")
    ap.add_argument("--eval-corpus", type=Path,
                    help="decode test/test-unseen-voice of this corpus instead of --corpus's (a larger "
                    "test set made with `todm data synth --exclude-text`: tighter intervals)")  # fmt: skip
    ap.add_argument("--out", type=Path, required=True, help="experiments and results go here")
    ap.add_argument("--subnets", nargs="+", help="subnet ids (default: --num-subnets spread over the space)")
    ap.add_argument("--num-subnets", type=int, default=4)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override for every run, e.g. --set max_steps=2000")  # fmt: skip
    ap.add_argument("--method", default="greedy", choices=["greedy", "beam", "ctc"])
    ap.add_argument("--max-eval-utts", type=int, default=None)
    ap.add_argument("--reduced", action="store_true",
                    help="tiny digits corpus + configs/tiny-digits.yaml (a CPU smoke version)")  # fmt: skip
    ap.add_argument("--record", nargs="?", const="result", default=None, metavar="NAME",
                    help="copy results beside this script as NAME.json and NAME.md (default: result)")  # fmt: skip
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--step", type=int, default=None,
                    help="report from each run's checkpoint at this step instead of its last one")  # fmt: skip
    ap.add_argument("--part", default="all", choices=["all", "supernet", "individual", "cost-probe", "report"],
                    help="train only the supernet or only the individual models (two processes side "
                    "by side), time their steps side by side in one process, or only evaluate and "
                    "report runs already trained")  # fmt: skip
    ap.add_argument("--probe-steps", type=int, default=60,
                    help="steps per run that --part cost-probe times (--part all: 0 skips the probe)")  # fmt: skip
    ap.add_argument("--twins-from", type=Path, metavar="TWIN_SEEDS_JSON",
                    help="--part report: the twins as twin_seed.py recorded them (one seed, see --twin-seed) "
                    "instead of runs under --out")  # fmt: skip
    ap.add_argument("--twin-seed", type=int, default=2, help="the twins' seed that --twins-from reports")
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
    probe_path = args.out / "step-costs.json"
    if args.part == "cost-probe" or (args.part == "all" and args.probe_steps > 0):
        probe = probe_step_costs({"supernet": sup_cfg, **{f"individual {s.id}": c for s, c in zip(subnets, ind_cfgs)}},
                                 args.out / "step-cost-probe", args.probe_steps)  # fmt: skip
        args.out.mkdir(parents=True, exist_ok=True)
        probe_path.write_text(json.dumps(probe.to_dict(), indent=2) + "\n")
        print(f"{probe_path}: supernet step {probe.mean_cpu('supernet'):.2f} CPU s; "
              + ", ".join(f"{n} {probe.mean_cpu(n):.2f}" for n in probe.cpu_seconds if n != "supernet"))
    if args.part in ("supernet", "individual", "cost-probe"):
        return
    step = args.step
    eval_corpus = args.eval_corpus or args.corpus
    runs.append({"name": "supernet", **trained(sup_cfg, args.quiet, False, step), "subnets": [s.id for s in subnets]})
    recorded = None
    if args.twins_from:
        twin_steps, recorded = recorded_twins(args.twins_from, args.twin_seed, [s.id for s in subnets])
        if twin_steps != runs[0]["steps"]:
            raise SystemExit(f"{args.twins_from}: its twins trained {twin_steps} steps, the supernet "
                             f"{runs[0]['steps']}: compare like with like (--step)")  # fmt: skip
        steps = {twin_steps}
    else:
        for spec, cfg in zip(subnets, ind_cfgs):
            runs.append({"name": f"individual {spec.id}", **trained(cfg, args.quiet, False, step),
                         "subnets": [spec.id]})  # fmt: skip
        steps = {r["steps"] for r in runs}
    if len(steps) != 1:
        raise SystemExit(f"the runs stopped at different steps {sorted(steps)}: compare like with like")
    (num_steps,) = steps

    rows = []
    # per utterance: word count by split, word errors by subnet and "kind split"
    per_utt: dict[str, Any] = {"words": {}, "word_errors": {}}
    for spec in subnets:
        row: dict[str, Any] = {"subnet": spec.id}
        utts: dict[tuple[str, str], list[UtteranceErrors]] = {}
        kinds = [("supernet", runs[0])]
        if recorded is None:
            kinds.append(("individual", next(r for r in runs[1:] if r["subnets"] == [spec.id])))
        for kind, run in kinds:
            for split in SPLITS:
                res = evaluated(Path(run["checkpoint"]), eval_corpus / f"{split}.jsonl", run["subnets"], args.method,
                                args.max_eval_utts)[spec.id]  # fmt: skip
                # the trained model's own count: its vocabulary comes from the tokenizer, not the YAML
                row["params"] = res["params"]
                row[f"{kind}_{split}_wer"] = res["wer"]
                row[f"{kind}_{split}_cer"] = res["cer"]
                utts[kind, split] = [UtteranceErrors.from_dict(u) for u in res["utterances"]]
        if recorded is not None:
            for split in SPLITS:
                kept = recorded[spec.id][split]
                row[f"individual_{split}_wer"] = kept["wer"]
                row[f"individual_{split}_cer"] = None
                utts["individual", split] = twin_errors(kept, utts["supernet", split],
                                                        f"{args.twins_from}: {spec.id} seed {args.twin_seed} {split}")
        for kind in ("supernet", "individual"):
            for split in SPLITS:
                per_utt["words"][split] = [u.words for u in utts[kind, split]]
                per_utt["word_errors"].setdefault(spec.id, {})[f"{kind} {split}"] = [
                    u.word_errors for u in utts[kind, split]]  # fmt: skip
        for split in SPLITS:
            sup, ind = utts["supernet", split], utts["individual", split]
            if any(u.word_errors for u in ind):
                row[f"{split}_wer_ratio"] = paired_bootstrap_ratio(sup, ind).to_dict()
            else:  # a twin without a single error (tiny smoke runs): a ratio only if both are perfect
                perfect = not any(u.word_errors for u in sup)
                row[f"{split}_wer_ratio"] = dict.fromkeys(("ratio", "low", "high"), 1.0 if perfect else float("inf"))
        rows.append(row)

    twin_names = [f"individual {spec.id}" for spec in subnets]
    cost_lines: list[str]
    if recorded is None:
        individual_total: float | None = round(sum(r["train_seconds"] for r in runs[1:]), 1)
        individual_cpu: float | None = round(sum(r["train_cpu_seconds"] for r in runs[1:]), 1)
        cost_ratio: float | None = runs[0]["train_cpu_seconds"] / max(individual_cpu or 0.0, 1e-9)
        # The supernet's cost is fixed while each further size trained alone adds its own: the
        # ratio as the twins add up, in --subnets order, shows how many sizes it takes to pay off.
        twins_cpu = [r["train_cpu_seconds"] for r in runs[1:]]
        cost_ratio_by_sizes = [round(runs[0]["train_cpu_seconds"] / max(sum(twins_cpu[:k]), 1e-9), 3)
                               for k in range(1, len(twins_cpu) + 1)]  # fmt: skip
        cost_lines = [
            f"Supernet trained once in {runs[0]['train_cpu_seconds']:.0f} CPU s ({runs[0]['train_seconds']:.0f} s "
            f"wall); the {len(subnets)} subnets trained individually took {individual_cpu:.0f} CPU s "
            f"({individual_total:.0f} s wall) in total: a cost ratio of {cost_ratio:.2f} "
            f"(target {COST_RATIO_TARGET:.2f}; {num_steps} steps each, {args.method} decoding).",
            f"Cost ratio against the first k twins, k = 1..{len(cost_ratio_by_sizes)}: "
            f"{', '.join(f'{c:.2f}' for c in cost_ratio_by_sizes)}.",
        ]
    else:
        individual_total = individual_cpu = cost_ratio = None
        cost_ratio_by_sizes = []
        cost_lines = [
            f"Supernet trained once in {runs[0]['train_cpu_seconds']:.0f} CPU s ({runs[0]['train_seconds']:.0f} s "
            f"wall), {num_steps} steps, {args.method} decoding. Twins: seed {args.twin_seed} of each, as "
            f"{args.twins_from} keeps them (WER and word errors, no CER); their training cost is not "
            "on this machine, so the cost ratio is the side-by-side probe's below.",
        ]
    ratios = [r[f"{sp}_wer_ratio"] for r in rows for sp in SPLITS]
    result = {
        "command": "python benchmarks/supernet_vs_individual/run.py " + " ".join(sys.argv[1:]),
        "reduced": args.reduced,
        "config": str(args.config),
        "corpus": str(args.corpus),
        "eval_corpus": str(eval_corpus),
        "steps": num_steps,
        "method": args.method,
        "machine": f"{platform.machine()}, training threads per run: "
        + ", ".join(sorted({f"{r['num_threads'] or torch.get_num_threads()}" for r in runs if "num_threads" in r}))
        + f", {'cuda' if torch.cuda.is_available() else 'cpu'}",
        "supernet_recipe": runs[0]["recipe"],
        "supernet_train_seconds": runs[0]["train_seconds"],
        "individual_train_seconds_total": individual_total,
        "supernet_train_cpu_seconds": runs[0]["train_cpu_seconds"],
        "individual_train_cpu_seconds_total": individual_cpu,
        "cost_ratio_cpu": None if cost_ratio is None else round(cost_ratio, 3),
        "cost_ratio_cpu_by_sizes": cost_ratio_by_sizes,
        "targets": {
            "wer_ratio_max": WER_RATIO_TARGET,
            "wer_ratios_met": sum(iv["ratio"] <= WER_RATIO_TARGET for iv in ratios),
            # a miss whose whole 95% interval lies above the target is more than the luck of the test sentences
            "wer_ratios_surely_missed": sum(iv["low"] > WER_RATIO_TARGET for iv in ratios),
            "wer_ratios_total": len(ratios),
            "cost_ratio_max": COST_RATIO_TARGET,
            "cost_ratio_met": None if cost_ratio is None else cost_ratio <= COST_RATIO_TARGET,
        },
        "runs": runs,
        **({"twins_from": {"record": str(args.twins_from), "seed": args.twin_seed}} if recorded is not None else {}),
        "rows": rows,
    }
    probe_lines = step_cost_summary(probe_path, ["supernet", *twin_names], result)
    t = result["targets"]
    lines = [
        *cost_lines,
        describe_recipe(runs[0]["recipe"]) + f" Seed {runs[0]['seed']}.",
        "",
        "WER % (CER %), supernet subnet against its individually trained twin; ratio = supernet / individual WER, "
        "with its 95% paired-bootstrap interval over the test utterances.",
        f"Target: ratio at most {WER_RATIO_TARGET}; met by {t['wer_ratios_met']} of {t['wer_ratios_total']}, "
        f"and {t['wer_ratios_surely_missed']} miss it beyond doubt (interval wholly above the target).",
        "",
        "| subnet | params | test: supernet | test: individual | ratio [95%] | unseen voice: supernet "
        "| unseen voice: individual | ratio [95%] |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def cell(r: dict[str, Any], kind: str, split: str) -> str:
        cer = r[f"{kind}_{split}_cer"]
        return f"{r[f'{kind}_{split}_wer']:.1f}" + ("" if cer is None else f" ({cer:.1f})")

    def ratio_cell(r: dict[str, Any], split: str) -> str:
        iv = r[f"{split}_wer_ratio"]
        return f"{iv['ratio']:.3f} [{iv['low']:.2f}, {iv['high']:.2f}]"

    for r in rows:
        lines.append(
            f"| {r['subnet']} | {r['params']:,} | {cell(r, 'supernet', 'test')} | {cell(r, 'individual', 'test')} "
            f"| {ratio_cell(r, 'test')} | {cell(r, 'supernet', 'test-unseen-voice')} "
            f"| {cell(r, 'individual', 'test-unseen-voice')} | {ratio_cell(r, 'test-unseen-voice')} |"
        )
    lines += ["", "| run | CPU s | wall s | CPU s per step |", "| --- | ---: | ---: | ---: |"]
    for r in runs:
        lines.append(f"| {r['name']} | {r['train_cpu_seconds']:.0f} | {r['train_seconds']:.0f} "
                     f"| {r['train_cpu_seconds'] / num_steps:.2f} |")  # fmt: skip
    lines += probe_lines
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    (args.out / "results-utterances.json").write_text(compact_json(per_utt))
    print("\n".join(lines))
    if args.record:
        shutil.copy(args.out / "results.json", HERE / f"{args.record}.json")
        shutil.copy(args.out / "results.md", HERE / f"{args.record}.md")
        shutil.copy(args.out / "results-utterances.json", HERE / f"{args.record}-utterances.json")
        if probe_lines:  # the probe's per-step timings, from which its ratio and interval come
            suffix = args.record.removeprefix("result")
            shutil.copy(probe_path, HERE / f"{probe_path.stem}{suffix}{probe_path.suffix}")


if __name__ == "__main__":
    main()
