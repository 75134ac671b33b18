"""A run killed with SIGKILL and resumed ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from todm.errors import ConfigError
from todm.supernet.checkpoint import read_checkpoint
from todm.supernet.testing import tiny_train_config
from todm.supernet.train import train

STEPS, CKPT_EVERY, KILL_AT = 6, 3, 5

# Trains with the real train(), checkpointing every argv[3] steps; after optimizer step
# KILL_AT the process SIGKILLs itself: no cleanup, no atexit, no flush.
KILLED_RUN = textwrap.dedent(
    f"""
    import os, signal, sys
    from pathlib import Path
    import torch
    torch.set_num_threads(1)
    import todm.supernet.train as T
    from todm.supernet.testing import tiny_train_config

    class Killed(T.ScaledAdam):
        calls = 0
        def step(self, closure=None):
            out = super().step(closure)
            Killed.calls += 1
            if Killed.calls == {KILL_AT}:
                os.kill(os.getpid(), signal.SIGKILL)
            return out

    T.ScaledAdam = Killed
    cfg = tiny_train_config(Path(sys.argv[1]), Path(sys.argv[2]), max_steps={STEPS})
    cfg.checkpoint_every, cfg.num_threads, cfg.recipe.num_random, cfg.log_every = int(sys.argv[3]), 1, 1, 1
    T.train(cfg, quiet=True)
    """
)


def _share_prepared(src: Path, dst: Path) -> None:
    """Reuse a run's tokenizer and feature stats (train() would compute the same ones)."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src / "tokenizer", dst / "tokenizer")
    shutil.copy(src / "feature_stats.json", dst / "feature_stats.json")


def _run_killed(script: Path, corpus: Path, exp: Path, checkpoint_every: int) -> None:
    proc = subprocess.run([sys.executable, str(script), str(corpus), str(exp), str(checkpoint_every)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == -9, proc.stderr[-3000:]


def _metrics(exp: Path) -> list[dict[str, str]]:
    with open(exp / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def _config(corpus: Path, exp: Path):
    cfg = tiny_train_config(corpus, exp, max_steps=STEPS)
    cfg.checkpoint_every, cfg.num_threads, cfg.recipe.num_random, cfg.log_every = CKPT_EVERY, 1, 1, 1
    return cfg


def test_resume_after_kill_matches_uninterrupted_run(tiny_corpus: Path, tmp_path: Path) -> None:
    straight = train(_config(tiny_corpus, tmp_path / "straight"), quiet=True)

    script = tmp_path / "killed.py"
    script.write_text(KILLED_RUN)
    killed = tmp_path / "killed"
    _share_prepared(straight, killed)
    _run_killed(script, tiny_corpus, killed, CKPT_EVERY)  # past the step-3 checkpoint, before step 6
    last = killed / "checkpoints" / "last.pt"
    at_kill = read_checkpoint(last)
    assert at_kill["position"]["step"] == CKPT_EVERY  # the kill came later

    resumed = train(_config(tiny_corpus, killed), resume=True, quiet=True)

    a = read_checkpoint(straight / "checkpoints" / "last.pt")
    b = read_checkpoint(resumed / "checkpoints" / "last.pt")
    assert a["position"] == b["position"] and a["position"]["step"] == STEPS
    assert a["model"].keys() == b["model"].keys()
    for name, tensor in a["model"].items():
        torch.testing.assert_close(b["model"][name], tensor, rtol=0, atol=1e-6, msg=name)
    assert a["scheduler"] == b["scheduler"]
    for pid, state in a["optimizer"]["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                torch.testing.assert_close(b["optimizer"]["state"][pid][key], value, rtol=0, atol=1e-6)
    torch.testing.assert_close(b["rng"]["torch"], a["rng"]["torch"], rtol=0, atol=0)
    # The metrics the killed run logged past its checkpoint are replaced, not repeated.
    assert [r["step"] for r in _metrics(resumed)] == [str(s) for s in range(1, STEPS + 1)]
    assert _metrics(resumed) == _metrics(straight)
    # The training cost carries over the kill: the resumed run adds to what was spent.
    for key in ("wall_seconds", "cpu_seconds"):
        assert 0 < at_kill["cost"][key] < b["cost"][key]


def test_resume_without_checkpoint_starts_fresh(tiny_corpus: Path, tmp_path: Path) -> None:
    cfg = _config(tiny_corpus, tmp_path / "fresh")
    cfg.max_steps = 1
    exp = train(cfg, resume=True, quiet=True)
    assert read_checkpoint(exp / "checkpoints" / "last.pt")["position"]["step"] == 1


def test_run_killed_before_its_first_checkpoint_logs_each_step_once(tiny_corpus: Path, tmp_path: Path) -> None:
    """With no checkpoint to resume from, the rerun starts at step 0 and its rows replace the dead run's."""
    script = tmp_path / "killed.py"
    script.write_text(KILLED_RUN)
    exp = tmp_path / "killed-early"
    _run_killed(script, tiny_corpus, exp, checkpoint_every=100)
    assert not (exp / "checkpoints" / "last.pt").exists()
    dead_rows = _metrics(exp)
    assert [r["step"] for r in dead_rows] == [str(s) for s in range(1, KILL_AT)]  # step KILL_AT died unlogged

    rerun = train(_config(tiny_corpus, exp), resume=True, quiet=True)
    rows = _metrics(rerun)
    assert [r["step"] for r in rows] == [str(s) for s in range(1, STEPS + 1)]
    assert rows[: KILL_AT - 1] == dead_rows  # the same seed redoes the same steps


def test_resume_refuses_another_model_and_names_other_changes(tiny_corpus: Path, tmp_path: Path, capsys) -> None:
    cfg = _config(tiny_corpus, tmp_path / "run")
    cfg.max_steps = 1
    exp = train(cfg, quiet=True)
    last = exp / "checkpoints" / "last.pt"

    other_model = _config(tiny_corpus, exp)
    other_model.model.conv_kernel = 5
    with pytest.raises(ConfigError, match=r"last\.pt: was trained with another model \(conv_kernel: 7 -> 5\)"):
        train(other_model, resume=True, quiet=True)
    assert read_checkpoint(last)["position"]["step"] == 1  # nothing lost

    longer = _config(tiny_corpus, exp)
    longer.max_steps = 2
    capsys.readouterr()
    train(longer, resume=True, quiet=True)
    assert "resuming with changed settings: max_steps: 1 -> 2" in capsys.readouterr().err
    assert read_checkpoint(last)["position"]["step"] == 2

    # which layers a subnet runs changes no weight: a recipe change, said aloud
    spread = _config(tiny_corpus, exp)
    spread.max_steps, spread.model.elastic_depth = 3, "spread"
    train(spread, resume=True, quiet=True)
    err = capsys.readouterr().err
    assert "model.elastic_depth: 'first' -> 'spread'" in err
    rec = read_checkpoint(last)
    assert rec["position"]["step"] == 3 and rec["model_config"]["elastic_depth"] == "spread"


def test_resume_does_not_call_a_setting_added_since_the_checkpoint_a_change(tiny_corpus: Path, tmp_path: Path, capsys) -> None:
    from todm.supernet.train import _check_resumable

    cfg = _config(tiny_corpus, tmp_path / "run")
    saved = cfg.to_dict()
    del saved["recipe"]["sort_channels_at_shrink"]  # as a checkpoint from before that knob
    rec = {"model_config": cfg.model.to_dict(), "train_config": saved}
    capsys.readouterr()
    _check_resumable(tmp_path / "last.pt", rec, cfg, announce=True)
    assert capsys.readouterr().err == ""
    cfg.recipe.shrink_after_steps, cfg.recipe.sort_channels_at_shrink = 1, True
    _check_resumable(tmp_path / "last.pt", rec, cfg, announce=True)
    err = capsys.readouterr().err
    assert "recipe.sort_channels_at_shrink: False -> True" in err and "recipe.shrink_after_steps: 0 -> 1" in err
    # a model setting added since: a checkpoint without input_scale trained on Kaldi's scale
    cfg.model.input_scale = 32768.0
    old_model = {k: v for k, v in cfg.model.to_dict().items() if k != "input_scale"}
    _check_resumable(tmp_path / "last.pt", {**rec, "model_config": old_model}, cfg, announce=False)
    cfg.model.input_scale = 1.0
    with pytest.raises(ConfigError, match=r"another model \(input_scale: 32768.0 -> 1.0\)"):
        _check_resumable(tmp_path / "last.pt", {**rec, "model_config": old_model}, cfg, announce=False)
