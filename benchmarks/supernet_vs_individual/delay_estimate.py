"""The quick cost estimate that chose recipe 3's delay, before its run (README, "Recipe 3").

    .venv/bin/python benchmarks/supernet_vs_individual/delay_estimate.py 24

Times recipe 2's supernet step, recipe 3's with a 750- and a 1,000-step delay, and the
largest twin's step side by side on the same batches (``probe_step_costs``), over the given
number of probed steps; writes ``step-costs-delay-estimate.json`` here. Dividing a recipe's
mean by recipe 2's and multiplying by recipe 2's recorded ratio (0.279) estimates its cost
against the ten twins; the recorded 60-step probe of the chosen recipe is the measure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from todm.supernet.step_cost import probe_step_costs
from todm.supernet.train_config import TrainConfig

HERE = Path(__file__).parent
BASE = ["data.train_manifest=corpora/open-2h/train.jsonl", "max_steps=3000", "num_threads=1"]
PER_WIDTH = ["recipe.num_random=2", "recipe.random_per_width=true"]


def recipe(*overrides: str) -> TrainConfig:
    return TrainConfig.from_yaml_file(Path("configs/svi-cpu.yaml"), [*BASE, *overrides])


def main() -> None:
    recipes = {
        "recipe 2": recipe("recipe.shrink_after_steps=750", "recipe.random_width_weights=[1,3]"),
        "recipe 3, delay 750": recipe("recipe.shrink_after_steps=750", *PER_WIDTH),
        "recipe 3, delay 1000": recipe("recipe.shrink_after_steps=1000", *PER_WIDTH),
        "individual L4-D96-F384x4-H4x4": recipe("recipe.baseline_subnet=L4-D96-F384x4-H4x4"),
    }
    probe = probe_step_costs(recipes, Path("exp/delay-estimate"), int(sys.argv[1]))
    (HERE / "step-costs-delay-estimate.json").write_text(json.dumps(probe.to_dict(), indent=2) + "\n")
    for name in recipes:
        print(f"{name}: {probe.mean_cpu(name):.3f} CPU s per step, {probe.mean_cpu(name) / probe.mean_cpu('recipe 2'):.3f}x recipe 2")


if __name__ == "__main__":
    main()
