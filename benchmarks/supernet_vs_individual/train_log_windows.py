"""Supernet runs' training losses side by side: each logged loss column's mean over windows of steps.

    .venv/bin/python benchmarks/supernet_vs_individual/train_log_windows.py exp/svi-cpu-strat exp/svi-cpu-sort

For runs that share their steps and batches (a knob changed at a resumed checkpoint), the
same windows compare the same data, so a gap between two rows is the knob's. Columns a
run does not log (the distillation terms of a run without distillation) are left blank.

Runs logged before ``metrics.csv`` widened its header have the students' columns unnamed
after ``loss_largest``; such rows (more values than names) are read with the layout that
todm wrote then: kd_smallest, loss_smallest, kd_random1, loss_random1, kd_random2,
loss_random2 (random1 width 64, random2 width 96 in the per-width recipes).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

LEGACY_STUDENT_COLUMNS = ["kd_smallest", "loss_smallest", "kd_random1", "loss_random1", "kd_random2", "loss_random2"]
WINDOWS = ["1225-1225", "1250-1400", "1425-1600", "1625-2000", "2025-3000"]


def read_losses(metrics: Path) -> dict[int, dict[str, float]]:
    """Step -> {loss or kd column: value}, for every logged step."""
    if not metrics.is_file():
        raise SystemExit(f"{metrics}: no such file (is the run's directory right?)")
    with metrics.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    rows_by_step: dict[int, dict[str, float]] = {}
    for row in body:
        names = header
        if len(row) > len(header):
            if header[-1] != "loss_largest" or len(row) != len(header) + len(LEGACY_STUDENT_COLUMNS):
                raise SystemExit(f"{metrics}: a row of {len(row)} values under {len(header)} names, "
                                 "not the layout of an older todm")  # fmt: skip
            names = header + LEGACY_STUDENT_COLUMNS
        values = dict(zip(names, row))
        rows_by_step[int(values["step"])] = {
            k: float(v) for k, v in values.items() if (k.startswith("loss_") or k.startswith("kd_")) and v != ""
        }
    return rows_by_step


def window_means(losses: dict[int, dict[str, float]], first: int, last: int) -> dict[str, float]:
    steps = [s for s in losses if first <= s <= last]
    if not steps:
        raise SystemExit(f"no logged step in {first}-{last}")
    columns = {k for s in steps for k in losses[s]}
    # a column is averaged over the steps that log it, so a window is not diluted by blanks
    return {k: sum(losses[s][k] for s in steps if k in losses[s]) / sum(k in losses[s] for s in steps)
            for k in columns}  # fmt: skip


def report(runs: list[Path], windows: list[str]) -> list[str]:
    losses = {run: read_losses(run / "supernet" / "metrics.csv") for run in runs}
    order = ["loss_largest", *LEGACY_STUDENT_COLUMNS]
    seen = {k for by_step in losses.values() for row in by_step.values() for k in row}
    columns = [c for c in order if c in seen] + sorted(seen - set(order))
    lines = [" ".join(["window", "run", *columns])]
    for window in windows:
        first, last = (int(x) for x in window.split("-"))
        for run in runs:
            means = window_means(losses[run], first, last)
            cells = [f"{means[c]:.2f}" if c in means else "-" for c in columns]
            lines.append(" ".join([window, run.name, *cells]))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="benchmark run directories (each with supernet/metrics.csv)")
    ap.add_argument("--windows", nargs="+", default=WINDOWS, help="step windows FIRST-LAST (default: %(default)s)")
    args = ap.parse_args()
    print("\n".join(report(args.runs, args.windows)))


if __name__ == "__main__":
    main()
