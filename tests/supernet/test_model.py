"""Supernet behaviour: shapes, heads, active-subnet switching, batching."""

from __future__ import annotations

import random

import pytest
import torch

from todm.errors import ConfigError, DataError
from todm.supernet.model import Supernet, tiny_config

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def net() -> Supernet:
    torch.manual_seed(0)
    m = Supernet(tiny_config()).eval()
    m.set_feature_stats(torch.randn(80), torch.rand(80) + 0.5)
    return m


def test_shapes_of_all_heads(net: Supernet) -> None:
    feats, lens = torch.randn(2, 61, 80), torch.tensor([61, 30])
    net.set_active_subnet("L2-D24-F48_32-H2_4")
    enc, enc_lens = net(feats, lens)
    assert enc_lens.tolist() == [14, 6]  # ((T-3)//2+1-3)//2+1
    assert enc.shape == (2, 19, 24)  # 61 + 19 padding frames -> 19 >= 4 whole chunks of 4
    assert net.ctc_log_probs(enc).shape == (2, 19, 20)
    assert torch.allclose(net.ctc_log_probs(enc).exp().sum(-1), torch.ones(2, 19), atol=1e-5)
    tokens = torch.randint(1, 20, (2, 5))
    logits = net.rnnt_logits(enc, tokens)
    assert logits.shape == (2, 19, 6, 20)
    # The pieces the trainer and decoders use compose to rnnt_logits.
    e = net.encoder_proj(enc)
    d0 = net.decoder_out(torch.zeros(2, 2, dtype=torch.long))
    assert torch.allclose(net.joiner(e[:, 3], d0), logits[:, 3, 0], atol=1e-6)
    d2 = net.decoder_out(tokens[:, :2])
    assert torch.allclose(net.joiner(e[:, 3], d2), logits[:, 3, 2], atol=1e-6)
    net.set_active_subnet("largest")


def test_batch_padding_does_not_change_outputs(net: Supernet) -> None:
    torch.manual_seed(1)
    short = torch.randn(1, 33, 80)
    batch = torch.randn(2, 70, 80)
    batch[1, :33] = short[0]
    enc_b, lens_b = net(batch, torch.tensor([70, 33]))
    enc_s, lens_s = net(short, torch.tensor([33]))
    n = int(lens_s[0])
    assert lens_b[1] == n
    assert torch.allclose(enc_b[1, :n], enc_s[0, :n], atol=1e-5)


def test_subnets_differ_and_switching_is_explicit(net: Supernet) -> None:
    feats, lens = torch.randn(1, 40, 80), torch.tensor([40])
    net.set_active_subnet("largest")
    big = net(feats, lens)[0]
    net.set_active_subnet("smallest")
    small = net(feats, lens)[0]
    assert small.shape[-1] == 16 and big.shape[-1] == 32
    assert torch.equal(net(feats, lens)[0], small)  # forward changes nothing
    net.set_active_subnet("largest")


def test_dropout_override_and_errors(net: Supernet) -> None:
    net.set_active_subnet("largest", dropout=0.3)
    assert all(layer.dropout == 0.3 for layer in net.encoder.layers)
    net.train()
    feats, lens = torch.randn(1, 40, 80), torch.tensor([40])
    assert not torch.equal(net(feats, lens)[0], net(feats, lens)[0])
    net.eval()
    net.set_active_subnet("largest")
    assert all(layer.dropout == 0.0 for layer in net.encoder.layers)
    with pytest.raises(ConfigError, match="dropout"):
        net.set_active_subnet("largest", dropout=1.5)
    with pytest.raises(ConfigError, match="d_model=20"):
        net.set_active_subnet("L1-D20-F32x1-H1x1")
    with pytest.raises(ConfigError, match="feature stats"):
        net.set_feature_stats(torch.zeros(40), torch.ones(40))


def test_gradients_reach_shared_weights_only_through_active_slice() -> None:
    torch.manual_seed(0)
    m = Supernet(tiny_config())
    m.set_active_subnet("L1-D16-F32x1-H1x1")
    enc, lens = m(torch.randn(1, 30, 80), torch.tensor([30]))
    m.ctc_log_probs(enc).sum().backward()
    g = m.encoder.layers[0].ff1.w1.weight.grad
    assert g[:32, :16].abs().sum() > 0
    assert g[32:].abs().sum() == 0 and g[:, 16:].abs().sum() == 0
    assert m.encoder.layers[1].ff1.w1.weight.grad is None


def test_random_specs_run_with_training_and_backward() -> None:
    torch.manual_seed(0)
    m = Supernet(tiny_config(dropout=0.1)).train()
    rng = random.Random(3)
    for _ in range(3):
        m.set_active_subnet(m.space.sample(rng))
        enc, _ = m(torch.randn(2, 45, 80), torch.tensor([45, 20]))
        m.rnnt_logits(enc, torch.randint(1, 20, (2, 3))).logsumexp(-1).mean().backward()


def test_lstm_predictor_teacher_forcing_matches_steps() -> None:
    torch.manual_seed(0)
    m = Supernet(tiny_config(predictor="lstm")).eval()
    enc, _ = m(torch.randn(1, 30, 80), torch.tensor([30]))
    tokens = torch.tensor([[3, 7, 5]])
    logits = m.rnnt_logits(enc, tokens)
    assert logits.shape == (1, enc.shape[1], 4, 20)
    h, c = m.predictor.init_state(1)
    e = m.encoder_proj(enc)
    prev = torch.tensor([[m.config.blank_id]])
    for u in range(4):
        g, h, c = m.predictor.step(prev, h, c)
        assert torch.allclose(m.joiner(e[:, 2], g), logits[:, 2, u], atol=1e-5)
        if u < 3:
            prev = tokens[:, u : u + 1]
    with pytest.raises(ConfigError, match="stateless"):
        m.decoder_out(torch.zeros(1, 2, dtype=torch.long))


def test_bad_input_shapes_are_clear_errors(net: Supernet) -> None:
    with pytest.raises(DataError, match=r"features must be \[batch, frames, 80\], got \[2, 30, 40\]"):
        net(torch.randn(2, 30, 40), torch.tensor([30, 30]))
    with pytest.raises(DataError, match="feature lengths must be"):
        net(torch.randn(2, 30, 80), torch.tensor([30]))
    caches = net.init_caches(1)
    with pytest.raises(DataError, match="a chunk must have 19 frames, got 18"):
        net.forward_chunk(torch.randn(1, 18, 80), caches)
    with pytest.raises(DataError, match="caches"):
        net.forward_chunk(torch.randn(1, 19, 80), caches[:-1])


@pytest.mark.parametrize("encoder", ["conformer", "ssm"])
def test_supernet_can_fit_a_tiny_ctc_task(encoder: str) -> None:
    """Every part learns: two utterances' CTC loss falls by more than half in 40 steps."""
    torch.manual_seed(0)
    m = Supernet(tiny_config(encoder=encoder)).train()
    feats, lens = torch.randn(2, 60, 80), torch.tensor([60, 48])
    targets, tlens = torch.tensor([[3, 5, 7], [4, 4, 9]]), torch.tensor([3, 3])
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        enc, enc_lens = m(feats, lens)
        lp = m.ctc_log_probs(enc).transpose(0, 1)
        loss = torch.nn.functional.ctc_loss(lp, targets, enc_lens, tlens)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::10]
