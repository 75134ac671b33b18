"""``init_from``: a run that starts from a trained checkpoint's weights (fine-tuning one subnet)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from todm.errors import ConfigError
from todm.supernet.checkpoint import load_checkpoint
from todm.supernet.testing import tiny_train_config
from todm.supernet.train import train
from todm.supernet.train_config import TrainConfig


def _fine_tune(corpus: Path, exp: Path, init_from: Path | None, steps: int = 3) -> TrainConfig:
    cfg = tiny_train_config(corpus, exp, max_steps=steps)
    cfg.recipe.baseline_subnet = "smallest"
    cfg.log_every = 1
    cfg.checkpoint_every = steps
    cfg.init_from = None if init_from is None else str(init_from)
    return cfg


def _losses(exp: Path) -> list[float]:
    with open(exp / "metrics.csv", newline="") as f:
        return [float(r["loss_largest"]) for r in csv.DictReader(f)]


def test_a_subnet_fine_tuned_from_a_supernet_starts_where_the_supernet_left_it(
    tiny_experiment: Path, tiny_corpus: Path, tmp_path: Path,
) -> None:  # fmt: skip
    source = tiny_experiment / "checkpoints" / "last.pt"
    tuned = train(_fine_tune(tiny_corpus, tmp_path / "tuned", source), quiet=True)
    fresh = train(_fine_tune(tiny_corpus, tmp_path / "fresh", None), quiet=True)
    # the first step's loss is the starting weights' (it is logged before their update):
    # a trained supernet's smallest subnet against a random initialisation
    assert _losses(tuned)[0] < 0.5 * _losses(fresh)[0]
    for name in ("tokenizer/tokenizer.json", "feature_stats.json"):
        assert (tuned / name).read_bytes() == (tiny_experiment / name).read_bytes(), name
    # the result is an ordinary run: it slices, decodes and records where it started
    loaded = load_checkpoint(tuned / "checkpoints" / "last.pt")
    assert loaded.record["train_config"]["init_from"] == str(source)
    assert loaded.record["position"]["step"] == 3


def test_a_start_that_cannot_be_used_is_refused_by_name(
    tiny_experiment: Path, tiny_corpus: Path, tmp_path: Path,
) -> None:  # fmt: skip
    source = tiny_experiment / "checkpoints" / "last.pt"
    with pytest.raises(ConfigError, match=r"init_from: .*nowhere\.pt not found"):
        train(_fine_tune(tiny_corpus, tmp_path / "a", tmp_path / "nowhere.pt"), quiet=True)
    other = _fine_tune(tiny_corpus, tmp_path / "b", source)
    other.model.conv_kernel += 2
    with pytest.raises(ConfigError, match=r"init_from: .*last\.pt holds another model \(conv_kernel: 7 -> 9\)"):
        train(other, quiet=True)
    loose = tmp_path / "loose" / "checkpoints" / "last.pt"  # copied out of the run that trained it
    loose.parent.mkdir(parents=True)
    shutil.copyfile(source, loose)
    with pytest.raises(ConfigError, match=r"init_from: .*loose/checkpoints/last\.pt: its experiment has no tokenizer"):
        train(_fine_tune(tiny_corpus, tmp_path / "c", loose), quiet=True)
    # an exp_dir that has a tokenizer of its own: the weights' token ids would mean other tokens
    mine = tmp_path / "d"
    shutil.copytree(tiny_experiment / "tokenizer", mine / "tokenizer")
    tokens = mine / "tokenizer" / "tokens.txt"
    lines = tokens.read_text().splitlines()
    lines[3:5] = [f"{lines[4].split()[0]} 3", f"{lines[3].split()[0]} 4"]  # two characters swap ids
    tokens.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"d/tokenizer is another tokenizer than the one"):
        train(_fine_tune(tiny_corpus, mine, source), quiet=True)
