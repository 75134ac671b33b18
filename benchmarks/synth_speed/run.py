"""Synthesis throughput: hours of audio per minute of wall time on this machine.

    .venv/bin/python benchmarks/synth_speed/run.py --hours 10 --out /tmp/synth10h

Writes result.json beside this script (hours made, wall seconds, hours per minute, cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

from todm.data.synth import SynthConfig, synthesize_corpus


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/todm-synth-bench"))
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--keep", action="store_true", help="keep the corpus afterwards")
    ap.add_argument("--result", type=Path, default=Path(__file__).with_name("result.json"),
                    help="where to write the result JSON (default: result.json beside this script)")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)  # a resumed run would measure nothing
    start = time.perf_counter()
    summary = synthesize_corpus(
        SynthConfig(out_dir=args.out, domain="open", hours=args.hours, workers=args.workers, quiet=False)
    )
    wall = time.perf_counter() - start
    result = {
        "command": f"python benchmarks/synth_speed/run.py --hours {args.hours}",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "target_hours": args.hours,
        "hours_made": summary["hours"],
        "utterances": summary["utterances"],
        "wall_seconds": round(wall, 1),
        "hours_per_minute": round(summary["hours"] / (wall / 60), 3),
        "minutes_for_10_hours": round(10 / (summary["hours"] / (wall / 60)), 2),
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
    }
    result["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    args.result.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(args.out)


if __name__ == "__main__":
    main()
