"""Elastic layers compute what their sliced plain twins compute."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from todm.supernet.elastic import (
    ElasticDepthwiseConv1d,
    ElasticLayerNorm,
    ElasticLinear,
    set_out,
)


def test_elastic_linear_uses_leading_block() -> None:
    torch.manual_seed(0)
    m = ElasticLinear(8, 6)
    set_out(m, 4)
    x = torch.randn(3, 5)
    plain = nn.Linear(5, 4)
    plain.weight.data = m.weight[:4, :5].clone()
    plain.bias.data = m.bias[:4].clone()
    assert torch.allclose(m(x), plain(x))
    set_out(m, 6)
    assert m(torch.randn(2, 8)).shape == (2, 6)


def test_set_out_rejects_out_of_range() -> None:
    m = ElasticLinear(4, 4)
    for bad in (0, 5):
        with pytest.raises(ValueError, match=f"active width {bad} outside 1..4"):
            set_out(m, bad)


def test_elastic_norm_and_depthwise_conv() -> None:
    torch.manual_seed(0)
    ln = ElasticLayerNorm(8)
    nn.init.normal_(ln.weight)
    x = torch.randn(2, 3, 5)
    ref = nn.functional.layer_norm(x, (5,), ln.weight[:5], ln.bias[:5])
    assert torch.allclose(ln(x), ref)
    conv = ElasticDepthwiseConv1d(8, 3)
    plain = nn.Conv1d(5, 5, 3, groups=5)
    plain.weight.data = conv.weight[:5].clone()
    plain.bias.data = conv.bias[:5].clone()
    y = torch.randn(2, 5, 10)
    assert torch.allclose(conv(y), plain(y))
