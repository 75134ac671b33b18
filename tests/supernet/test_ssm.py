"""The SSM mixer: convolutional form == chunked recurrent form == a plain recurrence."""

from __future__ import annotations

import pytest
import torch

from todm.supernet.ssm import MultiHeadSSM

torch.set_num_threads(1)


def _recurrence(m: MultiHeadSSM, x: torch.Tensor) -> torch.Tensor:
    """The defining step-by-step recurrence, written out naively."""
    u = m.inp(x)  # [B, T, ch]
    ch = u.shape[-1]
    dta, bb, c = m._discrete(ch)
    ab = torch.exp(dta)
    h = torch.zeros(x.shape[0], ch, dta.shape[1])
    ys = []
    for t in range(u.shape[1]):
        h = ab * h + bb * u[:, t, :, None]
        ys.append((h * c).sum(-1) + m.d[:ch] * u[:, t])
    return m.out(torch.nn.functional.gelu(torch.stack(ys, 1)))


def test_forms_agree_including_elastic_heads_and_state() -> None:
    torch.manual_seed(0)
    m = MultiHeadSSM(d_model=12, num_heads=3, head_dim=4, state_dim=5, elastic=True)
    with torch.no_grad():
        m.log_dt.uniform_(-2.5, -0.5)  # faster dynamics than the default, so decay matters
        for heads, d, ns in ((3, 12, 5), (2, 8, 5), (1, 12, 5), (3, 12, 2), (2, 8, 1)):
            m.set_active(d, heads, ns)
            x = torch.randn(2, 23, d)
            whole = m(x)
            assert torch.allclose(whole, _recurrence(m, x), atol=1e-5)
            state = torch.zeros(m.cache_shapes(2, 0)[0][1])
            assert state.shape == (2, heads * 4, ns)
            parts = []
            for k in range(0, 23, 5):  # chunks of 5, the last one partial (3 frames)
                y, (state,) = m.forward_chunk(x[:, k : k + 5], [state], torch.ones(2, 0, dtype=torch.bool))
                parts.append(y)
            assert torch.allclose(torch.cat(parts, 1), whole, atol=1e-5)


def test_gradients_flow_into_ssm_parameters() -> None:
    torch.manual_seed(0)
    m = MultiHeadSSM(8, 2, 4, 3, elastic=False)
    m(torch.randn(1, 10, 8)).sum().backward()
    for p in (m.log_neg_a, m.log_dt, m.b, m.c, m.d):
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_reduced_state_is_the_leading_slice_and_changes_the_output() -> None:
    torch.manual_seed(0)
    m = MultiHeadSSM(8, 2, 4, 6, elastic=True)
    small = MultiHeadSSM(8, 2, 4, 2, elastic=False)
    with torch.no_grad():
        m.log_dt.uniform_(-2.5, -0.5)
        for name, p in small.named_parameters():
            full = dict(m.named_parameters())[name]
            p.copy_(full[tuple(slice(0, n) for n in p.shape)])
        x = torch.randn(1, 15, 8)
        full_out = m(x)
        m.set_active(8, 2, 2)
        assert torch.allclose(m(x), small(x), atol=1e-6)
        assert not torch.allclose(m(x), full_out, atol=1e-4)
        m.set_active(8, 2)  # None: back to the full state
        assert torch.equal(m(x), full_out)
    with pytest.raises(ValueError, match="active SSM state 7 outside 1..6"):
        m.set_active(8, 2, 7)
