"""Channel sorting keeps the largest subnet's function and puts heavy channels first."""

from __future__ import annotations

import pytest
import torch

from todm.supernet.model import Supernet, tiny_config
from todm.supernet.sorting import sort_channels

torch.set_num_threads(1)


@pytest.mark.parametrize("encoder", ["conformer", "ssm"])
def test_sorting_preserves_function_and_orders_channels(encoder: str) -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config(encoder=encoder)).eval()
    with torch.no_grad():  # make the layers differ in importance, as training would
        for p in net.parameters():
            p.mul_(torch.rand_like(p) * 2)
    feats, lens = torch.randn(2, 45, 80), torch.tensor([45, 29])
    tokens = torch.randint(1, 20, (2, 3))
    with torch.no_grad():
        before = net.rnnt_logits(net(feats, lens)[0], tokens)
        net.set_active_subnet("smallest")
        small_before = net(feats, lens)[0]
        perms = sort_channels(net)
        small_after = net(feats, lens)[0]
        net.set_active_subnet("largest")
        after = net.rnnt_logits(net(feats, lens)[0], tokens)
    assert torch.allclose(before, after, atol=1e-4)
    assert not torch.allclose(small_before, small_after, atol=1e-3)  # sorting did something
    assert any(not torch.equal(p, torch.arange(len(p))) for p in perms.values())
    w1 = net.encoder.layers[0].ff1.w1.weight
    w2 = net.encoder.layers[0].ff1.w2.weight
    score = w1.abs().sum(1) + w2.abs().sum(0)
    assert torch.all(score[:-1] >= score[1:] - 1e-6)
    # sorting twice is a no-op permutation
    again = sort_channels(net)
    assert all(torch.equal(p, torch.arange(len(p))) for p in again.values())


def test_sorting_moves_ssm_state_rows_with_their_channels() -> None:
    """All channels active, state cut: sorting permutes channels only, so this subnet's
    function must not change, and its slice must still equal it."""
    from todm.supernet.slicing import slice_subnet

    torch.manual_seed(0)
    net = Supernet(tiny_config(encoder="ssm", ssm_state_choices=[2, 4])).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(torch.rand_like(p) * 2)
    feats, lens = torch.randn(2, 45, 80), torch.tensor([45, 29])
    spec = "L3-D32-F64x3-H4x3-S2"
    with torch.no_grad():
        net.set_active_subnet(spec)
        before = net.encoder_proj(net(feats, lens)[0])  # joiner side: not permuted
        perms = sort_channels(net)
        after = net.encoder_proj(net(feats, lens)[0])
        assert any(not torch.equal(p, torch.arange(len(p))) for k, p in perms.items() if "heads" in k)
        assert torch.allclose(before, after, atol=1e-4)
        static = slice_subnet(net, spec)
        assert torch.allclose(static(feats, lens)[0], after, atol=1e-5)
    assert net.encoder.layers[0].mixer.b.shape == (32, 4)


@pytest.mark.parametrize("with_optimizer", [True, False])
def test_sorting_moves_the_optimizer_state_with_the_channels(with_optimizer: bool) -> None:
    """Each moment buffer must stay aligned with its parameter entry by entry. Set every
    buffer to an elementwise function of its parameter before sorting: after it, that
    must still hold exactly, which it does not if the buffers stay where they were."""
    from todm.supernet.optim import ScaledAdam

    torch.manual_seed(0)
    net = Supernet(tiny_config()).train()
    net.set_active_subnet("largest", dropout=0.0)
    opt = ScaledAdam(net.parameters(), lr=0.05)
    feats, lens = torch.randn(2, 45, 80), torch.tensor([45, 29])
    logits = net.rnnt_logits(net(feats, lens)[0], torch.randint(1, 20, (2, 3)))
    (logits.square().mean() + net.ctc_log_probs(net(feats, lens)[0]).mean()).backward()
    opt.step()  # creates the state: moment buffers and per-tensor scalars
    with torch.no_grad():
        for p in net.parameters():
            opt.state[p]["exp_avg"].copy_(2 * p + 1)
            opt.state[p]["exp_avg_sq"].copy_(p.square())
    perms = sort_channels(net, opt if with_optimizer else None)
    assert any(not torch.equal(p, torch.arange(len(p))) for p in perms.values())
    aligned = all(torch.equal(opt.state[p]["exp_avg"], 2 * p + 1) and torch.equal(opt.state[p]["exp_avg_sq"], p.square())
                  for p in net.parameters())  # fmt: skip
    assert aligned == with_optimizer
