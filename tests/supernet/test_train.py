"""The training recipe on the tiny digits corpus: loss falls, every subnet trains, configs."""

from __future__ import annotations

import csv
import json
import random
import shutil
from pathlib import Path

import pytest
import torch

from todm.cli import main as todm_main
from todm.errors import ConfigError
from todm.supernet.checkpoint import read_checkpoint
from todm.supernet.dataset import SpeechBatches
from todm.supernet.model import Supernet
from todm.supernet.testing import TINY_CONFIG, tiny_train_config
from todm.supernet.train import DropoutRule, prepare_experiment, sandwich, train, train_step
from todm.supernet.train_config import TrainConfig


@pytest.fixture(scope="module")
def prepared(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An experiment dir holding the tokenizer and feature stats of the tiny corpus."""
    exp = tmp_path_factory.mktemp("prepared")
    prepare_experiment(tiny_train_config(tiny_corpus, exp))
    return exp


def _config(tiny_corpus: Path, prepared: Path, exp: Path, steps: int) -> TrainConfig:
    exp.mkdir(parents=True)
    shutil.copytree(prepared / "tokenizer", exp / "tokenizer")
    shutil.copy(prepared / "feature_stats.json", exp / "feature_stats.json")
    cfg = tiny_train_config(tiny_corpus, exp, max_steps=steps)
    cfg.num_threads, cfg.log_every = 1, 1
    return cfg


def test_loss_falls(tiny_corpus: Path, prepared: Path, tmp_path: Path) -> None:
    exp = train(_config(tiny_corpus, prepared, tmp_path / "exp", steps=16), quiet=True)
    with open(exp / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == list(range(1, 17))
    largest = [float(r["loss_largest"]) for r in rows]
    smallest = [float(r["loss_smallest"]) for r in rows]
    assert sum(largest[-4:]) < 0.8 * sum(largest[:4])
    assert sum(smallest[-4:]) < 0.9 * sum(smallest[:4])
    assert all(float(r["kd_smallest"]) >= 0 for r in rows)
    assert (exp / "tb").is_dir() and any((exp / "tb").iterdir())
    for name in ("config.yaml", "feature_stats.json", "tokenizer/tokens.txt", "checkpoints/last.pt"):
        assert (exp / name).is_file(), name


def test_every_sampled_subnet_trains(tiny_corpus: Path, prepared: Path, tmp_path: Path) -> None:
    cfg = _config(tiny_corpus, prepared, tmp_path / "exp", steps=1)
    cfg.recipe.num_random = 3
    _, tok, stats = prepare_experiment(cfg)
    torch.manual_seed(0)
    model = Supernet(cfg.model).train()
    model.set_feature_stats(torch.from_numpy(stats.mean), torch.from_numpy(stats.std))
    data = SpeechBatches(Path(cfg.data.train_manifest), tok, cfg.data.max_batch_seconds, cfg.seed)
    _, batch = next(data.iterate(0))
    rule = DropoutRule(model, cfg.recipe.dropout_min, cfg.recipe.dropout_max)
    fill = torch.from_numpy(stats.mean)
    for step in range(3):
        model.zero_grad(set_to_none=True)
        out = train_step(model, batch, cfg, step, rule, fill, amp=False)
        assert {"loss_largest", "loss_smallest", "loss_random1", "loss_random3", "kd_random3"} <= set(out)
        assert all(torch.isfinite(torch.tensor(v)) for v in out.values())
        # The largest subnet runs every step, so every parameter gets a finite gradient.
        for name, p in model.named_parameters():
            assert p.grad is not None and bool(torch.isfinite(p.grad).all()), name
    # Any subnet of the space runs forward with the shapes the contract promises.
    rng = random.Random(0)
    for _ in range(8):
        spec = model.space.sample(rng)
        model.set_active_subnet(spec, dropout=rule(spec))
        assert rule.p_min <= rule(spec) <= rule.p_max
        enc, lens = model(batch.feats, batch.feat_lens)
        logits = model.rnnt_logits(enc, batch.tokens)
        assert enc.shape[-1] == spec.d_model and int(lens.max()) <= enc.shape[1]
        assert logits.shape == (len(batch.ids), enc.shape[1], batch.tokens.shape[1] + 1, cfg.model.vocab_size)
        assert bool(torch.isfinite(logits).all())


def test_adaptive_dropout_is_linear_in_parameter_count(tiny_corpus: Path, prepared: Path, tmp_path: Path) -> None:
    cfg = _config(tiny_corpus, prepared, tmp_path / "exp", steps=1)
    prepare_experiment(cfg)
    model = Supernet(cfg.model)
    rule = DropoutRule(model, 0.02, 0.2)
    assert rule(model.space.smallest()) == pytest.approx(0.02)
    assert rule(model.space.largest()) == pytest.approx(0.2)
    rng = random.Random(1)
    for spec in (model.space.sample(rng) for _ in range(5)):
        frac = (model.space.num_params(spec) - rule.lo) / (rule.hi - rule.lo)
        assert rule(spec) == pytest.approx(0.02 + 0.18 * frac)


def test_baseline_mode_trains_only_its_subnet(tiny_corpus: Path, prepared: Path, tmp_path: Path) -> None:
    cfg = _config(tiny_corpus, prepared, tmp_path / "exp", steps=3)
    spec = Supernet(cfg.model).space.smallest()
    cfg.recipe.baseline_subnet = spec.id
    exp = train(cfg, quiet=True)
    trained = read_checkpoint(exp / "checkpoints" / "last.pt")["model"]
    torch.manual_seed(cfg.seed)  # train() builds its model right after seeding
    init = Supernet(cfg.model).state_dict()
    changed = {k for k, v in trained.items() if k in init and not torch.equal(v, init[k])}
    assert any(k.startswith(f"encoder.layers.{spec.depth - 1}.") for k in changed)
    deeper = [k for k in init if k.startswith(f"encoder.layers.{spec.depth}.")]
    assert deeper and not changed & set(deeper)  # layers past its depth never move
    with open(exp / "metrics.csv") as f:
        assert "loss_smallest" not in next(csv.DictReader(f))  # one subnet per step, no KD


def test_delayed_shrinking_trains_the_largest_alone_first(tiny_corpus: Path, prepared: Path, tmp_path: Path) -> None:
    # Until shrink_after_steps the supernet run is, bit for bit, the largest subnet's
    # baseline run: same draws, dropout, data order and updates.
    delayed = _config(tiny_corpus, prepared, tmp_path / "delayed", steps=3)
    delayed.recipe.shrink_after_steps = 3
    alone = _config(tiny_corpus, prepared, tmp_path / "alone", steps=3)
    alone.recipe.baseline_subnet = Supernet(alone.model).space.largest().id
    a = read_checkpoint(train(delayed, quiet=True) / "checkpoints" / "last.pt")["model"]
    b = read_checkpoint(train(alone, quiet=True) / "checkpoints" / "last.pt")["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    model = Supernet(delayed.model)
    assert sandwich(model, delayed, 2) == [model.space.largest()]
    after = sandwich(model, delayed, 3)
    assert after[:2] == [model.space.largest(), model.space.smallest()] and len(after) == 2 + delayed.recipe.num_random


def test_channels_are_sorted_once_as_the_sandwich_starts(tiny_corpus: Path, prepared: Path, tmp_path: Path) -> None:
    def config(name: str, steps: int, sort: bool = True) -> TrainConfig:
        cfg = _config(tiny_corpus, prepared, tmp_path / name, steps=steps)
        cfg.recipe.shrink_after_steps, cfg.recipe.sort_channels_at_shrink = 2, sort
        return cfg

    through = train(config("through", 4), quiet=True)
    with open(through / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    # the students' columns appear at the shrink and keep their names
    assert [r["loss_smallest"] != "" for r in rows] == [False, False, True, True]
    assert all(None not in r for r in rows)
    record = json.loads((through / "channel-sort.json").read_text())
    assert record["step"] == 2
    assert any(p != sorted(p) for p in record["permutations"].values())
    # killed right at the shrink and resumed: the sort happens on resume, exactly as it did
    # without the break (the checkpoint holds the unsorted weights and optimizer state)
    half = config("resumed", 2)
    train(half, quiet=True)
    assert not (tmp_path / "resumed" / "channel-sort.json").exists()
    half.max_steps = 4
    resumed = train(half, resume=True, quiet=True)
    assert json.loads((resumed / "channel-sort.json").read_text()) == record
    a = read_checkpoint(through / "checkpoints" / "last.pt")
    b = read_checkpoint(resumed / "checkpoints" / "last.pt")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    unsorted = read_checkpoint(train(config("unsorted", 4, sort=False), quiet=True) / "checkpoints" / "last.pt")
    assert not all(torch.equal(a["model"][k], unsorted["model"][k]) for k in a["model"])


def test_random_per_width_draws_one_random_subnet_of_each_width(tiny_corpus: Path, prepared: Path, tmp_path: Path) -> None:
    cfg = _config(tiny_corpus, prepared, tmp_path / "exp", steps=1)
    model = Supernet(cfg.model)
    widths = list(model.space.d_model_choices)
    assert len(widths) > 1
    cfg.recipe.num_random = len(widths)
    drawn = [[s.d_model for s in sandwich(model, cfg, step)[2:]] for step in range(20)]
    cfg.recipe.random_per_width = True
    stratified = [[s.d_model for s in sandwich(model, cfg, step)[2:]] for step in range(20)]
    assert all(w == widths for w in stratified)
    assert any(w != widths for w in drawn)  # unstratified draws repeat or reorder widths


def test_largest_loss_weight_scales_only_the_largests_share_of_the_sandwich(
    tiny_corpus: Path, prepared: Path, tmp_path: Path,
) -> None:  # fmt: skip
    cfg = _config(tiny_corpus, prepared, tmp_path / "exp", steps=1)
    cfg.recipe.num_random, cfg.recipe.kd_weight = 0, 0.0  # the largest and the smallest, no teacher term
    cfg.recipe.dropout_min = cfg.recipe.dropout_max = 0.0
    _, tok, stats = prepare_experiment(cfg)
    torch.manual_seed(0)
    model = Supernet(cfg.model).train()
    model.set_feature_stats(torch.from_numpy(stats.mean), torch.from_numpy(stats.std))
    _, batch = next(SpeechBatches(Path(cfg.data.train_manifest), tok, cfg.data.max_batch_seconds, cfg.seed).iterate(0))
    rule, fill = DropoutRule(model, 0.0, 0.0), torch.from_numpy(stats.mean)

    def grads(weight: float, step: int = 0) -> dict[str, torch.Tensor]:
        cfg.recipe.largest_loss_weight = weight
        model.zero_grad(set_to_none=True)
        train_step(model, batch, cfg, step, rule, fill, amp=False)
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    full, half = grads(1.0), grads(0.5)
    smallest_depth = model.space.smallest().depth
    only_largest = [n for n in full if n.startswith(f"encoder.layers.{model.space.largest().depth - 1}.")]
    shared = [n for n in full if n.startswith("encoder.layers.0.")]
    assert only_largest and shared and smallest_depth < model.space.largest().depth
    for n in only_largest:  # trained by the largest alone: its gradient halves
        assert torch.allclose(half[n], 0.5 * full[n], rtol=1e-4, atol=1e-5), n
    assert any(not torch.allclose(half[n], 0.5 * full[n], rtol=1e-2, atol=1e-3) for n in shared)
    # the largest alone, before the sandwich starts, is not scaled
    cfg.recipe.shrink_after_steps = 1
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(grads(1.0).values(), grads(0.5).values()))


def test_random_layer_uniform_draws_one_ffn_width_and_head_count_per_subnet(
    tiny_corpus: Path, prepared: Path, tmp_path: Path,
) -> None:  # fmt: skip
    cfg = _config(tiny_corpus, prepared, tmp_path / "exp", steps=1)
    model = Supernet(cfg.model)
    cfg.recipe.num_random = 3
    mixed = [s for step in range(30) for s in sandwich(model, cfg, step)[2:]]
    cfg.recipe.random_layer_uniform = True
    drawn = [sandwich(model, cfg, step) for step in range(30)]
    uniform = [s for d in drawn for s in d[2:]]
    assert any(len(set(s.ffn_dims)) > 1 or len(set(s.heads)) > 1 for s in mixed)
    assert all(len(set(s.ffn_dims)) == 1 and len(set(s.heads)) == 1 for s in uniform)
    space = model.space
    # every choice still comes up, and the largest and smallest stay where they were
    assert {s.ffn_dims[0] for s in uniform} == set(space.ffn_choices)
    assert {s.heads[0] for s in uniform} == set(space.head_choices)
    assert {s.depth for s in uniform} == set(space.depth_choices)
    assert all(d[0] == space.largest() and d[1] == space.smallest() for d in drawn)


def test_smallest_per_width_puts_each_widths_smallest_at_the_bottom_in_turn(
    tiny_corpus: Path, prepared: Path, tmp_path: Path,
) -> None:  # fmt: skip
    cfg = _config(tiny_corpus, prepared, tmp_path / "exp", steps=1)
    model = Supernet(cfg.model)
    space, widths = model.space, list(model.space.d_model_choices)
    assert len(widths) > 1
    plain = [sandwich(model, cfg, step) for step in range(2 * len(widths))]
    cfg.recipe.smallest_per_width = True
    turns = [sandwich(model, cfg, step) for step in range(2 * len(widths))]
    assert all(s[1] == space.smallest() for s in plain)
    assert [s[1].d_model for s in turns] == widths * 2
    for s in turns:
        bottom = s[1]
        assert bottom == space.smallest(bottom.d_model)
        assert (bottom.depth, set(bottom.ffn_dims), set(bottom.heads)) == (
            space.depth_choices[0], {space.ffn_choices[0]}, {space.head_choices[0]})
    # the largest and the random draws are untouched
    assert [s[0] for s in turns] == [s[0] for s in plain] and [s[2:] for s in turns] == [s[2:] for s in plain]
    with pytest.raises(ConfigError, match="not among the widths"):
        space.smallest(widths[-1] + 1)


def test_values_of_the_wrong_type_are_named_not_taken(tmp_path: Path) -> None:
    manifest = tmp_path / "train.jsonl"
    manifest.write_text("")
    sets = [f"data.train_manifest={manifest}", "recipe.smallest_per_width=maybe", "max_steps=abc",
            "recipe.random_width_weights=[1, yes]", "optim.lr=0.01"]  # fmt: skip
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_yaml_file(TINY_CONFIG, sets)
    msg = str(err.value)
    assert "recipe.smallest_per_width: expected bool, got 'maybe'" in msg
    assert "max_steps: expected int, got 'abc'" in msg
    assert "recipe.random_width_weights: expected list[float] | None" in msg
    assert "optim.lr" not in msg
    ok = TrainConfig.from_yaml_file(TINY_CONFIG, [sets[0], "recipe.smallest_per_width=true", "optim.lr=1"])
    assert ok.recipe.smallest_per_width is True and ok.optim.lr == 1


def test_config_errors_are_reported_together(tmp_path: Path) -> None:
    import yaml

    d = yaml.safe_load(TINY_CONFIG.read_text())
    d["data"]["train_manifest"] = str(tmp_path / "missing.jsonl")
    d["recipe"]["alpha_min"] = 0.5
    d["optim"]["lr"] = -1
    d["max_steps"] = 0
    d["recipe"]["shrink_after_steps"] = -1
    d["recipe"]["random_width_weights"] = [1.0]  # the tiny space has three widths
    d["recipe"]["random_per_width"] = True  # and the weights are set too
    d["recipe"]["largest_loss_weight"] = 0.0
    d["recipe"]["bogus_knob"] = 1
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict(d).validate()
    assert "recipe.bogus_knob" in str(err.value)
    d["recipe"].pop("bogus_knob")
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict(d).validate()
    msg = str(err.value)
    fields = ("data.train_manifest", "recipe.alpha_min", "optim.lr", "max_steps", "recipe.shrink_after_steps",
              "recipe.random_width_weights", "recipe.random_per_width", "recipe.largest_loss_weight")  # fmt: skip
    for field in fields:
        assert field in msg, field
    d["recipe"].update(shrink_after_steps=0, sort_channels_at_shrink=True)
    with pytest.raises(ConfigError, match=r"recipe.sort_channels_at_shrink: needs recipe.shrink_after_steps > 0"):
        TrainConfig.from_dict(d).validate()


def test_feature_stats_of_another_sample_scale_are_refused(tiny_corpus: Path, prepared: Path, tmp_path: Path) -> None:
    from todm.data.stats import FeatureStats

    cfg = _config(tiny_corpus, prepared, tmp_path / "exp", steps=1)
    stats = FeatureStats.load(tmp_path / "exp" / "feature_stats.json")
    assert stats.input_scale == cfg.model.input_scale == 32768.0  # configs/tiny-digits.yaml
    cfg.model.input_scale = 1.0
    with pytest.raises(ConfigError, match=r"feature_stats\.json: statistics of fbank at input_scale 32768, .* is 1;"):
        prepare_experiment(cfg)


def test_config_yaml_round_trip(tiny_corpus: Path, tmp_path: Path) -> None:
    cfg = tiny_train_config(tiny_corpus, tmp_path / "exp")
    path = tmp_path / "c.yaml"
    path.write_text(cfg.to_yaml())
    again = TrainConfig.from_yaml_file(path, ["recipe.num_random=3", "model.dropout=0.2"])
    assert again.recipe.num_random == 3 and again.model.dropout == 0.2
    again.recipe.num_random, again.model.dropout = cfg.recipe.num_random, cfg.model.dropout
    assert again.to_dict() == cfg.to_dict()


def test_cli_train_reports_bad_config_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = todm_main(["train", "--config", str(TINY_CONFIG), "--set", f"data.train_manifest={tmp_path}/nope.jsonl",
                    "--set", "optim.lr=0", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2
    assert "data.train_manifest" in err and "optim.lr" in err and "Traceback" not in err
    assert todm_main(["train", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_cli_train_runs(tiny_corpus: Path, prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    exp = tmp_path / "exp"
    _config(tiny_corpus, prepared, exp, steps=1)
    rc = todm_main(["train", "--config", str(TINY_CONFIG), "--set", f"data.train_manifest={tiny_corpus}/train.jsonl",
                    "--set", f"exp_dir={exp}", "--set", "max_steps=2", "--set", "num_threads=1", "--quiet"])  # fmt: skip
    assert rc == 0
    assert read_checkpoint(exp / "checkpoints" / "last.pt")["position"]["step"] == 2
    assert str(exp) in capsys.readouterr().out


@pytest.mark.parametrize("config", sorted((Path(__file__).parents[2] / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_and_builds_its_space(config: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "train.jsonl"
    manifest.write_text("")
    cfg = TrainConfig.from_yaml_file(config, [f"data.train_manifest={manifest}", "data.dev_manifest=null"])
    cfg.validate()
    with torch.device("meta"):  # the paper-sized ones too, without allocating their weights
        model = Supernet(cfg.model)
    space = model.space
    assert space.num_params(space.smallest()) < space.num_params(space.largest())
