"""Batched Kaldi-compatible fbank in torch (CPU or GPU), for training.

The same algorithm as the numpy front end in ``todm.data.fbank`` (which devices run);
tests hold the two within 1e-4.
"""

from __future__ import annotations

import torch

from todm.bundle import FeatureSettings
from todm.data.fbank import FrameGeometry, mel_banks, povey_window

_FLT_EPS = torch.finfo(torch.float32).eps


def fbank_batch(
    wavs: torch.Tensor,
    lengths: torch.Tensor,
    settings: FeatureSettings = FeatureSettings(),
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-mel fbank of a padded batch.

    Args:
        wavs: [B, S] samples in [-1, 1], zero-padded past each length.
        lengths: [B] number of valid samples per row.
        dtype: compute precision (float64 for reference checks; float32 for training).

    Returns:
        (feats [B, T, num_mel_bins] float32, zero past each row's frames; feat_lens [B]).
    """
    if wavs.dim() != 2:
        raise ValueError(f"expected wavs [B, S], got shape {tuple(wavs.shape)}")
    if settings.snip_edges:
        raise ValueError("fbank_batch implements snip_edges=False (sherpa-onnx's setting)")
    geo = FrameGeometry.of(settings)
    device = wavs.device
    lengths = lengths.to(device=device, dtype=torch.long)
    feat_lens = (lengths + geo.frame_shift // 2) // geo.frame_shift
    t_max = int(feat_lens.max().item()) if len(feat_lens) else 0
    bsz = wavs.shape[0]
    if t_max == 0:
        return wavs.new_zeros(bsz, 0, settings.num_mel_bins), feat_lens
    starts = torch.arange(t_max, device=device) * geo.frame_shift + (
        geo.frame_shift // 2 - geo.frame_length // 2
    )
    idx = starts[:, None] + torch.arange(geo.frame_length, device=device)[None, :]  # [T, L]
    idx = idx[None].expand(bsz, -1, -1)
    n = lengths[:, None, None]
    # Mirror about both edges, per row (Kaldi's snip_edges=false framing).
    idx = torch.where(idx < 0, -idx - 1, idx)
    idx = torch.where(idx >= n, 2 * n - 1 - idx, idx).clamp(min=0)
    x = wavs.to(dtype) * settings.input_scale
    frames = torch.gather(x, 1, idx.reshape(bsz, -1)).reshape(bsz, t_max, geo.frame_length)
    if settings.remove_dc_offset:
        frames = frames - frames.mean(dim=2, keepdim=True)
    if settings.preemphasis != 0.0:
        prev = torch.cat([frames[..., :1], frames[..., :-1]], dim=2)
        frames = frames - settings.preemphasis * prev
    window = torch.as_tensor(povey_window(geo.frame_length), dtype=dtype, device=device)
    spec = torch.fft.rfft(frames * window, n=geo.fft_size, dim=2)
    power = spec.real**2 + spec.imag**2
    banks = torch.as_tensor(mel_banks(settings), dtype=dtype, device=device)
    energies = power[..., : geo.fft_size // 2] @ banks.T
    feats = torch.log(torch.clamp(energies, min=_FLT_EPS)).float()
    valid = torch.arange(t_max, device=device)[None, :] < feat_lens[:, None]
    return feats * valid[..., None], feat_lens
