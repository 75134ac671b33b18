"""Training-time augmentation: SpecAugment masks and speed perturbation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from todm.data.audio import resample


@dataclass
class SpecAugmentConfig:
    """Masks per utterance; widths are maxima (drawn uniformly from 0..max)."""

    enabled: bool = True
    freq_masks: int = 2
    freq_width: int = 15
    time_masks: int = 2
    time_width_fraction: float = 0.05  # of the utterance's frames
    time_width_max: int = 40


def spec_augment(
    feats: torch.Tensor,
    feat_lens: torch.Tensor,
    fill: torch.Tensor,
    cfg: SpecAugmentConfig,
    generator: torch.Generator,
) -> torch.Tensor:
    """Mask frequency bands and time spans with ``fill`` (the feature mean: zero once normalized).

    Args:
        feats: [B, T, F] raw fbank; feat_lens: [B]; fill: [F].

    Returns:
        A new [B, T, F] tensor (the input is not changed).
    """
    if not cfg.enabled:
        return feats
    out = feats.clone()
    bsz, _, nbins = feats.shape
    fill = fill.to(feats.dtype)

    def randint(high: int) -> int:
        return int(torch.randint(0, max(high, 1), (1,), generator=generator))

    for b in range(bsz):
        length = int(feat_lens[b])
        for _ in range(cfg.freq_masks):
            w = randint(cfg.freq_width + 1)
            f0 = randint(nbins - w + 1)
            out[b, :length, f0 : f0 + w] = fill[f0 : f0 + w]
        tmax = min(cfg.time_width_max, int(cfg.time_width_fraction * length))
        for _ in range(cfg.time_masks):
            w = randint(tmax + 1)
            t0 = randint(length - w + 1)
            out[b, t0 : t0 + w, :] = fill
    return out


def speed_perturb(samples: np.ndarray, factor: float, sample_rate: int = 16000) -> np.ndarray:
    """Play ``factor`` times faster (pitch shifts with it, as in Kaldi's speed perturbation)."""
    if factor == 1.0:
        return samples
    # Resampling from sr*factor to sr shortens the signal by 1/factor.
    return resample(samples, int(round(sample_rate * factor)), sample_rate)
