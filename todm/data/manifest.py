"""Corpus manifests: JSONL, one utterance per line, with lhotse-style field names.

A line looks like::

    {"id": "train-000001", "audio": "audio/train/train-000001.wav", "text": "three one four",
     "duration": 1.84, "speaker": "espeak:en-gb+m3", "sampling_rate": 16000,
     "custom": {"engine": "espeak-ng", "rate": 171, "pitch": 43}}

Relative audio paths resolve against the manifest's directory, so a corpus directory can
be moved or copied to a device as a whole.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from todm.bundle import atomic_write_text
from todm.errors import DataError

Seconds = float
REQUIRED_FIELDS = ("id", "audio", "text", "duration")


@dataclass(frozen=True)
class Utterance:
    """One utterance of a corpus. ``audio`` is an absolute path once read from a manifest."""

    id: str
    audio: str
    text: str
    duration: Seconds
    speaker: str = "unknown"
    sampling_rate: int = 16000
    custom: dict[str, Any] = field(default_factory=dict)

    @property
    def voice(self) -> str:
        """The voice (synthetic corpora) or speaker, for per-voice breakdowns."""
        return str(self.custom.get("voice", self.speaker))

    def to_dict(self, relative_to: Path | None = None) -> dict[str, Any]:
        d = asdict(self)
        if relative_to is not None:
            # On another drive (Windows) relpath fails: keep the absolute path.
            with contextlib.suppress(ValueError):
                d["audio"] = os.path.relpath(self.audio, relative_to)
        if not d["custom"]:
            del d["custom"]
        return d


def parse_manifest_line(line: bytes | str, path: Path, lineno: int) -> Utterance:
    """Parse one manifest line; raises DataError naming ``path:lineno`` and the problem."""
    where = f"{path}:{lineno}"
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"{where}: not valid UTF-8 at byte {e.start}") from None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in REQUIRED_FIELDS if k not in obj]
    if missing:
        raise DataError(f"{where}: missing field(s) {', '.join(missing)}")
    try:
        duration = float(obj["duration"])
    except (TypeError, ValueError):
        raise DataError(f"{where}: 'duration' is not a number: {obj['duration']!r}") from None
    if not isinstance(obj["text"], str) or not isinstance(obj["audio"], str):
        raise DataError(f"{where}: 'text' and 'audio' must be strings")
    audio = Path(obj["audio"])
    if not audio.is_absolute():
        audio = path.parent / audio
    known = {"id", "audio", "text", "duration", "speaker", "sampling_rate", "custom"}
    custom = dict(obj.get("custom") or {})
    custom.update({k: v for k, v in obj.items() if k not in known})
    return Utterance(
        id=str(obj["id"]),
        audio=str(audio.resolve()),
        text=obj["text"],
        duration=duration,
        speaker=str(obj.get("speaker", "unknown")),
        sampling_rate=int(obj.get("sampling_rate", 16000)),
        custom=custom,
    )


def iter_manifest(path: str | os.PathLike[str]) -> Iterator[Utterance]:
    """Stream the utterances of a JSONL manifest (blank lines are skipped)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: manifest not found")
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if raw.strip():
                yield parse_manifest_line(raw, path, lineno)


def read_manifest(path: str | os.PathLike[str]) -> list[Utterance]:
    """Read a whole JSONL manifest; ids must be unique."""
    utts = list(iter_manifest(path))
    seen: set[str] = set()
    for u in utts:
        if u.id in seen:
            raise DataError(f"{path}: utterance id {u.id!r} appears more than once")
        seen.add(u.id)
    return utts


def write_manifest(path: str | os.PathLike[str], utts: Iterable[Utterance]) -> Path:
    """Write a JSONL manifest atomically, audio paths relative to its directory."""
    path = Path(path).absolute()
    lines = [json.dumps(u.to_dict(relative_to=path.parent), ensure_ascii=False) for u in utts]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return path
