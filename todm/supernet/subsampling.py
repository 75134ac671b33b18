"""Feature normalization and the convolutional time subsampling, with its frame arithmetic.

The Conv2d layers use no time padding, so output frame ``t`` sees input frames
``[S*t, S*t + R)`` (S the factor, R the receptive field) and nothing else: a chunk of
``C`` output frames needs ``S*(C-1) + R`` input frames and the next chunk starts ``S*C``
frames later. For x4 that is ``4C+3``; x6 ``6C+5``; x8 ``8C+7``.
"""

from __future__ import annotations

import torch
from torch import nn

from todm.supernet.elastic import linear

# (kernel, stride) of each Conv2d, applied to time and frequency alike.
LAYERS: dict[int, tuple[tuple[int, int], ...]] = {
    4: ((3, 2), (3, 2)),
    6: ((3, 2), (5, 3)),
    8: ((3, 2), (3, 2), (3, 2)),
}


def _layers(factor: int) -> tuple[tuple[int, int], ...]:
    if factor not in LAYERS:
        raise ValueError(f"subsampling factor {factor} is not one of {sorted(LAYERS)}")
    return LAYERS[factor]


def receptive_field(factor: int) -> int:
    """Input frames one output frame depends on (7 for x4)."""
    rf, stride = 1, 1
    for k, s in _layers(factor):
        rf += (k - 1) * stride
        stride *= s
    return rf


def chunk_input_frames(chunk_frames: int, factor: int) -> int:
    """Input frames that yield exactly ``chunk_frames`` output frames (4C+3 for x4)."""
    return factor * (chunk_frames - 1) + receptive_field(factor)


def subsampled_length(lengths: torch.Tensor | int, factor: int) -> torch.Tensor | int:
    """Output frames for ``lengths`` input frames (0 when shorter than the receptive field)."""
    n = lengths
    for k, s in _layers(factor):
        n = (n - k) // s + 1
        n = n.clamp(min=0) if isinstance(n, torch.Tensor) else max(n, 0)
    return n


class FeatureNorm(nn.Module):
    """Global mean/variance normalization, kept as buffers so exports carry it.

    ``[B, T, F] -> [B, T, F]``.
    """

    def __init__(self, num_bins: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(num_bins))
        self.register_buffer("inv_std", torch.ones(num_bins))

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor, floor: float = 1e-5) -> None:
        mean = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std = torch.as_tensor(std, dtype=torch.float32).flatten()
        if mean.shape != self.mean.shape or std.shape != self.mean.shape:
            raise ValueError(
                f"feature stats must have {self.mean.numel()} values each, got "
                f"mean {tuple(mean.shape)} and std {tuple(std.shape)}"
            )
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all()):
            raise ValueError("feature stats contain NaN or inf")
        with torch.no_grad():
            self.mean.copy_(mean)
            self.inv_std.copy_(1.0 / std.clamp(min=floor))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) * self.inv_std


class Subsampling(nn.Module):
    """Conv2d stack (ReLU after each) then a Linear to the model width.

    ``[B, T, F] -> [B, T', d_model]`` with ``T' = subsampled_length(T)``.
    """

    def __init__(self, num_bins: int, factor: int, channels: int, d_model: int, elastic: bool):
        super().__init__()
        self.factor = factor
        convs: list[nn.Module] = []
        freq, in_ch = num_bins, 1
        for k, s in _layers(factor):
            convs += [nn.Conv2d(in_ch, channels, k, stride=s), nn.ReLU()]
            freq = (freq - k) // s + 1
            in_ch = channels
        if freq <= 0:
            raise ValueError(f"{num_bins} mel bins are too few for x{factor} subsampling")
        self.conv = nn.Sequential(*convs)
        self.out = linear(channels * freq, d_model, elastic)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x.unsqueeze(1))  # [B, C, T', F']
        b, c, t, f = x.shape
        return self.out(x.transpose(1, 2).reshape(b, t, c * f))
