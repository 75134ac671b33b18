"""``TrainConfig``: the training recipe as typed dataclasses with YAML round-trip.

One validator reports every problem at once, each naming its dotted field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from todm.errors import ConfigError
from todm.fields import type_mismatch
from todm.supernet.augment import SpecAugmentConfig
from todm.supernet.model_config import ModelConfig


@dataclass
class DataConfig:
    """Where the corpus is and how it is tokenized and batched."""

    train_manifest: str = ""
    dev_manifest: str | None = None
    tokenizer: str = "bpe"  # bpe | unigram | char
    vocab_size: int = 500  # ignored for char (the characters seen decide)
    max_batch_seconds: float = 60.0
    speed_factors: list[float] = field(default_factory=lambda: [1.0])
    max_train_utts: int | None = None


@dataclass
class OptimConfig:
    """ScaledAdam (or plain Adam, for comparison and tiny models) + Eden."""

    name: str = "scaled_adam"  # scaled_adam | adam
    lr: float = 0.045
    lr_batches: float = 5000.0
    lr_epochs: float = 6.0
    warmup_batches: float = 500.0
    clipping_scale: float = 2.0
    # ScaledAdam's learning rate for each tensor's size, relative to lr (0.1 as published;
    # configs/svi-cpu.yaml keeps the 1.0 its benchmark runs were trained with)
    scale_lr_scale: float = 0.1


@dataclass
class RecipeConfig:
    """The TODM recipe: sandwich rule, in-place distillation, adaptive dropout."""

    num_random: int = 2  # random subnets per step besides the largest and smallest
    kd_weight: float = 1.0
    kd_targets: list[str] = field(default_factory=lambda: ["rnnt", "ctc"])
    alpha_min: float = -1.0
    alpha_max: float = 1.0
    dropout_max: float = 0.1  # for the largest subnet
    dropout_min: float = 0.0  # for the smallest; linear in parameter count between
    ctc_weight: float = 0.3
    baseline_subnet: str | None = None  # train this one subnet alone (no sandwich, no KD)
    # Delayed shrinking (Khare et al. 2024, "DepS"): the largest subnet trains alone for
    # this many steps before the sandwich starts, so the smaller subnets start from, and
    # distil from, a partly trained model; those steps cost one subnet, not 2 + num_random.
    shrink_after_steps: int = 0
    # Relative odds of each model width (model.d_model_choices, ascending) in the random
    # draws of the sandwich; None draws them uniformly.
    random_width_weights: list[float] | None = None
    # Stratified draws: the i-th random subnet of a step takes the i-th model width (in
    # turn, ascending), so num_random = the number of widths draws one of each every step,
    # and no width goes a step without a random subnet of its own.
    random_per_width: bool = False
    # Once-for-All's channel sorting at the end of the delayed start: when the sandwich
    # begins, every channel group is reordered by the importance the largest subnet gave
    # it (todm.supernet.sorting), so the smaller subnets start from its strongest
    # channels instead of whichever the initialisation put first.
    sort_channels_at_shrink: bool = False
    # The bottom of the sandwich takes each model width's smallest subnet in turn (the
    # narrowest width's at steps 0, n, 2n..., the next width's at 1, n+1...), instead of
    # the one smallest every step. The leading slices every subnet shares (the first
    # layers, the first feed-forward channels and heads) are otherwise fitted every step
    # to the narrowest width's inputs and only by draws to the wider widths'; this gives
    # each width's lower bound its share of them, at the same number of subnets per step.
    smallest_per_width: bool = False
    # Each random subnet takes one feed-forward width and one number of heads for all its
    # layers. Per-layer draws spread the random steps over (ffn choices x head choices)^d
    # mixes at depth d, so a layer-uniform subnet (the form most deployments pick) is
    # almost never drawn whole; layer-uniform draws give each of them its share of the
    # steps. (The CPU benchmark's recipe 9: no effect on its subnets' WER.)
    random_layer_uniform: bool = False
    # The largest subnet's transcript loss is scaled by this in sandwich steps (not while it
    # trains alone before the sandwich): below 1 the weights it shares lean towards the
    # students' losses. (The CPU benchmark's recipe 10, at 0.5: no effect on the students.)
    largest_loss_weight: float = 1.0


@dataclass
class TrainConfig:
    """Everything a training run needs; ``todm train --config X.yaml`` reads it."""

    exp_dir: str = "exp/run"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    recipe: RecipeConfig = field(default_factory=RecipeConfig)
    specaug: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)
    max_steps: int = 10000
    max_epochs: int = 100
    checkpoint_every: int = 500
    log_every: int = 10
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: bool = True  # bf16 autocast on CUDA; ignored on CPU
    num_threads: int | None = None
    # Start from this checkpoint's weights (a trained run's, or todm average's mean of one)
    # instead of a random initialisation; its experiment's tokenizer and feature statistics
    # come with them, and the optimizer, schedule and data order start afresh. With
    # recipe.baseline_subnet this fine-tunes one subnet of a supernet, as Once-for-All
    # fine-tunes the subnet it deploys. A resumed run continues from its own last.pt.
    init_from: str | None = None

    def validate(self) -> None:
        errs: list[str] = []
        d, o, r = self.data, self.optim, self.recipe
        if not d.train_manifest:
            errs.append("data.train_manifest: required")
        elif not Path(d.train_manifest).is_file():
            errs.append(f"data.train_manifest: {d.train_manifest} not found")
        if self.init_from and not Path(self.init_from).is_file():
            errs.append(f"init_from: {self.init_from} not found")
        if d.dev_manifest and not Path(d.dev_manifest).is_file():
            errs.append(f"data.dev_manifest: {d.dev_manifest} not found")
        if d.tokenizer not in ("bpe", "unigram", "char"):
            errs.append(f"data.tokenizer: {d.tokenizer!r} is not bpe, unigram or char")
        if d.max_batch_seconds <= 0:
            errs.append(f"data.max_batch_seconds: must be > 0, got {d.max_batch_seconds}")
        if not d.speed_factors or any(f <= 0 for f in d.speed_factors):
            errs.append(f"data.speed_factors: positive factors expected, got {d.speed_factors}")
        if o.name not in ("scaled_adam", "adam"):
            errs.append(f"optim.name: {o.name!r} is not scaled_adam or adam")
        if o.lr <= 0:
            errs.append(f"optim.lr: must be > 0, got {o.lr}")
        if r.num_random < 0:
            errs.append(f"recipe.num_random: must be >= 0, got {r.num_random}")
        if not r.alpha_min < 0 < r.alpha_max:
            errs.append(f"recipe.alpha_min/alpha_max: need alpha_min < 0 < alpha_max, got {r.alpha_min}, {r.alpha_max}")
        if bad := [t for t in r.kd_targets if t not in ("rnnt", "ctc")]:
            errs.append(f"recipe.kd_targets: {bad} not among rnnt, ctc")
        if not 0 <= r.dropout_min <= r.dropout_max < 1:
            errs.append(f"recipe.dropout_min/dropout_max: need 0 <= min <= max < 1, got {r.dropout_min}, {r.dropout_max}")
        if r.shrink_after_steps < 0:
            errs.append(f"recipe.shrink_after_steps: must be >= 0, got {r.shrink_after_steps}")
        if r.random_width_weights is not None:
            widths = sorted(set(self.model.d_model_choices or [self.model.d_model]))
            w = r.random_width_weights
            if len(w) != len(widths) or any(x < 0 for x in w) or sum(w) <= 0:
                errs.append(
                    f"recipe.random_width_weights: need one non-negative weight per width {widths} "
                    f"(not all zero), got {w}"
                )
        if r.sort_channels_at_shrink and r.shrink_after_steps == 0:
            errs.append("recipe.sort_channels_at_shrink: needs recipe.shrink_after_steps > 0 "
                        "(channels are sorted by what the largest subnet learned alone)")  # fmt: skip
        if not r.largest_loss_weight > 0:
            errs.append(f"recipe.largest_loss_weight: must be > 0, got {r.largest_loss_weight}")
        if r.random_per_width and r.random_width_weights is not None:
            errs.append("recipe.random_per_width: set it or recipe.random_width_weights, not both")
        if r.ctc_weight < 0:
            errs.append(f"recipe.ctc_weight: must be >= 0, got {r.ctc_weight}")
        for name in ("max_steps", "max_epochs", "checkpoint_every", "log_every"):
            if getattr(self, name) <= 0:
                errs.append(f"{name}: must be > 0, got {getattr(self, name)}")
        if self.device not in ("auto", "cpu", "cuda"):
            errs.append(f"device: {self.device!r} is not auto, cpu or cuda")
        if errs:
            raise ConfigError("invalid training config:\n  " + "\n  ".join(errs))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "config") -> TrainConfig:
        if not isinstance(d, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level")
        sections = {"model": ModelConfig, "data": DataConfig, "optim": OptimConfig,
                    "recipe": RecipeConfig, "specaug": SpecAugmentConfig}  # fmt: skip
        top = {f.name for f in dataclasses.fields(cls)}
        errs = [f"{k}: unknown key (known: {sorted(top)})" for k in d if k not in top]
        kwargs: dict[str, Any] = {}
        for k, v in d.items():
            if k not in top:
                continue
            if k in sections:
                sec = sections[k]
                names = {f.name for f in dataclasses.fields(sec)}
                if not isinstance(v, dict):
                    errs.append(f"{k}: expected a mapping")
                    continue
                errs += [f"{k}.{kk}: unknown key (known: {sorted(names)})" for kk in v if kk not in names]
                types = {f.name: str(f.type) for f in dataclasses.fields(sec)}
                wrong = {kk for kk, vv in v.items() if kk in names and type_mismatch(types[kk], vv)}
                errs += [f"{k}.{kk}: expected {types[kk]}, got {v[kk]!r}" for kk in sorted(wrong)]
                try:
                    kwargs[k] = sec(**{kk: vv for kk, vv in v.items() if kk in names and kk not in wrong})
                except (ConfigError, TypeError) as e:
                    errs.append(f"{k}: {e}")
            else:
                want = str(next(f.type for f in dataclasses.fields(cls) if f.name == k))
                if type_mismatch(want, v):
                    errs.append(f"{k}: expected {want}, got {v!r}")
                kwargs[k] = v
        if errs:
            raise ConfigError(f"{source}:\n  " + "\n  ".join(errs))
        return cls(**kwargs)

    @classmethod
    def from_yaml_file(cls, path: Path, overrides: list[str] | None = None) -> TrainConfig:
        path = Path(path)
        try:
            d = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({e})") from None
        for item in overrides or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigError(f"--set {item!r}: expected key=value (e.g. recipe.num_random=1)")
            node = d
            parts = key.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = yaml.safe_load(value)
        return cls.from_dict(d, source=str(path))
