"""Checkpoint averaging: the element-wise mean of a run's last few checkpoints.

Late in training the weights still wander from one checkpoint to the next (with
ScaledAdam + Eden at a few thousand steps, the WER of the largest subnet moves by several
percent between checkpoints 100 steps apart), so one checkpoint's WER carries that
checkpoint's luck. The mean of the last few sits in the middle of where they wander; it
decodes better and varies less from run to run, which is why icefall decodes with
``--avg``. A supernet averages like any model: every subnet reads leading slices of the
same tensors, so each subnet of the mean is the mean of that subnet.

The averaged file is a checkpoint for decoding, slicing and export (``todm eval``,
``todm slice``, ``todm export``); it holds no optimizer state, so training cannot resume
from it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from todm.errors import ConfigError
from todm.supernet.checkpoint import read_checkpoint, save_checkpoint
from todm.supernet.config_changes import changed_settings, with_defaults
from todm.supernet.model_config import ModelConfig

_STEP_FILE = re.compile(r"^step-(\d+)\.pt$")


def checkpoint_steps(exp_dir: Path) -> list[int]:
    """The steps of the ``step-N.pt`` files in ``exp_dir/checkpoints``, in order (none if
    the folder is missing)."""
    ckpt_dir = Path(exp_dir) / "checkpoints"
    if not ckpt_dir.is_dir():
        return []
    return sorted(int(m.group(1)) for p in ckpt_dir.iterdir() if (m := _STEP_FILE.match(p.name)))


def last_checkpoints(exp_dir: Path, count: int, until: int | None = None) -> list[Path]:
    """The ``count`` latest ``step-N.pt`` of ``exp_dir/checkpoints`` (at or before step
    ``until`` if given), oldest first."""
    if count < 1:
        raise ConfigError(f"--last {count}: need at least one checkpoint to average")
    ckpt_dir = Path(exp_dir) / "checkpoints"
    if not ckpt_dir.is_dir():
        raise ConfigError(f"{ckpt_dir}: no checkpoints folder (is {exp_dir} a training experiment dir?)")
    steps = checkpoint_steps(exp_dir)
    if until is not None:
        if until not in steps:
            raise ConfigError(f"{ckpt_dir}: no step-{until}.pt (steps kept: {_span(steps)})")
        steps = [s for s in steps if s <= until]
    if len(steps) < count:
        raise ConfigError(f"{ckpt_dir}: {count} checkpoints asked for, {len(steps)} kept "
                          f"({_span(steps)}); train with a smaller checkpoint_every or average fewer")  # fmt: skip
    return [ckpt_dir / f"step-{s}.pt" for s in steps[-count:]]


def _span(steps: list[int]) -> str:
    return f"steps {steps[0]} to {steps[-1]}" if steps else "none"


def average_checkpoints(paths: Sequence[Path]) -> dict[str, Any]:
    """The record of the mean of ``paths``: their weights averaged (in float64, stored in
    each tensor's own dtype; integer buffers from the last), the rest from the last, and
    ``averaged_from`` naming the sources. Every source must hold the same model."""
    if not paths:
        raise ConfigError("average: no checkpoints given")
    records = [read_checkpoint(p) for p in paths]
    first, last = records[0], records[-1]
    # A run resumed under a newer todm writes settings its earlier checkpoints lack; those
    # trained as the default does, so they are compared with the defaults filled in.
    defaults = ModelConfig().to_dict()
    first_model = with_defaults(first.get("model_config") or {}, defaults)
    for path, rec in zip(paths[1:], records[1:]):
        changes = changed_settings(first_model, with_defaults(rec.get("model_config") or {}, defaults))
        if changes:
            raise ConfigError(f"{path}: another model than {paths[0]} ({'; '.join(changes)}); "
                              "average checkpoints of one run")  # fmt: skip
        if rec["model"].keys() != first["model"].keys():
            raise ConfigError(f"{path}: its weights name other tensors than {paths[0]}'s")
        # Two runs of one config share every shape but not a basin: their mean is no model.
        if _run(rec) != _run(first):
            raise ConfigError(f"{path}: from another run ({_run(rec)}) than {paths[0]} ({_run(first)}); "
                              "average checkpoints of one run")  # fmt: skip
    weights: dict[str, torch.Tensor] = {}
    for name, tensor in last["model"].items():
        for path, rec in zip(paths, records):
            if rec["model"][name].shape != tensor.shape:
                raise ConfigError(f"{path}: {name} has shape {tuple(rec['model'][name].shape)}, "
                                  f"{paths[-1]} {tuple(tensor.shape)}")  # fmt: skip
        if tensor.is_floating_point():
            total = torch.zeros(tensor.shape, dtype=torch.float64)
            for rec in records:
                total += rec["model"][name].to(torch.float64)
            weights[name] = (total / len(records)).to(tensor.dtype)
        else:
            weights[name] = tensor.clone()
    out = {k: v for k, v in last.items() if k not in ("format", "version", "optimizer", "scheduler", "rng")}
    out["model"] = weights
    out["averaged_from"] = [{"path": str(p), "step": int(r.get("position", {}).get("step", -1))}
                            for p, r in zip(paths, records)]  # fmt: skip
    return out


def _run(record: dict[str, Any]) -> str:
    """What tells one training run from another: its experiment dir and seed (a copied or
    resumed run keeps both)."""
    cfg = record.get("train_config") or {}
    return f"exp_dir {cfg.get('exp_dir')}, seed {cfg.get('seed')}"


def average_to_file(paths: Sequence[Path], out: Path) -> dict[str, Any]:
    """Average ``paths`` and write the result to ``out`` (atomically); returns the record."""
    record = average_checkpoints(paths)
    save_checkpoint(out, record)
    return record
