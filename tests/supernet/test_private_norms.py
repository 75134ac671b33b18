"""``model.private_norms``: one LayerNorm pair per layer variant, everything else shared."""

from __future__ import annotations

import itertools
import random
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from tests.supernet.helpers import strong_position_bias
from todm.errors import ConfigError
from todm.supernet.checkpoint import read_checkpoint
from todm.supernet.elastic import PrivateLayerNorm
from todm.supernet.model import Supernet, tiny_config
from todm.supernet.optim import ScaledAdam
from todm.supernet.slicing import slice_subnet
from todm.supernet.sorting import sort_channels
from todm.supernet.space import SubnetSpec
from todm.supernet.testing import tiny_train_config
from todm.supernet.train import (
    _average_gradients,
    prepare_experiment,
    private_norms_from_largest,
    sandwich,
    train,
)
from todm.supernet.train_config import TrainConfig

torch.set_num_threads(1)


def _norms(net: Supernet, layer: int) -> list[PrivateLayerNorm]:
    return net.encoder.layers[layer].private_norms()


def _make_variants_differ(net: Supernet) -> None:
    with torch.no_grad():
        for layer in net.encoder.layers:
            for norm in layer.private_norms():
                for w, b in zip(norm.weights, norm.biases):
                    w.uniform_(0.5, 1.5)
                    b.normal_(0, 0.3)


def test_every_layer_shape_has_its_own_variant() -> None:
    space = Supernet(tiny_config(private_norms=True)).space
    seen = set()
    for depth, d, f, h in itertools.product(space.depth_choices, space.d_model_choices,
                                            space.ffn_choices, space.head_choices):  # fmt: skip
        spec = SubnetSpec(depth, d, (f,) * depth, (h,) * depth)
        variants = {space.layer_variant(spec, i) for i in range(depth)}
        assert len(variants) == 1  # a layer's variant is its shape, not its position
        seen |= variants
    assert seen == set(range(space.num_layer_variants))
    assert space.layer_variant(space.largest(), 0) == space.num_layer_variants - 1
    assert space.layer_variant(space.smallest(), 0) == 0
    mixed = SubnetSpec(2, space.d_model_choices[0], space.ffn_choices[:2], space.head_choices[:2])
    assert space.layer_variant(mixed, 0) != space.layer_variant(mixed, 1)


def test_norms_are_shared_unless_asked_and_the_flag_must_be_a_bool() -> None:
    assert not any(isinstance(m, PrivateLayerNorm) for m in Supernet(tiny_config()).modules())
    net = Supernet(tiny_config(private_norms=True))
    assert all(len(n.weights) == net.space.num_layer_variants for n in _norms(net, 0))
    assert len(_norms(net, 0)) == 6  # two feed-forward, mixer, two conv, output
    with pytest.raises(ConfigError, match="private_norms must be true or false"):
        tiny_config(private_norms="yes")


@pytest.mark.parametrize("encoder", ["conformer", "ssm"])
def test_sliced_subnets_take_their_own_norms_and_equal_the_supernet(encoder: str) -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config(encoder=encoder, private_norms=True)).eval()
    strong_position_bias(net)
    _make_variants_differ(net)
    net.set_feature_stats(torch.randn(80), torch.rand(80) + 0.5)
    feats, lens = torch.randn(2, 53, 80), torch.tensor([53, 31])
    rng = random.Random(0)
    specs = [net.space.largest(), net.space.smallest()] + [net.space.sample(rng) for _ in range(6)]
    outputs = []
    with torch.no_grad():
        for spec in specs:
            net.set_active_subnet(spec)
            enc, enc_lens = net(feats, lens)
            static = slice_subnet(net, spec)
            s_enc, _ = static(feats, lens)
            assert torch.allclose(s_enc, net.encoder_proj(enc), atol=1e-5), spec.id
            assert sum(p.numel() for p in static.parameters()) == net.space.num_params(spec)
            first = static.encoder.layers[0].norm_out.weight
            assert torch.equal(first, _norms(net, 0)[-1].weights[net.space.layer_variant(spec, 0)][: spec.d_model])
            outputs.append(net.encoder_proj(enc))
    # the same subnet with every variant's norms set to the largest's computes otherwise
    spec = specs[1]
    with torch.no_grad():
        for layer in net.encoder.layers:
            for norm in layer.private_norms():
                for w, b in zip(norm.weights, norm.biases):
                    w.copy_(norm.weights[-1])
                    b.copy_(norm.biases[-1])
        net.set_active_subnet(spec)
        assert not torch.allclose(net.encoder_proj(net(feats, lens)[0]), outputs[1], atol=1e-3)


def test_only_the_active_variants_get_gradients() -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config(private_norms=True))
    net.set_feature_stats(torch.zeros(80), torch.ones(80))
    spec = net.space.smallest()
    net.set_active_subnet(spec)
    enc, _ = net(torch.randn(2, 40, 80), torch.tensor([40, 33]))
    net.ctc_log_probs(enc).sum().backward()
    for i in range(net.config.max_depth):
        runs = i < spec.depth
        variant = net.space.layer_variant(spec, i) if runs else None
        for norm in _norms(net, i):
            for v, (w, b) in enumerate(zip(norm.weights, norm.biases)):
                assert (w.grad is not None) == (b.grad is not None) == (v == variant), (i, v)
    assert net.encoder.layers[0].ff1.w1.weight.grad is not None  # the rest stays shared


def test_sorting_keeps_the_function_with_private_norms() -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config(private_norms=True)).eval()
    _make_variants_differ(net)
    feats, lens = torch.randn(2, 45, 80), torch.tensor([45, 29])
    norm = _norms(net, 0)[0]
    pairs = [(w.clone(), b.clone()) for w, b in zip(norm.weights, norm.biases)]
    with torch.no_grad():
        before = net.ctc_log_probs(net(feats, lens)[0])  # the largest
        perm = sort_channels(net)["d_model"]
        after = net.ctc_log_probs(net(feats, lens)[0])
    assert torch.allclose(before, after, atol=1e-4)
    assert not torch.equal(perm, torch.arange(len(perm)))
    for (w, b), w_now, b_now in zip(pairs, norm.weights, norm.biases):  # every pair moved alike
        assert torch.equal(w[perm], w_now) and torch.equal(b[perm], b_now)


def test_every_variant_starts_the_sandwich_as_the_largests(tiny_corpus: Path, tmp_path: Path) -> None:
    cfg = tiny_train_config(tiny_corpus, tmp_path / "exp", max_steps=1)
    cfg.model.private_norms = True
    cfg.recipe.shrink_after_steps = 1
    _, _, stats = prepare_experiment(cfg)
    torch.manual_seed(0)
    net = Supernet(cfg.model)
    net.set_feature_stats(torch.from_numpy(stats.mean), torch.from_numpy(stats.std))
    opt = ScaledAdam(net.parameters(), lr=0.05)
    enc, _ = net(torch.randn(2, 40, 80), torch.tensor([40, 33]))
    net.ctc_log_probs(enc).pow(2).sum().backward()
    opt.step()
    norm = _norms(net, 0)[0]
    largest = len(norm.weights) - 1
    assert not torch.equal(norm.weights[0], norm.weights[largest])  # the largest alone trained
    assert not private_norms_from_largest(net, opt, cfg, step=0)
    assert private_norms_from_largest(net, opt, cfg, step=1)
    for layer in net.encoder.layers:
        for norm in layer.private_norms():
            for params in (norm.weights, norm.biases):
                src = opt.state[params[largest]]
                for p in params:
                    assert torch.equal(p, params[largest])
                    assert torch.equal(opt.state[p]["exp_avg"], src["exp_avg"])
                    assert opt.state[p]["step"] == src["step"]
                assert opt.state[params[0]]["exp_avg"] is not src["exp_avg"]  # copies, not aliases
    cfg.model.private_norms = False
    assert not private_norms_from_largest(Supernet(cfg.model), opt, cfg, step=1)


def test_training_retraces_shared_norms_until_the_sandwich(tiny_corpus: Path, tmp_path: Path) -> None:
    """Before the sandwich the largest's pair is trained exactly as the shared norms are;
    after it, a variant no subnet of a step ran keeps what it was copied from."""

    def config(name: str, steps: int, private: bool) -> TrainConfig:
        cfg = tiny_train_config(tiny_corpus, tmp_path / name, max_steps=steps)
        cfg.num_threads, cfg.log_every = 1, 1
        cfg.model.private_norms = private
        cfg.recipe.shrink_after_steps = 2
        return cfg

    shared = read_checkpoint(train(config("shared", 2, False), quiet=True) / "checkpoints" / "last.pt")["model"]
    private = read_checkpoint(train(config("private", 2, True), quiet=True) / "checkpoints" / "last.pt")["model"]
    largest = Supernet(config("x", 1, True).model).space.num_layer_variants - 1
    for name, value in shared.items():
        parts = name.rsplit(".", 1)
        if parts[0] + ".weights.0" in private:  # a norm: the largest's pair of the private run
            name = f"{parts[0]}.{ {'weight': 'weights', 'bias': 'biases'}[parts[1]]}.{largest}"
        assert torch.equal(private[name], value), name

    through_cfg = config("through", 3, True)
    through = read_checkpoint(train(through_cfg, quiet=True) / "checkpoints" / "last.pt")["model"]
    net = Supernet(through_cfg.model)
    ran = {(i, net.space.layer_variant(spec, i)) for spec in sandwich(net, through_cfg, 2) for i in range(spec.depth)}
    moved = 0
    for i in range(net.config.max_depth):
        for v in range(largest + 1):
            key = f"encoder.layers.{i}.norm_out.weights.{v}"
            copied = private[f"encoder.layers.{i}.norm_out.weights.{largest}"]
            if (i, v) in ran:
                moved += not torch.equal(through[key], copied)
            else:
                assert torch.equal(through[key], copied), key
    assert moved >= 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_averaged_gradients_leave_parameters_no_process_used_without_one() -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    try:
        net = Supernet(tiny_config(private_norms=True))
        net.set_feature_stats(torch.zeros(80), torch.ones(80))
        net.set_active_subnet("smallest")
        net.ctc_log_probs(net(torch.randn(1, 40, 80), torch.tensor([40]))[0]).sum().backward()
        before = {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}
        _average_gradients(net, 1)
        after = {n: p.grad for n, p in net.named_parameters() if p.grad is not None}
        assert after.keys() == before.keys()
        assert all(torch.equal(after[n], before[n]) for n in before)
    finally:
        dist.destroy_process_group()


def test_a_run_cannot_resume_across_the_setting(tiny_corpus: Path, tmp_path: Path) -> None:
    cfg = tiny_train_config(tiny_corpus, tmp_path / "exp", max_steps=1)
    cfg.num_threads = 1
    train(cfg, quiet=True)
    cfg.model.private_norms, cfg.max_steps = True, 2
    with pytest.raises(ConfigError, match="private_norms"):
        train(cfg, resume=True, quiet=True)
