"""SpecAugment and speed perturbation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from todm.supernet.augment import SpecAugmentConfig, spec_augment, speed_perturb


def _feats() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(3, 200, 80, generator=g) + 5.0
    lens = torch.tensor([200, 120, 60])
    feats[1, 120:] = 0.0
    feats[2, 60:] = 0.0
    return feats, lens, torch.full((80,), -7.0)


def test_deterministic_under_a_generator() -> None:
    feats, lens, fill = _feats()
    cfg = SpecAugmentConfig(freq_masks=2, freq_width=15, time_masks=2, time_width_max=40)
    a = spec_augment(feats, lens, fill, cfg, torch.Generator().manual_seed(7))
    b = spec_augment(feats, lens, fill, cfg, torch.Generator().manual_seed(7))
    c = spec_augment(feats, lens, fill, cfg, torch.Generator().manual_seed(8))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, c)


def test_masks_fill_bands_and_spans_within_each_utterance() -> None:
    feats, lens, fill = _feats()
    cfg = SpecAugmentConfig(freq_masks=1, freq_width=20, time_masks=1, time_width_fraction=0.2, time_width_max=30)
    out = spec_augment(feats, lens, fill, cfg, torch.Generator().manual_seed(3))
    assert out.shape == feats.shape
    assert not torch.equal(out, feats) and torch.equal(feats, _feats()[0])  # input untouched
    masked = out == -7.0
    for b, n in enumerate(lens.tolist()):
        assert not bool(masked[b, n:].any())  # padding stays as it was
        rows = masked[b, :n].all(dim=1)  # fully masked frames: one contiguous span
        width = int(rows.sum())
        assert width <= min(30, int(0.2 * n))
        if width:
            idx = rows.nonzero().flatten()
            assert int(idx[-1] - idx[0]) + 1 == width
        cols = masked[b, :n][~rows].all(dim=0) if bool((~rows).any()) else torch.zeros(80, dtype=torch.bool)
        assert int(cols.sum()) <= 20


def test_disabled_is_the_identity() -> None:
    feats, lens, fill = _feats()
    out = spec_augment(feats, lens, fill, SpecAugmentConfig(enabled=False), torch.Generator())
    assert torch.equal(out, feats)


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_perturb_changes_duration_and_pitch(factor: float) -> None:
    sr = 16000
    t = np.arange(sr) / sr
    tone = np.sin(2 * np.pi * 440.0 * t).astype(np.float32)
    out = speed_perturb(tone, factor, sr)
    assert len(out) == pytest.approx(sr / factor, abs=2)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    peak_hz = np.argmax(spectrum) * sr / len(out)
    assert peak_hz == pytest.approx(440.0 * factor, rel=0.01)


def test_speed_perturb_unity_is_unchanged() -> None:
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    assert speed_perturb(x, 1.0) is x
