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


class PrivateLayerNorm(nn.Module):
    """Elastic LayerNorm with one (weight, bias) pair per layer variant.

    ``weights[v]`` and ``biases[v]`` are separate tensors, one pair per variant (a layer's
    shape within a subnet, ``SearchSpace.layer_variant``), and ``variant`` picks the pair used,
    each as ``ElasticLayerNorm`` uses its own. Separate tensors, not one table: a variant
    that did not run gets no gradient at all, so ScaledAdam neither moves it nor folds it
    into another variant's size. A static twin's ``weight`` is ``weights[v]``'s leading slice.
    """

    def __init__(self, dim: int, variants: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weights = nn.ParameterList(nn.Parameter(torch.ones(dim)) for _ in range(variants))
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(dim)) for _ in range(variants))
        self.variant = variants - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x.shape[-1]
        w, b = self.weights[self.variant], self.biases[self.variant]
        return F.layer_norm(x, (d,), w[:d], b[:d], self.eps)


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


def layer_norm(dim: int, elastic: bool, variants: int = 0) -> nn.Module:
    """A plain LayerNorm, an elastic one, or (``variants`` > 0) a ``PrivateLayerNorm``."""
    if not elastic:
        return nn.LayerNorm(dim)
    return PrivateLayerNorm(dim, variants) if variants > 0 else ElasticLayerNorm(dim)


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
