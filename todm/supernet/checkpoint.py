"""Training checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint holds everything needed to continue as if nothing happened: weights,
optimizer and scheduler state, the data position (epoch, batch), the RNG state, the
configs, and the feature statistics; the tokenizer lives beside it in the experiment dir.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from todm.errors import ConfigError
from todm.supernet.model import ModelConfig, Supernet

FORMAT = "todm.checkpoint"
VERSION = 1


@dataclass
class LoadedCheckpoint:
    """A checkpoint opened for use: the supernet (eval mode) and the raw record."""

    path: Path
    model: Supernet
    record: dict[str, Any]

    @property
    def exp_dir(self) -> Path:
        # checkpoints live in <exp>/checkpoints/
        return self.path.parent.parent

    @property
    def tokenizer_dir(self) -> Path:
        return self.exp_dir / "tokenizer"


def save_checkpoint(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` to ``path`` via a temporary file and rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        torch.save({"format": FORMAT, "version": VERSION, **record}, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The raw record; raises ConfigError naming the file for anything unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: checkpoint not found")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file
        raise ConfigError(f"{path}: not a readable todm checkpoint ({e})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a todm checkpoint (format {record.get('format') if isinstance(record, dict) else None!r})")
    if record.get("version") != VERSION:
        raise ConfigError(f"{path}: checkpoint version {record.get('version')} is not {VERSION}")
    return record


def load_checkpoint(path: str | os.PathLike[str]) -> LoadedCheckpoint:
    """Rebuild the supernet of a checkpoint, ready for ``slice_subnet`` or evaluation."""
    path = Path(path)
    record = read_checkpoint(path)
    cfg = ModelConfig.from_dict(record["model_config"], source=f"{path}: model_config")
    model = Supernet(cfg)
    try:
        model.load_state_dict(record["model"])
    except RuntimeError as e:
        raise ConfigError(f"{path}: weights do not fit its model config ({e})") from None
    return LoadedCheckpoint(path, model.eval(), record)
