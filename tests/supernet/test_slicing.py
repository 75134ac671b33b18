"""Sliced static models equal the supernet for sampled specs; save/load; the CLI."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from tests.supernet.helpers import strong_position_bias
from todm.errors import ConfigError
from todm.supernet.model import Supernet, tiny_config
from todm.supernet.slicing import slice_subnet
from todm.supernet.static import StaticModel

torch.set_num_threads(1)



@pytest.mark.parametrize(("encoder", "elastic_depth"),
                         [("conformer", "first"), ("ssm", "first"), ("conformer", "spread")])  # fmt: skip
def test_sliced_model_equals_supernet_for_sampled_specs(encoder: str, elastic_depth: str) -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config(encoder=encoder, elastic_depth=elastic_depth)).eval()
    strong_position_bias(net)
    net.set_feature_stats(torch.randn(80), torch.rand(80) + 0.5)
    feats, lens = torch.randn(2, 53, 80), torch.tensor([53, 31])
    tokens = torch.randint(1, 20, (2, 4))
    rng = random.Random(0)
    specs = [net.space.largest(), net.space.smallest()] + [net.space.sample(rng) for _ in range(6)]
    with torch.no_grad():
        for spec in specs:
            net.set_active_subnet(spec)
            enc, enc_lens = net(feats, lens)
            static = slice_subnet(net, spec)
            assert static.meta.subnet_id == spec.id
            s_enc, s_lens = static(feats, lens)
            assert torch.equal(s_lens, enc_lens)
            assert torch.allclose(s_enc, net.encoder_proj(enc), atol=1e-5), spec.id
            s_ctc, _ = static.ctc(feats, lens)
            assert torch.allclose(s_ctc, net.ctc_log_probs(enc), atol=1e-5), spec.id
            y = tokens[:, :2]
            assert torch.allclose(static.decoder(y), net.decoder_out(y), atol=1e-6)
            # physically smaller, plain modules only
            n_static = sum(p.numel() for p in static.parameters())
            assert n_static == net.space.num_params(spec)
            assert not any("Elastic" in type(m).__name__ for m in static.modules())
    assert sum(p.numel() for p in net.parameters()) > n_static


def test_spread_depth_runs_the_first_and_last_layers() -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config(elastic_depth="spread")).eval()  # max_depth 3
    net.set_feature_stats(torch.randn(80), torch.rand(80) + 0.5)
    feats, lens = torch.randn(1, 40, 80), torch.tensor([40])
    net.set_active_subnet("L2-D32-F64x2-H4x2")
    assert net.encoder.layer_ids == (0, 2)
    with torch.no_grad():
        before = net(feats, lens)[0]
        for p in net.encoder.layers[1].parameters():  # the skipped middle layer
            p.add_(1.0)
        assert torch.equal(net(feats, lens)[0], before)
        static = slice_subnet(net, "L2-D32-F64x2-H4x2")
        # the static model's second layer is the supernet's last (full width here: whole tensors)
        last = {k: v.clone() for k, v in net.encoder.layers[2].state_dict().items()}
        assert static.encoder.layers[1].state_dict().keys() == last.keys()
        assert all(torch.equal(v, last[k]) for k, v in static.encoder.layers[1].state_dict().items())
        for p in net.encoder.layers[2].parameters():
            p.add_(0.1)
        assert not torch.allclose(net(feats, lens)[0], before, atol=1e-3)


def test_reduced_ssm_state_slices_smaller_and_equals_supernet(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config(encoder="ssm", ssm_state_choices=[1, 2, 4])).eval()
    with torch.no_grad():  # faster dynamics than the default, so every state entry matters
        for layer in net.encoder.layers:
            layer.mixer.log_dt.uniform_(-2.5, -0.5)
    net.set_feature_stats(torch.randn(80), torch.rand(80) + 0.5)
    feats, lens = torch.randn(2, 53, 80), torch.tensor([53, 31])
    full_spec = "L2-D24-F48_64-H2_4"
    with torch.no_grad():
        net.set_active_subnet(full_spec)
        full_enc = net(feats, lens)[0]
        for spec_id, state in ((full_spec + "-S2", 2), ("smallest", 1)):
            spec = net.set_active_subnet(spec_id)
            assert spec.state == state
            enc = net(feats, lens)[0]
            if spec_id.startswith(full_spec):  # the state was really cut
                assert not torch.allclose(enc, full_enc, atol=1e-3)
            static = slice_subnet(net, spec)
            assert torch.allclose(static(feats, lens)[0], net.encoder_proj(enc), atol=1e-5), spec.id
            for layer, heads in zip(static.encoder.layers, spec.heads):
                ssm = layer.mixer
                for p in (ssm.log_neg_a, ssm.b, ssm.c):
                    assert p.shape == (heads * 8, state)
            assert [s.shape[-1] for s in static.cache_specs() if "ssm_state" in s.name] == [
                state
            ] * spec.depth
            assert [c.shape for c in net.init_caches()] == [c.shape for c in static.init_caches()]
            assert sum(p.numel() for p in static.parameters()) == net.space.num_params(spec)
    static.save(tmp_path / "s.pt")
    again = StaticModel.load(tmp_path / "s.pt")
    assert again.spec == static.spec and again.meta.subnet_id.endswith("-S1")


def test_slicing_leaves_the_supernet_unchanged() -> None:
    net = Supernet(tiny_config()).eval()
    net.set_active_subnet("L2-D24-F48x2-H2x2")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    slice_subnet(net, "smallest")
    assert net.active_subnet.id == "L2-D24-F48x2-H2x2"
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_save_load_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config()).eval()
    static = slice_subnet(net, "L2-D16-F32_64-H1_4")
    path = tmp_path / "sub" / "model.pt"
    static.save(path)
    payload = torch.load(path, weights_only=True)
    assert payload["subnet"]["ffn_dims"] == [32, 64]
    again = StaticModel.load(path)
    feats, lens = torch.randn(1, 40, 80), torch.tensor([40])
    assert torch.equal(again.encode(feats, lens)[0], static.encode(feats, lens)[0])
    assert again.meta == static.meta
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp files left


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(ConfigError, match="bad.pt: not a readable static model: not a file torch.save wrote"):
        StaticModel.load(bad)
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="not a todm static model"):
        StaticModel.load(tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="no such"):
        StaticModel.load(tmp_path / "missing.pt")
    with pytest.raises(ConfigError, match="checkpoint file not found"):
        slice_subnet(tmp_path / "missing.pt", "largest")
    with pytest.raises(ConfigError, match="depth=9"):
        slice_subnet(Supernet(tiny_config()), "L9-D32-F64x9-H4x9")


def test_lstm_predictor_slices_and_steps() -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config(predictor="lstm")).eval()
    static = slice_subnet(net, "smallest")
    assert static.meta.context_size == 1
    h, c = net.predictor.init_state(2)
    tok = torch.tensor([[4], [0]])
    want = net.predictor.step(tok, h, c)
    got = static.decoder_step(tok, h, c)
    assert all(torch.allclose(g, w) for g, w in zip(got, want))
    with pytest.raises(ConfigError, match="stateless"):
        static.decoder(torch.zeros(1, 2, dtype=torch.long))
