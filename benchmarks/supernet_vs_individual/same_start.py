"""Did a run of another model config retrace recipe 3 up to the sandwich? (README.md,
"Recipe 11", "Recipe 12")

    .venv/bin/python benchmarks/supernet_vs_individual/same_start.py RECIPE3.pt OTHER.pt

Compares two checkpoints of the same step, one of recipe 3 and one of a run whose model
config differs (``model.private_norms``, or other width choices): every tensor of the first
must equal, bit for bit, the second's of the same name; with private norms, a norm's is the
largest's pair (the only one trained before the sandwich). Prints how many tensors were
compared and how many differ, and exits 1 if any does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from todm.supernet.checkpoint import read_checkpoint
from todm.supernet.model_config import ModelConfig
from todm.supernet.space import SearchSpace

PLURAL = {"weight": "weights", "bias": "biases"}


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    base_path, other_path = map(Path, sys.argv[1:])
    base, other = read_checkpoint(base_path), read_checkpoint(other_path)
    config = ModelConfig.from_dict(other["model_config"], str(other_path))
    largest = SearchSpace.from_config(config).num_layer_variants - 1
    differ = []
    for name, value in base["model"].items():
        head, last = name.rsplit(".", 1)
        if config.private_norms and f"{head}.weights.0" in other["model"]:
            name = f"{head}.{PLURAL[last]}.{largest}"
        if name not in other["model"] or not torch.equal(other["model"][name], value):
            differ.append(name)
    steps = [r["position"]["step"] for r in (base, other)]
    print(f"step {steps[0]} against {steps[1]}: {len(base['model'])} tensors compared, "
          f"{len(differ)} differ{': ' + ', '.join(differ[:5]) if differ else ''}")
    return 1 if differ or steps[0] != steps[1] else 0


if __name__ == "__main__":
    sys.exit(main())
