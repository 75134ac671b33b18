"""SubnetSpec ids and validation; SearchSpace choices and errors."""

from __future__ import annotations

import random

import pytest

from todm.errors import ConfigError
from todm.supernet.model_config import ModelConfig, tiny_config
from todm.supernet.space import SearchSpace, SubnetSpec, active_layers


def test_id_uniform_and_per_layer_round_trip() -> None:
    a = SubnetSpec.uniform(6, 256, 1024, 4)
    assert a.id == "L6-D256-F1024x6-H4x6"
    b = SubnetSpec(3, 144, (576, 288, 576), (4, 2, 4))
    assert b.id == "L3-D144-F576_288_576-H4_2_4"
    for s in (a, b):
        assert SubnetSpec.from_id(s.id) == s
        assert SubnetSpec.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    "bad", ["", "L6-D256", "L6-D256-F1024x6", "X6-D256-F1x6-H1x6", "L2-D8-F1024,512-H4x2"]
)
def test_malformed_ids_are_rejected(bad: str) -> None:
    with pytest.raises(ConfigError, match="subnet id"):
        SubnetSpec.from_id(bad)


def test_spec_validation_names_the_field() -> None:
    with pytest.raises(ConfigError, match="ffn_dims has 2 entries but depth is 3"):
        SubnetSpec(3, 64, (128, 128), (2, 2, 2))
    with pytest.raises(ConfigError, match=r"heads\[1\]"):
        SubnetSpec(2, 64, (128, 128), (2, 0))
    with pytest.raises(ConfigError, match="depth"):
        SubnetSpec(0, 64, (), ())
    with pytest.raises(ConfigError, match="ffn_dims must be a list"):
        SubnetSpec.from_dict({"depth": 1, "d_model": 8, "ffn_dims": 8, "heads": [1]})
    with pytest.raises(ConfigError, match="unknown key"):
        SubnetSpec.from_dict({"depth": 1, "d_model": 8, "ffn_dims": [8], "heads": [1], "x": 1})
    with pytest.raises(ConfigError, match="ffn_dims has 2 entries but depth is 1"):
        SubnetSpec.from_id("L1-D8-F8x2-H1x1")  # rejected, not cut to depth


def test_active_layers_first_and_spread() -> None:
    assert active_layers(2, 4) == (0, 1)
    assert active_layers(2, 4, "spread") == (0, 3)
    assert active_layers(3, 4, "spread") == (0, 2, 3)
    assert active_layers(1, 4, "spread") == (3,)  # the layer that feeds the heads in every subnet
    for m in range(1, 13):
        for d in range(2, m + 1):
            ids = active_layers(d, m, "spread")
            assert len(ids) == d and list(ids) == sorted(set(ids)) and (ids[0], ids[-1]) == (0, m - 1)
        assert active_layers(m, m, "spread") == active_layers(m, m) == tuple(range(m))
    with pytest.raises(ConfigError, match="outside 1..max_depth=4"):
        active_layers(5, 4)
    with pytest.raises(ConfigError, match="'middle'"):
        active_layers(2, 4, "middle")
    with pytest.raises(ConfigError, match="elastic_depth='middle' is not one of"):
        tiny_config(elastic_depth="middle")


def test_search_space_bounds_and_sampling() -> None:
    cfg = tiny_config()
    space = SearchSpace.from_config(cfg)
    assert space.largest() == SubnetSpec.uniform(3, 32, 64, 4)
    assert space.smallest() == SubnetSpec.uniform(1, 16, 32, 1)
    rng = random.Random(0)
    seen = set()
    for _ in range(50):
        s = space.sample(rng)
        space.validate(s)
        seen.add(s.depth)
    assert seen == {1, 2, 3}
    assert space.num_params(space.smallest()) < space.num_params(space.largest())


def test_width_weights_skew_only_the_width_draw() -> None:
    space = SearchSpace.from_config(tiny_config())  # widths 16, 24, 32
    draws = [space.sample(random.Random(i), [0, 1, 3]) for i in range(400)]
    widths = [s.d_model for s in draws]
    assert set(widths) == {24, 32} and 0.65 < widths.count(32) / len(widths) < 0.85
    assert {s.depth for s in draws} == {1, 2, 3}  # the other dimensions still vary
    assert all(space.sample(random.Random(i), [0, 0, 1]).d_model == 32 for i in range(20))
    with pytest.raises(ConfigError, match="2 given for 3 widths"):
        space.sample(random.Random(0), [1, 1])


def test_out_of_space_values_are_errors_not_clamped() -> None:
    space = SearchSpace.from_config(tiny_config())
    with pytest.raises(ConfigError, match="depth=4 is not one of"):
        space.validate(SubnetSpec.uniform(4, 32, 64, 4))
    with pytest.raises(ConfigError, match="d_model=20"):
        space.validate(SubnetSpec.uniform(2, 20, 64, 4))
    with pytest.raises(ConfigError, match=r"ffn_dims\[1\]=40"):
        space.validate(SubnetSpec(2, 32, (64, 40), (4, 4)))
    with pytest.raises(ConfigError, match=r"heads\[0\]=3"):
        space.resolve("L1-D32-F64x1-H3x1")
    assert space.resolve("largest") == space.largest()


def test_model_config_round_trip_and_errors() -> None:
    cfg = tiny_config(encoder="ssm")
    assert ModelConfig.from_yaml(cfg.to_yaml()) == cfg
    # a checkpoint's config from before input_scale existed reads on Kaldi's int16 scale
    legacy = {k: v for k, v in tiny_config(input_scale=1.0).to_dict().items() if k != "input_scale"}
    assert ModelConfig.from_dict(legacy).feature_settings().input_scale == 32768.0
    assert tiny_config(input_scale=1.0).feature_settings().input_scale == 1.0
    with pytest.raises(ConfigError, match="input_scale must be a positive number"):
        tiny_config(input_scale=0)
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['widht'\]"):
        ModelConfig.from_dict({**cfg.to_dict(), "widht": 3})
    with pytest.raises(ConfigError, match="left_context_frames=6 must be a multiple"):
        tiny_config(left_context_frames=6)
    with pytest.raises(ConfigError, match="d_model_choices has \\[64\\]"):
        tiny_config(d_model_choices=[16, 64])
    with pytest.raises(ConfigError, match="encoder='rnn'"):
        tiny_config(encoder="rnn")


def test_presets_build_and_reject_unknown_names() -> None:
    from todm.supernet.model_config import preset

    small = preset("small", vocab_size=256)
    assert small.vocab_size == 256 and small.d_model == 256
    space = SearchSpace.from_config(preset("base"))
    assert space.num_params(space.largest()) > 30_000_000 > space.num_params(space.smallest())
    with pytest.raises(ConfigError, match="'huge' is not one of"):
        preset("huge")
    with pytest.raises(ConfigError, match="preset 'tiny'"):
        preset("tiny", widht=3)


def test_state_id_round_trip_and_old_ids_unchanged() -> None:
    full = SubnetSpec.uniform(2, 64, 128, 4)
    assert full.id == "L2-D64-F128x2-H4x2" and "state" not in full.to_dict()
    reduced = SubnetSpec.uniform(2, 64, 128, 4, state=8)
    assert reduced.id == "L2-D64-F128x2-H4x2-S8"
    assert reduced.to_dict()["state"] == 8
    per_layer = SubnetSpec(2, 64, (128, 96), (4, 2), 3)
    assert per_layer.id == "L2-D64-F128_96-H4_2-S3"
    for s in (full, reduced, per_layer):
        assert SubnetSpec.from_id(s.id) == s
        assert SubnetSpec.from_dict(s.to_dict()) == s
    with pytest.raises(ConfigError, match="state must be a positive integer, got 0"):
        SubnetSpec.from_id("L2-D64-F128x2-H4x2-S0")
    with pytest.raises(ConfigError, match=r"-S<ssm state>"):
        SubnetSpec.from_id("L2-D64-F128x2-H4x2-S")


def test_ssm_state_choices_in_the_space() -> None:
    cfg = tiny_config(encoder="ssm", ssm_state_choices=[2, 4])
    assert ModelConfig.from_yaml(cfg.to_yaml()) == cfg
    space = SearchSpace.from_config(cfg)
    assert space.state_choices == (2, 4)
    assert space.largest().state is None  # the full state is written without -S
    assert space.smallest() == SubnetSpec.uniform(1, 16, 32, 1, state=2)
    states = {space.sample(random.Random(i)).state for i in range(40)}
    assert states == {None, 2}
    # an explicit full state is the same subnet as no state: one id per subnet
    assert space.resolve("L1-D16-F32x1-H1x1-S4").id == "L1-D16-F32x1-H1x1"
    assert space.num_params(space.resolve("L1-D16-F32x1-H1x1-S4")) == space.num_params(
        space.resolve("L1-D16-F32x1-H1x1")
    )
    assert space.num_params(space.smallest()) < space.num_params(space.resolve("L1-D16-F32x1-H1x1"))
    with pytest.raises(ConfigError, match=r"state=3 is not one of \[2, 4\]"):
        space.resolve("L1-D16-F32x1-H1x1-S3")


def test_state_outside_ssm_is_an_error_and_conformer_is_unchanged() -> None:
    conformer = SearchSpace.from_config(tiny_config())
    assert conformer.state_choices is None
    assert conformer.smallest().state is None and conformer.largest().state is None
    assert all(conformer.sample(random.Random(i)).state is None for i in range(10))
    with pytest.raises(ConfigError, match="state=2 but this encoder has no SSM state"):
        conformer.resolve("L1-D16-F32x1-H1x1-S2")
    # one state size only: sampling draws the same subnets as before the state was elastic
    ssm = SearchSpace.from_config(tiny_config(encoder="ssm"))
    assert ssm.state_choices == (4,)
    assert [ssm.sample(random.Random(i)) for i in range(5)] == [
        conformer.sample(random.Random(i)) for i in range(5)
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(encoder="ssm", ssm_state_choices=[2, 5]), r"ssm_state_choices has \[5\], outside 1..ssm_state_dim=4"),
        (dict(encoder="ssm", ssm_state_choices=[0, 4]), r"ssm_state_choices has \[0\]"),
        (dict(encoder="ssm", ssm_state_choices=[2, 3]), "ssm_state_choices must include ssm_state_dim=4"),
        (dict(encoder="ssm", ssm_state_choices=[]), "ssm_state_choices must be null or a non-empty list"),
        (dict(ssm_state_choices=[2, 4]), r"ssm_state_choices=\[2, 4\] needs encoder='ssm'"),
    ],
)
def test_bad_ssm_state_choices_are_named(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        tiny_config(**overrides)
