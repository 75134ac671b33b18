"""Acoustic degradation for synthetic speech: additive noise at an SNR, and reverberation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

NOISE_KINDS = ("white", "pink", "brown", "babble")
_BETA = {"white": 0.0, "pink": 1.0, "brown": 2.0}


def colored_noise(
    kind: str, num_samples: int, rng: np.random.Generator, sample_rate: int = 16000
) -> np.ndarray:
    """Unit-variance generated noise of one of ``NOISE_KINDS``: [num_samples] float32.

    white, pink and brown have a 1/f^beta power spectrum (beta 0, 1, 2); babble is
    ``babble_noise``.
    """
    if kind == "babble":
        return babble_noise(num_samples, rng, sample_rate)
    if kind not in _BETA:
        raise ValueError(f"noise kind {kind!r} is not one of {NOISE_KINDS}")
    beta = _BETA[kind]
    spec = rng.standard_normal(num_samples // 2 + 1) + 1j * rng.standard_normal(num_samples // 2 + 1)
    freqs = np.arange(num_samples // 2 + 1, dtype=np.float64)
    freqs[0] = 1.0
    spec /= freqs ** (beta / 2)
    noise = np.fft.irfft(spec, n=num_samples)
    return (noise / (noise.std() + 1e-12)).astype(np.float32)


def babble_noise(
    num_samples: int, rng: np.random.Generator, sample_rate: int = 16000, talkers: int = 6
) -> np.ndarray:
    """Babble-like noise: several "talkers" of speech-shaped noise with syllabic envelopes.

    Each talker is noise with speech's long-term spectrum (rising to ~200 Hz, falling
    above ~800 Hz) switched on and off at a syllable rate (~4 Hz) with pauses, so the
    mixture fluctuates the way a crowd does rather than hissing steadily. Returns
    [num_samples] float32 with unit variance.
    """
    freqs = np.fft.rfftfreq(num_samples, 1.0 / sample_rate)
    shape = (freqs / (freqs + 200.0)) / (1.0 + (freqs / 800.0) ** 2)
    t = np.arange(num_samples) / sample_rate
    out = np.zeros(num_samples)
    for _ in range(talkers):
        spec = rng.standard_normal(len(freqs)) + 1j * rng.standard_normal(len(freqs))
        carrier = np.fft.irfft(spec * shape, n=num_samples)
        carrier /= carrier.std() + 1e-12
        knots = np.arange(0.0, t[-1] + 0.5 if num_samples else 0.5, 0.25)  # ~4 syllables/s
        level = rng.uniform(0.0, 1.0, len(knots)) ** 2 * (rng.random(len(knots)) > 0.25)
        out += carrier * np.interp(t, knots, level)
    return (out / (out.std() + 1e-12)).astype(np.float32)


def add_noise(
    speech: np.ndarray, noise: np.ndarray, snr_db: float
) -> np.ndarray:
    """Mix ``noise`` (tiled or cut to length) into ``speech`` at ``snr_db``."""
    if len(noise) < len(speech):
        noise = np.tile(noise, int(np.ceil(len(speech) / len(noise))))
    noise = noise[: len(speech)]
    p_speech = float(np.mean(speech**2)) + 1e-12
    p_noise = float(np.mean(noise**2)) + 1e-12
    gain = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return (speech + gain * noise).astype(np.float32)


def synthetic_rir(rt60: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """An exponentially decaying noise impulse response with the given RT60 (seconds)."""
    n = max(int(rt60 * sample_rate), 1)
    t = np.arange(n) / sample_rate
    rir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    rir[0] = 1.0
    return (rir / np.sqrt(np.sum(rir**2))).astype(np.float32)


def reverberate(speech: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with a room response, keeping the original length and peak level."""
    n = len(speech) + len(rir) - 1
    size = 1 << (n - 1).bit_length()
    wet = np.fft.irfft(np.fft.rfft(speech, size) * np.fft.rfft(rir, size), size)[: len(speech)]
    peak = np.max(np.abs(wet)) + 1e-12
    return (wet * (np.max(np.abs(speech)) / peak)).astype(np.float32)


def list_noise_files(directory: Path) -> list[Path]:
    exts = {".wav", ".flac", ".ogg"}
    return sorted(p for p in Path(directory).rglob("*") if p.suffix.lower() in exts)
