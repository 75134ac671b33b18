"""How typical the supernet's random subnets were at the steps a cost probe timed.

    .venv/bin/python benchmarks/supernet_vs_individual/probe_draws.py \
        --config configs/svi-cpu.yaml --tokenizer exp/svi-cpu-3000/supernet/tokenizer \
        --total-steps 3500 benchmarks/supernet_vs_individual/step-costs-uniform-draws*.json

For each probe file (``--part cost-probe``): the mean parameter count of the random
subnets that the sandwich draws at the probed steps (the largest where
``recipe.shrink_after_steps`` has it train alone), against the mean over the whole run,
and the probe's cost ratio (supernet step / one step of every twin) with its interval.
A probe whose draws are far from the run's average misstates the supernet's step cost.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import mean

from todm.data.tokenizer import Tokenizer
from todm.supernet.model import Supernet
from todm.supernet.step_cost import StepCosts
from todm.supernet.train import sandwich
from todm.supernet.train_config import TrainConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("probes", nargs="+", type=Path, help="step-costs JSON files")
    ap.add_argument("--config", type=Path, required=True, help="the supernet's training recipe")
    ap.add_argument("--tokenizer", type=Path, required=True, help="the run's tokenizer dir (sets the vocabulary)")
    ap.add_argument("--total-steps", type=int, required=True, help="the max_steps the probe spread its steps over")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="the run's config overrides")
    args = ap.parse_args()
    cfg = TrainConfig.from_yaml_file(args.config, [*args.set, f"max_steps={args.total_steps}"])
    cfg.model.vocab_size = Tokenizer.load(args.tokenizer).vocab_size
    net = Supernet(cfg.model)

    def random_params(steps: list[int] | range) -> float:
        # the random subnets of a step come after the largest and the smallest; a step
        # where the largest trains alone counts it in their place
        return mean(mean(net.space.num_params(x) for x in (specs[2:] or specs))
                    for specs in (sandwich(net, cfg, s) for s in steps))  # fmt: skip

    print(f"whole run ({args.total_steps} steps): random subnet {random_params(range(args.total_steps)):,.0f} params")
    for path in args.probes:
        probe = StepCosts(**json.loads(path.read_text()))
        r = probe.ratio("supernet", [n for n in probe.cpu_seconds if n != "supernet"])
        print(f"{path} ({len(probe.steps)} steps): random subnet {random_params(probe.steps):,.0f} params; "
              f"cost ratio {r['ratio']:.3f} [{r['low']:.3f}, {r['high']:.3f}]")  # fmt: skip


if __name__ == "__main__":
    main()
