"""The search space: which subnets a supernet holds, and the value object naming one.

A subnet is ``depth`` of the encoder layers (which ones: ``active_layers``), at residual
width ``d_model``, with a per-layer FFN width and head count, and (ssm encoder) an SSM state
size shared by all layers. Its id is a short readable string that names it in search
results, bundles and reports, e.g. ``L6-D256-F1024x6-H4x6`` (uniform layers) or
``L3-D144-F576_288_576-H4_2_4`` (per-layer values joined by ``_``); a reduced SSM state
adds ``-S<state>``: ``L2-D64-F128x2-H4x2-S8``. The full state is written without ``-S``,
so one subnet has one id and ids from before the state was elastic keep their meaning.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from todm.errors import ConfigError

_SPEC_KEYS = ("depth", "d_model", "ffn_dims", "heads")
_OPTIONAL_KEYS = ("state",)


def active_layers(depth: int, max_depth: int, rule: str = "first") -> tuple[int, ...]:
    """The supernet layers a subnet of ``depth`` layers runs, in order.

    "first": ``0 .. depth-1``. "spread": evenly spaced over ``0 .. max_depth-1``, always the
    first and the last (a one-layer subnet runs the last), e.g. depth 2 of 4 runs 0 and 3,
    depth 3 of 4 runs 0, 2 and 3.
    """
    if not 0 < depth <= max_depth:
        raise ConfigError(f"depth {depth} is outside 1..max_depth={max_depth}")
    if rule == "first":
        return tuple(range(depth))
    if rule != "spread":
        raise ConfigError(f"elastic depth rule {rule!r} is not 'first' or 'spread'")
    if depth == 1:
        return (max_depth - 1,)
    # round half up, so the choice does not hang on Python's round-half-to-even
    return tuple(int(i * (max_depth - 1) / (depth - 1) + 0.5) for i in range(depth))


def _positive_int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ConfigError(f"subnet: {name} must be a positive integer, got {v!r}")
    return v


@dataclass(frozen=True)
class SubnetSpec:
    """One subnet of a supernet.

    Attributes:
        depth: number of encoder layers that run (which ones: ``active_layers``).
        d_model: residual width shared by all layers.
        ffn_dims: FFN hidden width, one per active layer.
        heads: attention heads (SSM heads for the ssm encoder), one per active layer.
        state: SSM state size of every layer (ssm encoder); None means the supernet's
            full ``ssm_state_dim`` (and is the only value for the conformer).
    """

    depth: int
    d_model: int
    ffn_dims: tuple[int, ...]
    heads: tuple[int, ...]
    state: int | None = None

    def __post_init__(self) -> None:
        _positive_int("depth", self.depth)
        _positive_int("d_model", self.d_model)
        if self.state is not None:
            _positive_int("state", self.state)
        for name in ("ffn_dims", "heads"):
            vals = getattr(self, name)
            if not isinstance(vals, (tuple, list)):
                raise ConfigError(f"subnet: {name} must be a list of integers, got {vals!r}")
            vals = tuple(vals)
            object.__setattr__(self, name, vals)
            if len(vals) != self.depth:
                raise ConfigError(
                    f"subnet: {name} has {len(vals)} entries but depth is {self.depth} "
                    "(one per active layer expected)"
                )
            for i, v in enumerate(vals):
                _positive_int(f"{name}[{i}]", v)

    @classmethod
    def uniform(
        cls, depth: int, d_model: int, ffn_dim: int, heads: int, state: int | None = None
    ) -> SubnetSpec:
        return cls(depth, d_model, (ffn_dim,) * depth, (heads,) * depth, state)

    @property
    def id(self) -> str:
        base = f"L{self.depth}-D{self.d_model}-F{_fmt(self.ffn_dims)}-H{_fmt(self.heads)}"
        return base if self.state is None else f"{base}-S{self.state}"

    def __str__(self) -> str:
        return self.id

    @classmethod
    def from_id(cls, text: str) -> SubnetSpec:
        """Parse an id made by :attr:`id`; raises ConfigError naming the bad part."""
        m = re.fullmatch(r"L(\d+)-D(\d+)-F([\dx_]+)-H([\dx_]+)(?:-S(\d+))?", text.strip())
        if not m:
            raise ConfigError(
                f"subnet id {text!r} is not of the form L<depth>-D<d_model>-F<ffn>-H<heads>"
                "[-S<ssm state>], e.g. L6-D256-F1024x6-H4x6, L2-D128-F512_256-H4_2 or "
                "L2-D64-F128x2-H4x2-S8"
            )
        depth, d_model = int(m.group(1)), int(m.group(2))
        state = None if m.group(5) is None else int(m.group(5))
        return cls(
            depth, d_model, _parse(m.group(3), "F", text), _parse(m.group(4), "H", text), state
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "depth": self.depth,
            "d_model": self.d_model,
            "ffn_dims": list(self.ffn_dims),
            "heads": list(self.heads),
        }
        # Written only when set, so full-state files stay byte-identical to older ones.
        if self.state is not None:
            d["state"] = self.state
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubnetSpec:
        if not isinstance(d, dict):
            raise ConfigError(
                f"subnet: expected a mapping with keys {_SPEC_KEYS} (optional: "
                f"{_OPTIONAL_KEYS}), got {d!r}"
            )
        unknown = sorted(set(d) - set(_SPEC_KEYS) - set(_OPTIONAL_KEYS))
        if unknown:
            raise ConfigError(
                f"subnet: unknown key(s) {unknown}; expected {list(_SPEC_KEYS)} "
                f"and optionally {list(_OPTIONAL_KEYS)}"
            )
        missing = [k for k in _SPEC_KEYS if k not in d]
        if missing:
            raise ConfigError(f"subnet: missing key(s) {missing}")
        return cls(d["depth"], d["d_model"], d["ffn_dims"], d["heads"], d.get("state"))


def _fmt(vals: tuple[int, ...]) -> str:
    if len(set(vals)) == 1:
        return f"{vals[0]}x{len(vals)}"
    return "_".join(str(v) for v in vals)


def _parse(part: str, letter: str, text: str) -> tuple[int, ...]:
    m = re.fullmatch(r"(\d+)x(\d+)", part)
    if m:
        return (int(m.group(1)),) * int(m.group(2))
    if re.fullmatch(r"\d+(_\d+)*", part):
        return tuple(int(v) for v in part.split("_"))
    raise ConfigError(f"subnet id {text!r}: bad {letter} part {part!r} (use 512x6 or 512_256_512)")


@dataclass(frozen=True)
class SearchSpace:
    """The choices each dimension of a subnet may take (sorted, unique).

    ``state_choices`` are the SSM state sizes (ssm encoder), None where the encoder has
    no SSM state (conformer). Its largest is the supernet's full state, which specs
    returned here write as ``state=None`` (no ``-S`` in the id).
    """

    depth_choices: tuple[int, ...]
    d_model_choices: tuple[int, ...]
    ffn_choices: tuple[int, ...]
    head_choices: tuple[int, ...]
    state_choices: tuple[int, ...] | None = None
    # The ModelConfig this space came from; needed only to count parameters.
    model_config: Any = field(default=None, compare=False, repr=False)
    _counts: dict[tuple[Any, ...], int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("depth_choices", "d_model_choices", "ffn_choices", "head_choices"):
            vals = getattr(self, name)
            if not vals:
                raise ConfigError(f"search space: {name} is empty")
            for v in vals:
                _positive_int(name, v)
            object.__setattr__(self, name, tuple(sorted(set(vals))))
        if self.state_choices is not None:
            if not self.state_choices:
                raise ConfigError("search space: state_choices is empty (use None for no SSM state)")
            for v in self.state_choices:
                _positive_int("state_choices", v)
            object.__setattr__(self, "state_choices", tuple(sorted(set(self.state_choices))))

    @classmethod
    def from_config(cls, cfg: Any) -> SearchSpace:
        """Build from a :class:`todm.supernet.model.ModelConfig`."""
        states = None
        if cfg.encoder == "ssm":
            states = tuple(cfg.ssm_state_choices or (cfg.ssm_state_dim,))
        return cls(
            tuple(cfg.depth_choices),
            tuple(cfg.d_model_choices),
            tuple(cfg.ffn_choices),
            tuple(cfg.head_choices),
            states,
            model_config=cfg,
        )

    @property
    def full_state(self) -> int | None:
        """The supernet's own SSM state size (None: no SSM state)."""
        return None if self.state_choices is None else self.state_choices[-1]

    def _state(self, state: int | None) -> int | None:
        """The spec form of a state size: None for the full state, so ids stay unique."""
        return None if state == self.full_state else state

    @property
    def num_layer_variants(self) -> int:
        """How many shapes one encoder layer can take within a subnet: (depth, d_model,
        FFN width, heads, SSM state), every combination of the choices."""
        states = len(self.state_choices) if self.state_choices is not None else 1
        return (len(self.depth_choices) * len(self.d_model_choices) * len(self.ffn_choices)
                * len(self.head_choices) * states)

    def layer_variant(self, spec: SubnetSpec, i: int) -> int:
        """The index of the ``i``-th active layer's shape in ``spec``, in
        ``0 .. num_layer_variants - 1``; the largest subnet's layers take the last."""
        index = 0
        for choices, value in (
            (self.depth_choices, spec.depth),
            (self.d_model_choices, spec.d_model),
            (self.ffn_choices, spec.ffn_dims[i]),
            (self.head_choices, spec.heads[i]),
            (self.state_choices or (None,), spec.state if spec.state is not None else self.full_state),
        ):
            if value not in choices:
                raise ConfigError(f"subnet {spec.id}: {value} is not among the choices {list(choices)}")
            index = index * len(choices) + choices.index(value)
        return index

    def largest(self) -> SubnetSpec:
        return SubnetSpec.uniform(
            self.depth_choices[-1], self.d_model_choices[-1], self.ffn_choices[-1],
            self.head_choices[-1],
        )

    def smallest(self, d_model: int | None = None) -> SubnetSpec:
        """The smallest subnet, or the smallest of model width ``d_model``."""
        if d_model is None:
            d_model = self.d_model_choices[0]
        elif d_model not in self.d_model_choices:
            raise ConfigError(f"d_model {d_model} is not among the widths {list(self.d_model_choices)}")
        state = None if self.state_choices is None else self._state(self.state_choices[0])
        return SubnetSpec.uniform(
            self.depth_choices[0], d_model, self.ffn_choices[0], self.head_choices[0], state,
        )

    def sample(
        self, rng: random.Random, width_weights: Sequence[float] | None = None, layer_uniform: bool = False,
    ) -> SubnetSpec:  # fmt: skip
        """A random subnet: depth, width, each layer's FFN width and heads, then the SSM
        state size, each uniformly, except the width when ``width_weights`` (relative
        odds, one per ``d_model_choices``) are given. ``layer_uniform`` draws one FFN width
        and one number of heads for every layer (the form of the subnets a search over
        layer-uniform subnets deploys), instead of one per layer."""
        depth = rng.choice(self.depth_choices)
        if width_weights is None:
            d_model = rng.choice(self.d_model_choices)
        else:
            if len(width_weights) != len(self.d_model_choices):
                raise ConfigError(
                    f"width_weights: {len(width_weights)} given for {len(self.d_model_choices)} "
                    f"widths {list(self.d_model_choices)}"
                )
            d_model = rng.choices(self.d_model_choices, weights=width_weights)[0]
        if layer_uniform:
            ffn_dims = (rng.choice(self.ffn_choices),) * depth
            heads = (rng.choice(self.head_choices),) * depth
        else:
            ffn_dims = tuple(rng.choice(self.ffn_choices) for _ in range(depth))
            heads = tuple(rng.choice(self.head_choices) for _ in range(depth))
        state = None
        # Drawn last and only when there is a choice, so spaces without an elastic state
        # (and seeded runs made before it existed) sample exactly the same subnets.
        if self.state_choices is not None and len(self.state_choices) > 1:
            state = self._state(rng.choice(self.state_choices))
        return SubnetSpec(depth, d_model, ffn_dims, heads, state)

    def resolve(self, spec: SubnetSpec | str | dict[str, Any]) -> SubnetSpec:
        """Accept a spec, an id, ``"largest"``/``"smallest"`` or a dict; validate it."""
        if isinstance(spec, str):
            if spec == "largest":
                spec = self.largest()
            elif spec == "smallest":
                spec = self.smallest()
            else:
                spec = SubnetSpec.from_id(spec)
        elif isinstance(spec, dict):
            spec = SubnetSpec.from_dict(spec)
        elif not isinstance(spec, SubnetSpec):
            raise ConfigError(f"subnet: expected a SubnetSpec, an id or a dict, got {spec!r}")
        self.validate(spec)
        if spec.state is not None and spec.state == self.full_state:
            spec = dataclasses.replace(spec, state=None)
        return spec

    def validate(self, spec: SubnetSpec) -> None:
        """Raise ConfigError naming the first field outside the space; nothing is clamped."""
        if spec.depth not in self.depth_choices:
            raise ConfigError(
                f"subnet {spec.id}: depth={spec.depth} is not one of {list(self.depth_choices)}"
            )
        if spec.d_model not in self.d_model_choices:
            raise ConfigError(
                f"subnet {spec.id}: d_model={spec.d_model} is not one of "
                f"{list(self.d_model_choices)}"
            )
        for name, choices in (("ffn_dims", self.ffn_choices), ("heads", self.head_choices)):
            for i, v in enumerate(getattr(spec, name)):
                if v not in choices:
                    raise ConfigError(
                        f"subnet {spec.id}: {name}[{i}]={v} is not one of {list(choices)}"
                    )
        if spec.state is None:
            return
        if self.state_choices is None:
            raise ConfigError(
                f"subnet {spec.id}: state={spec.state} but this encoder has no SSM state "
                "(drop the -S part)"
            )
        if spec.state not in self.state_choices:
            raise ConfigError(
                f"subnet {spec.id}: state={spec.state} is not one of {list(self.state_choices)}"
            )

    def num_params(self, spec: SubnetSpec) -> int:
        """Parameters of the sliced model for ``spec``.

        Counted from modules built on the meta device (no weights allocated), one per
        distinct layer shape and width, cached: a few ms per new shape, then free.
        """
        cfg = self.model_config
        if cfg is None:
            raise ConfigError("search space: num_params needs a space made by from_config(cfg)")
        self.validate(spec)
        total = self._count(("base", spec.d_model))
        state = spec.state or self.full_state
        for f, h in zip(spec.ffn_dims, spec.heads):
            total += self._count(("layer", spec.d_model, f, h, state))
        return total

    def _count(self, key: tuple[Any, ...]) -> int:
        if key not in self._counts:
            import torch

            from todm.supernet.conformer import ConformerLayer
            from todm.supernet.encoder import build_mixer
            from todm.supernet.heads import CTCHead, Joiner
            from todm.supernet.model import build_predictor
            from todm.supernet.subsampling import Subsampling

            cfg = self.model_config
            with torch.device("meta"):
                if key[0] == "base":
                    d = key[1]
                    parts = [
                        Subsampling(cfg.num_mel_bins, cfg.subsampling, cfg.subsampling_channels, d, False),
                        CTCHead(d, cfg.vocab_size, False),
                        build_predictor(cfg),
                        Joiner(d, cfg.joiner_dim, cfg.vocab_size, False),
                    ]
                else:
                    _, d, f, h, state = key
                    mixer = build_mixer(cfg, d, h, False, state)
                    parts = [ConformerLayer(d, f, mixer, cfg.conv_kernel, False)]
            self._counts[key] = sum(p.numel() for m in parts for p in m.parameters())
        return self._counts[key]
