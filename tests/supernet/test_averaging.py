"""``todm average``: the mean of a run's last checkpoints, for decoding and export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from todm.cli import main
from todm.errors import ConfigError
from todm.supernet.averaging import average_checkpoints, average_to_file, last_checkpoints
from todm.supernet.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from todm.supernet.model import Supernet, tiny_config
from todm.supernet.slicing import slice_subnet
from todm.supernet.testing import tiny_train_config
from todm.supernet.train import train


def _save_run(ckpt_dir: Path, steps: list[int], seed: int = 0) -> list[Supernet]:
    nets = []
    for i, step in enumerate(steps):
        torch.manual_seed(seed + i)
        net = Supernet(tiny_config())
        save_checkpoint(ckpt_dir / f"step-{step}.pt", {
            "model": net.state_dict(), "model_config": net.config.to_dict(),
            "optimizer": {"state": {}}, "scheduler": {}, "rng": {"torch": torch.get_rng_state()},
            "position": {"step": step, "epoch": 0, "batch": step},
        })  # fmt: skip
        nets.append(net)
    return nets


def test_the_average_holds_each_weights_mean_and_slices(tmp_path: Path) -> None:
    ckpt = tmp_path / "exp" / "checkpoints"
    nets = _save_run(ckpt, [100, 200, 300])
    paths = [ckpt / f"step-{s}.pt" for s in (100, 200, 300)]
    out = ckpt / "avg-100-300.pt"
    rec = average_to_file(paths, out)
    assert [a["step"] for a in rec["averaged_from"]] == [100, 200, 300]
    assert not {"optimizer", "scheduler", "rng"} & read_checkpoint(out).keys()
    loaded = load_checkpoint(out)
    assert loaded.tokenizer_dir == tmp_path / "exp" / "tokenizer"
    floats = 0
    for name, got in loaded.model.state_dict().items():
        sources = [n.state_dict()[name] for n in nets]
        if got.is_floating_point():
            floats += 1
            torch.testing.assert_close(got, sum(s.double() for s in sources).div(3).to(got.dtype))
            assert not torch.equal(got, sources[-1]) or torch.equal(sources[0], sources[-1]), name
        else:
            assert torch.equal(got, sources[-1]), name
    assert floats > 10
    # a subnet of the mean is the mean of that subnet: slicing reads leading slices
    static = slice_subnet(out, "smallest")
    for name, got in static.state_dict().items():
        if name in loaded.model.state_dict():
            full = loaded.model.state_dict()[name]
            assert torch.equal(got, full[tuple(slice(0, n) for n in got.shape)]), name


def test_last_checkpoints_are_the_latest_oldest_first(tmp_path: Path) -> None:
    ckpt = tmp_path / "checkpoints"
    ckpt.mkdir()
    for name in ["step-100.pt", "step-200.pt", "step-300.pt", "step-1000.pt", "last.pt", "avg-100-300.pt"]:
        (ckpt / name).write_bytes(b"")
    assert [p.name for p in last_checkpoints(tmp_path, 3)] == ["step-200.pt", "step-300.pt", "step-1000.pt"]
    assert [p.name for p in last_checkpoints(tmp_path, 2, until=300)] == ["step-200.pt", "step-300.pt"]
    with pytest.raises(ConfigError, match=r"checkpoints: no step-250\.pt \(steps kept: steps 100 to 1000\)"):
        last_checkpoints(tmp_path, 2, until=250)
    with pytest.raises(ConfigError, match=r"checkpoints: 5 checkpoints asked for, 4 kept"):
        last_checkpoints(tmp_path, 5)
    with pytest.raises(ConfigError, match=r"nowhere/checkpoints: no checkpoints folder"):
        last_checkpoints(tmp_path / "nowhere", 2)


def test_checkpoints_of_another_model_are_refused_by_name(tmp_path: Path) -> None:
    _save_run(tmp_path, [1])
    other = tiny_config()
    other.conv_kernel += 2
    net = Supernet(other)
    save_checkpoint(tmp_path / "step-2.pt", {"model": net.state_dict(), "model_config": other.to_dict()})
    with pytest.raises(ConfigError, match=r"step-2\.pt: another model than .*step-1\.pt \(conv_kernel: 5 -> 7\)"):
        average_checkpoints([tmp_path / "step-1.pt", tmp_path / "step-2.pt"])
    with pytest.raises(ConfigError, match=r"none\.pt: checkpoint not found"):
        average_checkpoints([tmp_path / "step-1.pt", tmp_path / "none.pt"])


def test_a_setting_older_checkpoints_lack_reads_as_its_default(tmp_path: Path) -> None:
    """A run resumed under a newer todm: its early checkpoints lack the settings added since."""
    torch.manual_seed(0)
    net = Supernet(tiny_config())
    older = net.config.to_dict()
    del older["elastic_depth"]
    save_checkpoint(tmp_path / "step-1.pt", {"model": net.state_dict(), "model_config": older})
    save_checkpoint(tmp_path / "step-2.pt", {"model": net.state_dict(), "model_config": net.config.to_dict()})
    assert len(average_checkpoints([tmp_path / "step-1.pt", tmp_path / "step-2.pt"])["averaged_from"]) == 2
    spread = net.config.to_dict() | {"elastic_depth": "spread"}
    save_checkpoint(tmp_path / "step-3.pt", {"model": net.state_dict(), "model_config": spread})
    with pytest.raises(ConfigError, match=r"step-3\.pt: another model .* \(elastic_depth: 'first' -> 'spread'\)"):
        average_checkpoints([tmp_path / "step-1.pt", tmp_path / "step-3.pt"])


def test_checkpoints_of_another_run_are_refused_by_name(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = Supernet(tiny_config())
    for name, seed in (("a.pt", 0), ("b.pt", 0), ("c.pt", 2)):
        save_checkpoint(tmp_path / name, {"model": net.state_dict(), "model_config": net.config.to_dict(),
                                          "train_config": {"exp_dir": "exp/run", "seed": seed}})  # fmt: skip
    assert len(average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"])["averaged_from"]) == 2
    with pytest.raises(ConfigError, match=r"c\.pt: from another run \(exp_dir exp/run, seed 2\) than .*a\.pt"):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "c.pt"])


def test_cli_averages_a_trained_run_that_eval_then_decodes(
    tiny_experiment: Path, tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    exp = tmp_path / "exp"
    shutil.copytree(tiny_experiment, exp)
    assert main(["average", "--exp-dir", str(exp), "--last", "3"]) == 0
    out = exp / "checkpoints" / "avg-200-400.pt"
    assert f"averaged 3 checkpoints (steps 200, 300, 400) -> {out}" in capsys.readouterr().out
    assert main(["eval", "--checkpoint", str(out), "--manifest", str(tiny_corpus / "test.jsonl"),
                 "--subnet", "largest", "--max-utts", "4"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert load_checkpoint(out).model.space.largest().id in printed and "WER %" in printed
    assert main(["average", "--exp-dir", str(exp), "--checkpoints", str(out)]) == 2
    assert "give one of --exp-dir and --checkpoints" in capsys.readouterr().err
    assert main(["average"]) == 2
    assert "give one of --exp-dir and --checkpoints" in capsys.readouterr().err
    elsewhere = tmp_path / "avg.pt"
    assert main(["average", "--exp-dir", str(exp), "--last", "2", "--out", str(elsewhere)]) == 0
    assert f"todm eval looks for the tokenizer in {tmp_path.parent / 'tokenizer'}" in capsys.readouterr().err


def test_training_does_not_resume_from_an_average(tiny_corpus: Path, tmp_path: Path) -> None:
    cfg = tiny_train_config(tiny_corpus, tmp_path / "run", max_steps=2)
    cfg.checkpoint_every, cfg.num_threads, cfg.recipe.num_random = 1, 1, 1
    exp = train(cfg, quiet=True)
    last = exp / "checkpoints" / "last.pt"
    average_to_file(last_checkpoints(exp, 2), last)
    cfg.max_steps = 3
    with pytest.raises(ConfigError, match=r"last\.pt: an averaged checkpoint \(todm average\)"):
        train(cfg, resume=True, quiet=True)
    assert not (exp / "checkpoints" / "step-3.pt").exists()
