"""What the readers of ``reruns.py`` records share: loading a record, one run's WERs, the
geometric mean, and writing a reading's ``.md`` and ``.json`` beside these scripts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from seeds import SPLITS

HERE = Path(__file__).resolve().parent


def read_reruns(name: str, step: int, last: int = 5) -> dict[str, Any]:
    """The record ``name`` beside this script; stops unless it read its runs at ``step`` as the
    mean of the ``last`` checkpoints up to it."""
    path = HERE / name
    if not path.is_file():
        raise SystemExit(f"{path}: missing (made by reruns.py --record)")
    data = json.loads(path.read_text())
    if data["about"]["step"] != step or data["about"]["last"] != last:
        raise SystemExit(f"{path}: read at step {data['about']['step']} with the last {data['about']['last']} "
                         f"checkpoints, not step {step} with the last {last}")  # fmt: skip
    return data


def supernet_wers(name: str, data: dict[str, Any], label: str, seed: str, reading: str) -> dict[str, dict[str, float]]:
    """Subnet -> split -> WER of the supernet run ``label`` of ``seed`` in the record ``name``."""
    try:
        run = data["supernets"][label][seed]
    except KeyError:
        raise SystemExit(f"{HERE / name}: has no {label!r} run of seed {seed}") from None
    return {s: {split: v[split][reading] for split in SPLITS if reading in v.get(split, {})}
            for s, v in run["subnets"].items()}  # fmt: skip


def geo_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def write_reading(stem: str, text: str, summary: dict[str, Any]) -> None:
    (HERE / f"{stem}.md").write_text(text + "\n")
    (HERE / f"{stem}.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {HERE / stem}.md and .json")
