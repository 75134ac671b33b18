"""What ``gpu_run.sh`` found, in one file: the machine, the GPU-only checks, the corpus
check, how far each run trained in its time, and the step costs timed on the GPU.

    python gpu_summary.py common-step EXP       # the last step every run of EXP has a checkpoint of
    python gpu_summary.py summary --work W --out gpu-run.json

On a GPU the fair cost of a step is its wall time with the device synchronized before and
after (``step_cost.probe_step_costs`` does that); CPU seconds there mostly count the host
waiting, so the summary gives the probe's ratio of wall seconds beside that of CPU seconds
(``StepCosts.ratio(measure=...)``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np


def run_steps(exp: Path) -> dict[str, set[int]]:
    """Each run under ``exp`` (``supernet``, ``individual-*``) and the steps it checkpointed."""
    from todm.supernet.averaging import checkpoint_steps

    return {d.name: set(checkpoint_steps(d)) for d in sorted(exp.iterdir())
            if d.is_dir() and (d.name == "supernet" or d.name.startswith("individual-"))}  # fmt: skip


def common_step(exp: Path) -> int:
    runs = run_steps(exp)
    shared = set.intersection(*runs.values()) if runs else set()
    return max(shared, default=0)


def machine() -> dict[str, Any]:
    import torch

    facts: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                             "cpu_count": os.cpu_count(), "cuda": torch.cuda.is_available()}  # fmt: skip
    if torch.cuda.is_available():
        facts["gpu"] = torch.cuda.get_device_name(0)
    return facts


def summary(work: Path) -> dict[str, Any]:
    from todm.supernet.checkpoint import read_checkpoint
    from todm.supernet.step_cost import StepCosts

    exp = work / "exp"
    out: dict[str, Any] = {"machine": machine()}
    checks = work / "gpu-checks.json"
    if checks.is_file():
        out["gpu_checks"] = json.loads(checks.read_text())
    check = work / "corpus-check.txt"
    if check.is_file():
        lines = check.read_text().splitlines()
        out["corpus_identical_to_cpu_runs"] = bool(lines) and all(line.endswith(": OK") for line in lines)
        out["corpus_check"] = lines
    runs = {}
    for name in run_steps(exp) if exp.is_dir() else []:
        last = exp / name / "checkpoints" / "last.pt"
        if last.is_file():
            rec = read_checkpoint(last)
            cost = rec.get("cost", {})
            runs[name] = {"steps": int(rec["position"]["step"]),
                          "wall_seconds": round(float(cost.get("wall_seconds", 0.0)), 1),
                          "cpu_seconds": round(float(cost.get("cpu_seconds", 0.0)), 1)}  # fmt: skip
            runs[name]["wall_seconds_per_step"] = round(runs[name]["wall_seconds"] / max(runs[name]["steps"], 1), 4)
    out["runs"] = runs
    out["common_step"] = common_step(exp) if exp.is_dir() else 0
    probe = exp / "step-costs.json"
    if probe.is_file():
        costs = StepCosts(**json.loads(probe.read_text()))
        twins = [name for name in costs.wall_seconds if name != "supernet"]
        out["step_cost_probe"] = {
            "steps": len(costs.steps),
            "wall_seconds_per_step": {k: round(float(np.mean(v)), 4) for k, v in costs.wall_seconds.items()},
            "cost_ratio_wall": costs.ratio("supernet", twins, measure="wall"),
            "cost_ratio_cpu": costs.ratio("supernet", twins, measure="cpu"),
        }
    results = exp / "results.json"
    if results.is_file():
        res = json.loads(results.read_text())
        out["report"] = {"steps": res["steps"], "targets": res["targets"],
                         "wer_ratios": {r["subnet"]: {sp: r[f"{sp}_wer_ratio"] for sp in ("test", "test-unseen-voice")}
                                        for r in res["rows"]}}  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("common-step")
    c.add_argument("exp", type=Path)
    s = sub.add_parser("summary")
    s.add_argument("--work", type=Path, required=True)
    s.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.cmd == "common-step":
        print(common_step(args.exp))
        return
    text = json.dumps(summary(args.work), indent=2) + "\n"
    args.out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
