"""Acoustic degradation for synthetic speech: additive noise at an SNR, and reverberation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

NOISE_KINDS = ("white", "pink", "brown")


def colored_noise(kind: str, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance noise with a 1/f^beta spectrum (white 0, pink 1, brown 2)."""
    beta = {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind]
    spec = rng.standard_normal(num_samples // 2 + 1) + 1j * rng.standard_normal(num_samples // 2 + 1)
    freqs = np.arange(num_samples // 2 + 1, dtype=np.float64)
    freqs[0] = 1.0
    spec /= freqs ** (beta / 2)
    noise = np.fft.irfft(spec, n=num_samples)
    return (noise / (noise.std() + 1e-12)).astype(np.float32)


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
    from scipy.signal import fftconvolve

    wet = fftconvolve(speech, rir)[: len(speech)]
    peak = np.max(np.abs(wet)) + 1e-12
    return (wet * (np.max(np.abs(speech)) / peak)).astype(np.float32)


def list_noise_files(directory: Path) -> list[Path]:
    exts = {".wav", ".flac", ".ogg"}
    return sorted(p for p in Path(directory).rglob("*") if p.suffix.lower() in exts)
