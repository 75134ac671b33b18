"""The side-by-side step cost probe: recipes timed interleaved in one process."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from todm.errors import ConfigError
from todm.supernet.model import Supernet
from todm.supernet.step_cost import probe_step_costs
from todm.supernet.testing import tiny_train_config


def test_supernet_step_costs_more_than_its_smallest_subnet_alone(tiny_corpus: Path, tmp_path: Path) -> None:
    sup = tiny_train_config(tiny_corpus, tmp_path / "unused")
    sup.num_threads = 1
    smallest = Supernet(sup.model).space.smallest().id
    alone = dataclasses.replace(sup, recipe=dataclasses.replace(sup.recipe, baseline_subnet=smallest))
    costs = probe_step_costs({"supernet": sup, "alone": alone}, tmp_path / "probe", num_steps=6)

    assert len(costs.steps) == 6 and costs.steps == sorted(set(costs.steps))
    assert all(len(v) == 6 and min(v) > 0 for v in costs.cpu_seconds.values())
    assert all(len(v) == 6 and min(v) > 0 for v in costs.wall_seconds.values())
    # A supernet step runs the largest, the smallest and a random subnet; the twin runs the
    # smallest only, so it must be clearly cheaper whatever the machine does meanwhile.
    r = costs.ratio("supernet", ["alone"])
    assert r["ratio"] > 1.3, costs.to_dict()
    assert r["low"] <= r["ratio"] <= r["high"]
    wall = costs.ratio("supernet", ["alone"], measure="wall")
    assert wall["ratio"] > 1.3 and wall["low"] <= wall["ratio"] <= wall["high"]
    assert wall["ratio"] != r["ratio"]  # each is read from its own timings
    with pytest.raises(ConfigError, match="measure must be 'cpu' or 'wall'"):
        costs.ratio("supernet", ["alone"], measure="gpu")
    assert (tmp_path / "probe" / "tokenizer" / "tokenizer.json").is_file()
    assert not (tmp_path / "unused").exists()  # the recipes' own exp dirs are left alone


def test_recipes_on_different_data_are_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    a = tiny_train_config(tiny_corpus, tmp_path / "a")
    b = tiny_train_config(tiny_corpus, tmp_path / "b")
    b.data = dataclasses.replace(b.data, train_manifest=str(tiny_corpus / "dev.jsonl"))
    with pytest.raises(ConfigError, match="'b' trains on other data"):
        probe_step_costs({"a": a, "b": b}, tmp_path / "probe", num_steps=2)
