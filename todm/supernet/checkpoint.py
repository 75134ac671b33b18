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


def _load_failure(e: Exception) -> str:
    """Why ``torch.load(weights_only=True)`` failed, in a line. torch's own message advises
    retrying with ``weights_only=False``, which would run whatever code the file carries;
    todm never does, so that advice is left out."""
    text = str(e)
    if "Weights only load failed" in text:
        details = [line.split("WeightsUnpickler error:")[-1].strip() for line in text.splitlines()[1:]]
        details = [d for d in details if d and not d.startswith("Check the documentation")]
        detail = details[0] if details else type(e).__name__
        if detail.startswith("Unsupported operand"):
            return f"not a file torch.save wrote (its bytes are no pickle: {detail})"
        return f"holds more than tensors and plain data ({detail}); it is read weights-only, so no code in it runs"
    if isinstance(e, EOFError) or not text:
        return "empty or cut short"
    return text.split(". ")[0]


def load_weights_only(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; raises ConfigError naming the file and
    the problem for anything unreadable."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file
        raise ConfigError(f"{path}: not a readable {what}: {_load_failure(e)}") from None


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The raw record; raises ConfigError naming the file for anything unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: checkpoint not found")
    record = load_weights_only(path, "todm checkpoint")
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
