"""Global mean/variance normalization statistics; they travel with the model."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from todm.bundle import FeatureSettings, atomic_write_text
from todm.data.audio import load_audio
from todm.data.fbank import compute_fbank
from todm.data.manifest import Utterance
from todm.errors import DataError


@dataclass(frozen=True)
class FeatureStats:
    """Per-bin mean and standard deviation of log-mel features: mean [F], std [F].

    ``input_scale`` is the fbank's sample scale (``FeatureSettings.input_scale``); None in
    files written before it was recorded.
    """

    mean: np.ndarray
    std: np.ndarray
    num_frames: int
    input_scale: float | None = None

    def save(self, path: Path) -> None:
        obj = {"mean": self.mean.tolist(), "std": self.std.tolist(), "num_frames": self.num_frames}
        if self.input_scale is not None:
            obj["input_scale"] = self.input_scale
        atomic_write_text(Path(path), json.dumps(obj) + "\n")

    @classmethod
    def load(cls, path: Path) -> FeatureStats:
        path = Path(path)
        try:
            obj = json.loads(path.read_text())
            mean = np.asarray(obj["mean"], dtype=np.float32)
            std = np.asarray(obj["std"], dtype=np.float32)
            n = int(obj["num_frames"])
            scale = None if obj.get("input_scale") is None else float(obj["input_scale"])
        except FileNotFoundError:
            raise DataError(f"{path}: feature statistics file not found") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise DataError(f"{path}: not a feature statistics file ({e})") from None
        if mean.shape != std.shape or mean.ndim != 1 or not (std > 0).all():
            raise DataError(f"{path}: mean/std must be equal-length vectors with std > 0")
        return cls(mean, std, n, scale)


def compute_feature_stats(
    utts: Iterable[Utterance],
    settings: FeatureSettings = FeatureSettings(),
    max_utts: int = 2000,
    progress: bool = False,
) -> FeatureStats:
    """Mean/std over the frames of up to ``max_utts`` utterances (float64 accumulation).

    Args:
        progress: show a progress bar on stderr.
    """
    import sys

    from tqdm import tqdm

    total = np.zeros(settings.num_mel_bins)
    total_sq = np.zeros(settings.num_mel_bins)
    n = 0
    for i, u in enumerate(tqdm(utts, desc="stats", unit="utt", disable=not progress, file=sys.stderr)):
        if i >= max_utts:
            break
        f = compute_fbank(load_audio(u.audio), settings).astype(np.float64)
        total += f.sum(axis=0)
        total_sq += (f**2).sum(axis=0)
        n += len(f)
    if n == 0:
        raise DataError("no frames to compute feature statistics from (empty manifest?)")
    mean = total / n
    std = np.sqrt(np.maximum(total_sq / n - mean**2, 1e-10))
    return FeatureStats(mean.astype(np.float32), std.astype(np.float32), n, settings.input_scale)
