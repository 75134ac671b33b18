"""Elastic layers: one full-size parameter, forward uses its leading slice.

Each subclasses the plain torch module it generalizes, so parameter names and layouts are
the same: a static twin's weights are the leading slice of the elastic weights in every
dimension (``slicing.slice_subnet`` relies on that). The input width is read from the
input; the output width is ``active_out``, set explicitly by ``set_active_subnet``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ElasticLinear(nn.Linear):
    """``nn.Linear`` over the leading ``[active_out, x.shape[-1]]`` block of its weight.

    ``[..., in'] -> [..., active_out]`` with ``in' <= in_features``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.active_out = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight[: self.active_out, : x.shape[-1]]
        b = None if self.bias is None else self.bias[: self.active_out]
        return F.linear(x, w, b)


class ElasticLayerNorm(nn.LayerNorm):
    """LayerNorm over the input's own width, with the leading slice of weight and bias."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x.shape[-1]
        return F.layer_norm(x, (d,), self.weight[:d], self.bias[:d], self.eps)


class ElasticDepthwiseConv1d(nn.Conv1d):
    """Depthwise Conv1d (no padding) over the input's own channel count.

    ``[B, C', T] -> [B, C', T - kernel + 1]`` with ``C' <= channels``.
    """

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__(channels, channels, kernel_size, groups=channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        return F.conv1d(x, self.weight[:c], self.bias[:c], groups=c)


def linear(in_features: int, out_features: int, elastic: bool, bias: bool = True) -> nn.Linear:
    """An elastic or a plain Linear; the two share parameter names and layout."""
    if elastic:
        return ElasticLinear(in_features, out_features, bias=bias)
    return nn.Linear(in_features, out_features, bias=bias)


def layer_norm(dim: int, elastic: bool) -> nn.LayerNorm:
    return ElasticLayerNorm(dim) if elastic else nn.LayerNorm(dim)


def depthwise_conv1d(channels: int, kernel_size: int, elastic: bool) -> nn.Conv1d:
    if elastic:
        return ElasticDepthwiseConv1d(channels, kernel_size)
    return nn.Conv1d(channels, channels, kernel_size, groups=channels)


def set_out(module: nn.Module, width: int) -> None:
    """Set an elastic Linear's output width (a plain module must already have it)."""
    if isinstance(module, ElasticLinear):
        if not 0 < width <= module.out_features:
            raise ValueError(f"active width {width} outside 1..{module.out_features}")
        module.active_out = width
