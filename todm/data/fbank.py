"""Kaldi-compatible log-mel filterbank features in numpy (torch-free; runs on a device).

The settings are ``todm.bundle.FeatureSettings`` (sherpa-onnx's defaults: 25 ms povey
window, 10 ms shift, pre-emphasis 0.97, DC removal, no dither, snip_edges false, 80 bins
from 20 Hz to Nyquist - 400 Hz, samples scaled to the int16 range). The same algorithm
in torch lives in ``fbank_torch``; tests hold both to kaldi-native-fbank within 1e-4.

Shapes: samples [S] float in [-1, 1] -> features [T, num_mel_bins] float32, with
T = (S + shift / 2) // shift (snip_edges false), frame t centred on sample t * shift + shift / 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from todm.bundle import FeatureSettings

_FLT_EPS = float(np.finfo(np.float32).eps)


@dataclass(frozen=True)
class FrameGeometry:
    """Sample arithmetic of the framing, derived once from the settings."""

    frame_length: int
    frame_shift: int
    fft_size: int

    @classmethod
    def of(cls, s: FeatureSettings) -> FrameGeometry:
        length = int(s.sample_rate * s.frame_length_ms / 1000)
        shift = int(s.sample_rate * s.frame_shift_ms / 1000)
        return cls(length, shift, 1 << (length - 1).bit_length())

    def num_frames(self, num_samples: int, snip_edges: bool = False) -> int:
        if snip_edges:
            return 0 if num_samples < self.frame_length else 1 + (num_samples - self.frame_length) // self.frame_shift
        return (num_samples + self.frame_shift // 2) // self.frame_shift

    def frame_start(self, t: int) -> int:
        """First sample of frame ``t`` (negative near the start: reflected)."""
        return t * self.frame_shift + self.frame_shift // 2 - self.frame_length // 2


def num_frames(num_samples: int, settings: FeatureSettings = FeatureSettings()) -> int:
    """Number of fbank frames for ``num_samples`` samples."""
    return FrameGeometry.of(settings).num_frames(num_samples, settings.snip_edges)


def _reflect(idx: np.ndarray, n: int) -> np.ndarray:
    # Kaldi mirrors out-of-range samples about the signal's edges.
    idx = np.where(idx < 0, -idx - 1, idx)
    return np.where(idx >= n, 2 * n - 1 - idx, idx)


@lru_cache(maxsize=8)
def povey_window(length: int) -> np.ndarray:
    n = np.arange(length, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / (length - 1))) ** 0.85


@lru_cache(maxsize=8)
def mel_banks(settings: FeatureSettings) -> np.ndarray:
    """Triangular mel filters over the FFT bins below Nyquist: [num_mel_bins, fft_size // 2]."""
    geo = FrameGeometry.of(settings)
    nyquist = settings.sample_rate / 2
    high = settings.high_freq if settings.high_freq > 0 else nyquist + settings.high_freq
    low = settings.low_freq

    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    mel_low, mel_high = mel(low), mel(high)
    delta = (mel_high - mel_low) / (settings.num_mel_bins + 1)
    bins = np.arange(geo.fft_size // 2)
    fft_mel = mel(bins * settings.sample_rate / geo.fft_size)
    left = mel_low + np.arange(settings.num_mel_bins)[:, None] * delta
    center, right = left + delta, left + 2 * delta
    up = (fft_mel - left) / (center - left)
    down = (right - fft_mel) / (right - center)
    w = np.where(fft_mel <= center, up, down)
    return np.where((fft_mel > left) & (fft_mel < right), w, 0.0)


def _fbank_frames(frames: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """[T, frame_length] scaled samples -> [T, num_mel_bins] log-mel (float64 inside)."""
    geo = FrameGeometry.of(settings)
    x = frames.astype(np.float64)
    if settings.dither != 0.0:
        raise ValueError("dither must be 0: features must be deterministic for parity")
    if settings.remove_dc_offset:
        x = x - x.mean(axis=1, keepdims=True)
    if settings.preemphasis != 0.0:
        prev = np.concatenate([x[:, :1], x[:, :-1]], axis=1)
        x = x - settings.preemphasis * prev
    if settings.window != "povey":
        raise ValueError(f"window {settings.window!r} is not supported (povey only)")
    x = x * povey_window(geo.frame_length)
    spec = np.fft.rfft(x, n=geo.fft_size, axis=1)
    power = spec.real**2 + spec.imag**2
    energies = power[:, : geo.fft_size // 2] @ mel_banks(settings).T
    return np.log(np.maximum(energies, _FLT_EPS)).astype(np.float32)


def compute_fbank(samples: np.ndarray, settings: FeatureSettings = FeatureSettings()) -> np.ndarray:
    """Log-mel fbank of a whole utterance.

    Args:
        samples: [S] float samples in [-1, 1] at ``settings.sample_rate``.

    Returns:
        [T, num_mel_bins] float32.
    """
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples [S], got shape {samples.shape}")
    geo = FrameGeometry.of(settings)
    n = len(samples)
    t = geo.num_frames(n, settings.snip_edges)
    if t == 0:
        return np.zeros((0, settings.num_mel_bins), dtype=np.float32)
    starts = (
        np.arange(t) * geo.frame_shift
        if settings.snip_edges
        else np.array([geo.frame_start(i) for i in range(t)])
    )
    idx = _reflect(starts[:, None] + np.arange(geo.frame_length)[None, :], n)
    scaled = samples.astype(np.float64) * settings.input_scale
    return _fbank_frames(scaled[idx], settings)


class OnlineFbank:
    """Fbank frames computed as audio arrives, identical to ``compute_fbank`` on the whole.

    A frame is computed once its window lies inside the audio received; the last frames,
    whose windows reach past the end (mirrored there), once ``input_finished`` is called.
    Only the samples later frames still need are kept.
    """

    def __init__(self, settings: FeatureSettings = FeatureSettings()) -> None:
        if settings.snip_edges:
            raise ValueError("OnlineFbank implements snip_edges=False (sherpa-onnx's setting)")
        self.settings = settings
        self._geo = FrameGeometry.of(settings)
        self._buf = np.zeros(0, dtype=np.float64)
        self._buf_offset = 0  # absolute index of _buf[0]
        self._head = np.zeros(0, dtype=np.float64)  # first samples, for frame 0's mirror
        self._num_samples = 0
        self._finished = False
        self._frames: list[np.ndarray] = []

    @property
    def num_frames_ready(self) -> int:
        return len(self._frames)

    @property
    def is_finished(self) -> bool:
        return self._finished

    def accept_waveform(self, samples: np.ndarray) -> None:
        """Append [S] samples in [-1, 1]."""
        if self._finished:
            raise RuntimeError("accept_waveform after input_finished")
        s = np.asarray(samples, dtype=np.float64).reshape(-1) * self.settings.input_scale
        self._buf = np.concatenate([self._buf, s])
        need = self._geo.frame_length
        if len(self._head) < need:
            self._head = np.concatenate([self._head, s[: need - len(self._head)]])
        self._num_samples += len(s)
        self._compute(final=False)

    def input_finished(self) -> None:
        self._finished = True
        self._compute(final=True)

    def get_frames(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start + count) as [count, num_mel_bins] float32."""
        if start < 0 or start + count > len(self._frames):
            raise IndexError(f"frames {start}..{start + count} requested, {len(self._frames)} ready")
        if count == 0:
            return np.zeros((0, self.settings.num_mel_bins), dtype=np.float32)
        return np.stack(self._frames[start : start + count])

    def _compute(self, final: bool) -> None:
        geo, n = self._geo, self._num_samples
        total = geo.num_frames(n) if final else None
        t = len(self._frames)
        batch: list[np.ndarray] = []
        while True:
            start = geo.frame_start(t)
            end = start + geo.frame_length
            if final:
                if t >= total:
                    break
            elif end > n:
                break
            idx = np.arange(start, end)
            if start < 0 or end > n:
                idx = _reflect(idx, n)
            batch.append(self._take(idx))
            t += 1
        if batch:
            self._frames.extend(_fbank_frames(np.stack(batch), self.settings))
        # Keep from the next frame's first sample on; mirrored samples lie inside it.
        keep_from = max(0, geo.frame_start(t) - geo.frame_length)
        drop = keep_from - self._buf_offset
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_offset = keep_from

    def _take(self, idx: np.ndarray) -> np.ndarray:
        rel = idx - self._buf_offset
        if rel.min() >= 0:
            return self._buf[rel]
        # Frame 0 mirrors the first samples, which may already be dropped from _buf.
        out = np.empty(len(idx))
        low = rel < 0
        out[low] = self._head[idx[low]]
        out[~low] = self._buf[rel[~low]]
        return out
