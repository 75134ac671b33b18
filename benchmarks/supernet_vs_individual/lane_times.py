"""How long each run of kept_runs.sh took, from the lanes' logs: the minutes from its last
"start" line to its "done" line, decoding included. A run that an earlier log had started
(killed with its session, then resumed from its checkpoints) is marked "resumed": its
minutes are only the part after the restart.

    .venv/bin/python benchmarks/supernet_vs_individual/lane_times.py exp/logs/lane-*-scale0.1*.log
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from pathlib import Path

LINE = re.compile(r"^(\S+Z) (start|done): (.+)$")


def events(paths: list[Path]) -> list[tuple[datetime, str, str]]:
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = LINE.match(line.strip())
            if m:
                out.append((datetime.fromisoformat(m[1].replace("Z", "+00:00")), m[2], m[3]))
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs", nargs="+", type=Path)
    args = ap.parse_args()
    starts: dict[str, list[datetime]] = {}
    print(f"{'run':<32} {'done (UTC)':<20} {'minutes':>7}")
    for t, kind, job in events(args.logs):
        if kind == "start":
            starts.setdefault(job, []).append(t)
        elif job in starts:
            note = "  resumed" if len(starts[job]) > 1 else ""
            minutes = (t - starts[job][-1]).total_seconds() / 60
            print(f"{job:<32} {t:%Y-%m-%d %H:%M}    {minutes:7.1f}{note}")


if __name__ == "__main__":
    main()
