"""``todm data check``: validate a corpus and report every problem, file and line named."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from todm.bundle import atomic_write_text
from todm.data.audio import load_audio
from todm.data.manifest import Utterance, parse_manifest_line
from todm.data.text import normalize_text
from todm.errors import DataError

# A header duration may differ from the manifest's by rounding and resampling.
DURATION_TOLERANCE = 0.1  # seconds


@dataclass
class CheckReport:
    """The outcome of a check: good utterances and one message per rejected line."""

    manifest: Path
    good: list[Utterance] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (line, raw, message)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_utterance(u: Utterance) -> None:
    """Raise DataError if the utterance's audio or text is unusable."""
    samples = load_audio(u.audio)  # missing, corrupt, empty, truncated, NaN: DataError
    if not np.any(samples):
        raise DataError(f"{u.audio}: audio is all zeros")
    actual = len(samples) / 16000
    if abs(actual - u.duration) > DURATION_TOLERANCE:
        raise DataError(
            f"{u.audio}: duration is {actual:.3f} s, manifest says {u.duration:.3f} s"
        )
    if not normalize_text(u.text):
        raise DataError(f"text {u.text!r} is empty after normalization")
    if normalize_text(u.text) != u.text:
        raise DataError(f"text {u.text!r} is not normalized (expected {normalize_text(u.text)!r})")


def check_manifest(path: Path, progress: bool = False) -> CheckReport:
    """Check every line of a manifest; never stops at the first problem.

    Args:
        progress: show a progress bar (per line) on stderr.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: manifest not found")
    report = CheckReport(path)
    seen: set[str] = set()
    import sys

    from tqdm import tqdm

    with open(path, "rb") as f, tqdm(
        desc="check", unit="utt", disable=not progress, file=sys.stderr
    ) as bar:
        for lineno, raw in enumerate(f, 1):
            bar.update()
            if not raw.strip():
                continue
            text = raw.decode("utf-8", errors="replace").rstrip("\n")
            try:
                u = parse_manifest_line(raw, path, lineno)
                if u.id in seen:
                    raise DataError(f"{path}:{lineno}: duplicate id {u.id!r}")
                check_utterance(u)
            except DataError as e:
                msg = str(e)
                if not msg.startswith(f"{path}:"):
                    msg = f"{path}:{lineno}: {msg}"
                report.problems.append((lineno, text, msg))
                continue
            seen.add(u.id)
            report.good.append(u)
    return report


def write_check_outputs(report: CheckReport, cleaned: Path, rejects: Path) -> None:
    """Write the good lines to ``cleaned`` and the rejects (with reasons) to ``rejects``.

    Both are written atomically: an interrupted run leaves the previous files intact.
    """
    from todm.data.manifest import write_manifest

    write_manifest(cleaned, report.good)
    lines = [
        json.dumps({"line": ln, "problem": msg, "raw": raw}, ensure_ascii=False)
        for ln, raw, msg in report.problems
    ]
    atomic_write_text(Path(rejects), "".join(x + "\n" for x in lines))
