"""What one training step costs under each of several recipes, measured side by side.

Runs that train in separate processes are timed under whatever else the machine did
meanwhile: two busy hardware threads of one core slow each other, so a run that shared
the machine with more work records more CPU seconds per step. ``probe_step_costs``
removes that: it builds every recipe's model and optimizer in one process and
interleaves them step by step on the same batches (the order rotated every step), so
every recipe meets the same machine conditions, and a ratio of costs is fair.

A step here is what a training step costs once the corpus is cached in memory (as
``SpeechBatches`` does for corpora up to two hours): forward and backward of every
subnet of the step, the optimizer update and the schedule; the batches are built once,
before timing.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from todm.errors import ConfigError
from todm.supernet.dataset import SpeechBatches
from todm.supernet.train import (
    DropoutRule,
    apply_update,
    build_model_and_optimizer,
    prepare_experiment,
    train_step,
    training_device,
)
from todm.supernet.train_config import TrainConfig


@dataclass
class StepCosts:
    """Seconds per step of each recipe, one entry per probed step (same steps for all)."""

    steps: list[int]
    cpu_seconds: dict[str, list[float]]
    wall_seconds: dict[str, list[float]]

    def mean_cpu(self, name: str) -> float:
        return float(np.mean(self.cpu_seconds[name]))

    def ratio(
        self, num: str, dens: list[str], resamples: int = 2000, seed: int = 0, measure: str = "cpu"
    ) -> dict[str, float]:  # fmt: skip
        """Mean seconds per step of ``num`` over the sum of those of ``dens``, with a 95%
        bootstrap interval over the probed steps (resampled together, as measured).

        ``measure`` "cpu" counts CPU seconds, fair where runs share CPU cores; "wall" counts
        wall seconds with the device synchronized around each step, the measure on a GPU,
        where CPU seconds mostly count the host waiting for it."""
        if measure not in ("cpu", "wall"):
            raise ConfigError(f"step cost ratio: measure must be 'cpu' or 'wall', got {measure!r}")
        seconds = self.cpu_seconds if measure == "cpu" else self.wall_seconds
        num_x = np.asarray(seconds[num])
        den_x = np.sum([seconds[d] for d in dens], axis=0)
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(num_x), size=(resamples, len(num_x)))
        boot = num_x[idx].mean(axis=1) / den_x[idx].mean(axis=1)
        low, high = np.percentile(boot, [2.5, 97.5])
        return {"ratio": float(num_x.mean() / den_x.mean()), "low": float(low), "high": float(high)}

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def probe_step_costs(
    recipes: dict[str, TrainConfig], work_dir: Path, num_steps: int = 60, warmup: int = 2,
    total_steps: int | None = None,
) -> StepCosts:  # fmt: skip
    """Time ``num_steps`` training steps of every recipe, interleaved in this process.

    ``recipes`` must share their training data and tokenizer settings (the runs of one
    comparison do); their tokenizer and feature statistics are made once in ``work_dir``.
    The probed steps are spread evenly over ``total_steps`` (default: the first recipe's
    ``max_steps``), so that a supernet's random subnets are the ones its training draws
    at those steps; too few steps draw untypical ones (20 of a 3,500-step run drew random
    subnets 18% above the run's average size). ``warmup`` untimed steps per recipe come first.
    """
    if not recipes:
        raise ConfigError("step cost probe: no recipes given")
    first = next(iter(recipes.values()))
    for name, cfg in recipes.items():
        if (cfg.data.train_manifest, cfg.data.tokenizer, cfg.data.vocab_size) != (
            first.data.train_manifest, first.data.tokenizer, first.data.vocab_size
        ):  # fmt: skip
            raise ConfigError(f"step cost probe: recipe {name!r} trains on other data or tokens than the others")
    if num_steps < 1:
        raise ConfigError(f"step cost probe: num_steps must be >= 1, got {num_steps}")
    shared = dataclasses.replace(first, exp_dir=str(work_dir))
    _, tok, stats = prepare_experiment(shared)
    device = training_device(first)
    if first.num_threads:
        torch.set_num_threads(first.num_threads)
    data = SpeechBatches.for_training(first, tok)
    total = total_steps or first.max_steps
    probed = [round(k * total / (num_steps + warmup)) for k in range(num_steps + warmup)]
    batches = {}
    for s in probed:
        epoch, i = divmod(s, len(data))
        utts = data.batches[data.order(epoch)[i]]
        batches[s] = data.make_batch(utts, np.random.default_rng([first.seed, epoch, i, 0])).to(device)
    fill = torch.from_numpy(stats.mean).to(device)
    runs = {}
    for name, cfg in recipes.items():
        cfg.model.vocab_size, cfg.model.blank_id = tok.vocab_size, tok.blank_id
        model, opt, sched = build_model_and_optimizer(cfg, stats, device)
        runs[name] = (cfg, model, opt, sched, DropoutRule(model, cfg.recipe.dropout_min, cfg.recipe.dropout_max))
    names = list(runs)
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    for k, s in enumerate(probed):
        shift = k % len(names)  # rotate who goes first: no recipe always runs on a cold cache
        for name in names[shift:] + names[:shift]:
            cfg, model, opt, sched, dropout = runs[name]
            amp = cfg.amp and device.type == "cuda"
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            c0, t0 = time.process_time(), time.perf_counter()
            opt.zero_grad(set_to_none=True)
            train_step(model, batches[s], cfg, s, dropout, fill, amp)
            apply_update(model, opt)
            sched.step_batch()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if k >= warmup:
                cpu[name].append(time.process_time() - c0)
                wall[name].append(time.perf_counter() - t0)
    return StepCosts(probed[warmup:], cpu, wall)
