"""Fine-tuned subnets: each subnet of the supernet trained alone for a few steps from its weights.

    .venv/bin/python benchmarks/supernet_vs_individual/fine_tune.py --record

Once-for-All fine-tunes the subnet it deploys. Here each subnet of recipe 3's seed 2
(the mean of its last five checkpoints at 3,000 steps, ``avg-2600-3000.pt``) trains alone
(``recipe.baseline_subnet``, ``init_from``) for ``STEPS`` steps with the twins' recipe at a
learning rate a little below where the supernet's schedule had come to (0.0140 at step 3,000), and is decoded on ``test`` and
``test-unseen-voice`` of ``corpora/open-2h-eval``; its WER is set against the subnet's before
fine-tuning and its seed-2 twin's (both from the evaluations kept beside their averaged
checkpoints). Training and decoding run on one thread, so this can run beside other work.
Each fine-tuning is kept (``exp/svi-cpu-scale0.1-finetune-seed2``) and not redone.
The reading, its thresholds and the cost argument are in the README ("Fine-tuned subnets").
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from average_effect import wer_of
from readings import geo_mean, write_reading

ROOT = Path(__file__).resolve().parents[2]
SUPERNET = ROOT / "exp/svi-cpu-scale0.1-long-strat-seed2/supernet"
TWINS = ROOT / "exp/svi-cpu-scale0.1-long-twin-seed2"
OUT = ROOT / "exp/svi-cpu-scale0.1-finetune-seed2"
EVAL_CORPUS = ROOT / "corpora/open-2h-eval"
SPLITS = ("test", "test-unseen-voice")
AVG = "avg-2600-3000"
JUDGED = ["L2-D96-F384x2-H4x2", "L3-D96-F288x3-H4x3", "L3-D96-F384x3-H2x3",
          "L4-D96-F192x4-H2x4", "L4-D96-F288x4-H2x4"]  # fmt: skip
BESIDE = ["L4-D64-F192x4-H2x4"]
STEPS = 60
SETTINGS = [  # the twins' recipe (long_runs.sh), then what fine-tuning changes
    f"data.train_manifest={ROOT / 'corpora/open-2h/train.jsonl'}", "optim.scale_lr_scale=0.1", "seed=2",
    "num_threads=1", f"max_steps={STEPS}", "checkpoint_every=10", "log_every=10",
    "optim.lr=0.01", "optim.warmup_batches=20",
]  # fmt: skip
NARROWS = 0.954  # the judged change, as in "Twice the steps": 2 sd of a change from seed noise
CLOSES = 1.03


def fine_tuned(subnet: str) -> Path:
    """The fine-tuned run of ``subnet`` (trained now unless it finished before)."""
    from todm.supernet.train import train
    from todm.supernet.train_config import TrainConfig

    exp = OUT / f"ft-{subnet}"
    if (exp / "checkpoints" / f"step-{STEPS}.pt").is_file():
        return exp
    sets = [*SETTINGS, f"exp_dir={exp}", f"recipe.baseline_subnet={subnet}",
            f"init_from={SUPERNET / 'checkpoints' / (AVG + '.pt')}"]  # fmt: skip
    cfg = TrainConfig.from_yaml_file(ROOT / "configs/svi-cpu.yaml", sets)
    return train(cfg, quiet=True)


def wers(ckpt: Path, cache_stem: Path, subnet: str) -> dict[str, float]:
    return {split: wer_of(ckpt, Path(f"{cache_stem}-{subnet}-{EVAL_CORPUS.name}-{split}-greedy.json"),
                          EVAL_CORPUS / f"{split}.jsonl", [subnet])[subnet]
            for split in SPLITS}  # fmt: skip


def averaged_fine_tune(exp: Path) -> Path:
    """The mean of the fine-tuning's last five checkpoints (steps 20 to 60), written once."""
    from todm.supernet.averaging import average_to_file, last_checkpoints

    out = exp / "checkpoints" / f"avg-{STEPS - 40}-{STEPS}.pt"
    if not out.is_file():
        average_to_file(last_checkpoints(exp, 5, until=STEPS), out)
    return out


def reading() -> tuple[str, dict[str, Any]]:
    import torch

    torch.set_num_threads(1)
    rows: dict[str, Any] = {}
    for s in JUDGED + BESIDE:
        exp = fine_tuned(s)
        rows[s] = {
            "fine_tuned": wers(exp / "checkpoints" / f"step-{STEPS}.pt", exp / f"eval-step-{STEPS}", s),
            # written after the result (post hoc): "before" is a mean of checkpoints, so the
            # fine-tuning's own mean says how much of the change is the lost averaging
            "fine_tuned_averaged": wers(averaged_fine_tune(exp), exp / f"eval-avg-{STEPS - 40}-{STEPS}", s),
            "before": wers(SUPERNET / "checkpoints" / f"{AVG}.pt", SUPERNET / f"eval-{AVG}", s),
            "twin": wers(TWINS / f"individual-{s}" / "checkpoints" / f"{AVG}.pt",
                         TWINS / f"individual-{s}" / f"eval-{AVG}", s),
            "seconds": float(list(csv.DictReader((exp / "metrics.csv").open(newline="")))[-1]["seconds"]),
        }  # fmt: skip
    lines = [
        f"# Fine-tuned subnets: recipe 3 seed 2 ({AVG}) with each subnet trained alone {STEPS} more steps",
        "",
        "WER %; ratio = over the seed-2 twin (mean of its last five checkpoints at 3,000 steps); "
        "* judged (decided before the runs).",
        "",
        "| subnet | split | before | fine-tuned | fine-tuned, mean of 5 | twin | ratio before | ratio fine-tuned |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s, r in rows.items():
        for split in SPLITS:
            b, f, t = r["before"][split], r["fine_tuned"][split], r["twin"][split]
            fa = r["fine_tuned_averaged"][split]
            lines.append(f"| {s}{'*' if s in JUDGED else ''} | {split} | {b:.2f} | {f:.2f} | {fa:.2f} | {t:.2f} | "
                         f"{b / t:.3f} | {f / t:.3f} |")  # fmt: skip
    summary: dict[str, Any] = {"about": {"steps": STEPS, "settings": SETTINGS, "from": f"{SUPERNET}/{AVG}.pt",
                                         "judged": JUDGED, "beside": BESIDE}, "rows": rows}  # fmt: skip
    lines.append("")
    for split in SPLITS:
        before = geo_mean([rows[s]["before"][split] / rows[s]["twin"][split] for s in JUDGED])
        after = geo_mean([rows[s]["fine_tuned"][split] / rows[s]["twin"][split] for s in JUDGED])
        summary[split] = {"before": before, "fine_tuned": after, "change": after / before}
        avg = geo_mean([rows[s]["fine_tuned_averaged"][split] / rows[s]["twin"][split] for s in JUDGED])
        summary[split]["fine_tuned_averaged"] = avg
        lines.append(f"- {split}, the five judged: geometric mean ratio {before:.3f} before, {after:.3f} "
                     f"fine-tuned (change {after / before:.3f}); written after the result, the mean of the "
                     f"fine-tuning's checkpoints at steps {STEPS - 40} to {STEPS}: {avg:.3f} "
                     f"(change {avg / before:.3f}).")  # fmt: skip
    secs = [rows[s]["seconds"] for s in rows]
    lines.append(f"- Training seconds per fine-tuning (one thread, beside other work): "
                 f"{min(secs):.0f} to {max(secs):.0f}.")  # fmt: skip
    t = summary["test"]
    verdict = ("closes the gap" if t["fine_tuned"] <= CLOSES else
               "narrows the gap" if t["change"] <= NARROWS else
               "widens the gap" if t["change"] >= 1 / NARROWS else "no effect shown")  # fmt: skip
    lines += ["", f"Judged (`test`, the five judged): {t['fine_tuned']:.3f} fine-tuned against {CLOSES} "
              f"(closes) and a change of {t['change']:.3f} against {NARROWS} (narrows) and {1 / NARROWS:.3f} (widens): "
              f"**{verdict}**."]  # fmt: skip
    summary["verdict"] = verdict
    return "\n".join(lines), summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true", help="write fine-tune-seed2.md and .json")
    args = ap.parse_args()
    text, summary = reading()
    print(text)
    if args.record:
        write_reading("fine-tune-seed2", text, summary)


if __name__ == "__main__":
    main()
