"""Augmentation signal processing: SNR, noise colours, babble fluctuation, reverberation."""

from __future__ import annotations

import numpy as np
import pytest

from todm.data import degrade

SR = 16000


def _band_power(x: np.ndarray, lo: float, hi: float) -> float:
    f = np.fft.rfftfreq(len(x), 1 / SR)
    p = np.abs(np.fft.rfft(x)) ** 2
    return float(p[(f >= lo) & (f < hi)].mean())


@pytest.mark.parametrize("snr", [0.0, 5.0, 20.0])
def test_noise_is_mixed_at_the_requested_snr(snr: float) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    speech = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    noise = degrade.colored_noise("pink", SR // 3, rng)  # shorter: tiled to length
    mixed = degrade.add_noise(speech, noise, snr)
    residual = mixed.astype(np.float64) - speech
    measured = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(residual**2))
    assert abs(measured - snr) < 0.05


def test_noise_colours_have_their_slopes() -> None:
    rng = np.random.default_rng(1)
    # Power per octave-spaced band: flat for white, -3 dB/octave pink, -6 dB/octave brown.
    for kind, slope in (("white", 0.0), ("pink", -3.0), ("brown", -6.0)):
        x = degrade.colored_noise(kind, 4 * SR, rng)
        assert abs(float(x.std()) - 1.0) < 1e-3
        db = 10 * np.log10(_band_power(x, 2000, 4000) / _band_power(x, 1000, 2000))
        assert abs(db - slope) < 1.0, (kind, db)


def test_babble_fluctuates_like_a_crowd_and_is_speech_shaped() -> None:
    rng = np.random.default_rng(2)
    babble = degrade.colored_noise("babble", 4 * SR, rng)
    white = degrade.colored_noise("white", 4 * SR, rng)

    def envelope_spread(x: np.ndarray) -> float:
        frames = x[: len(x) // 400 * 400].reshape(-1, 400)  # 25 ms frames
        level = 10 * np.log10((frames.astype(np.float64) ** 2).mean(axis=1) + 1e-12)
        return float(level.std())

    assert envelope_spread(babble) > 3 * envelope_spread(white)
    # Most energy below 1 kHz, little above 4 kHz, as in speech.
    assert _band_power(babble, 200, 1000) > 30 * _band_power(babble, 4000, 8000)


def test_reverberation_decays_at_the_requested_rt60() -> None:
    rng = np.random.default_rng(3)
    rt60 = 0.4
    rir = degrade.synthetic_rir(rt60, SR, rng)
    assert len(rir) == int(rt60 * SR) and abs(float(np.sum(rir.astype(np.float64) ** 2)) - 1) < 1e-4
    # Schroeder backward integration: -60 dB of energy decay at rt60 (fit over -5..-25 dB).
    edc = np.cumsum((rir.astype(np.float64) ** 2)[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0])
    t = np.arange(len(rir)) / SR
    sel = (edc_db < -5) & (edc_db > -25)
    slope = np.polyfit(t[sel], edc_db[sel], 1)[0]
    assert abs(-60 / slope - rt60) < 0.1 * rt60
    speech = degrade.colored_noise("babble", SR, rng)
    wet = degrade.reverberate(speech, rir)
    assert wet.shape == speech.shape and np.isclose(np.abs(wet).max(), np.abs(speech).max(), rtol=1e-4)
    assert not np.allclose(wet, speech, atol=1e-2)


def test_unknown_noise_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="babble"):
        degrade.colored_noise("purple", 100, np.random.default_rng(0))
