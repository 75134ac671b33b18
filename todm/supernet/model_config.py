"""``ModelConfig``: the supernet's architecture and search space, YAML/dict round-trip.

Sizes named ``d_model``, ``ffn_dim``, ``num_heads``, ``max_depth`` are the supernet's
(maximum) sizes; the ``*_choices`` lists span the search space and must not exceed them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from todm.bundle import FeatureSettings
from todm.errors import ConfigError

ENCODERS = ("conformer", "ssm")
PREDICTORS = ("stateless", "lstm")
SUBSAMPLING_FACTORS = (4, 6, 8)
ELASTIC_DEPTH_RULES = ("first", "spread")


@dataclass
class ModelConfig:
    """Supernet architecture.

    Attributes:
        encoder: "conformer" (chunked attention) or "ssm" (multi-head diagonal SSM).
        num_mel_bins: input fbank bins.
        input_scale: what samples in [-1, 1] are multiplied by before the fbank: 32768
            (Kaldi's int16 scale; what every todm model trained before this field had) or
            1.0 (sherpa-onnx's and icefall's front end, so that sherpa-onnx exports see
            exactly the features the model was trained on; see
            ``benchmarks/sherpa_onnx_agreement``). It travels in the model's metadata.
        subsampling: time reduction of the convolutional front end (4, 6 or 8).
        subsampling_channels: channels of its Conv2d layers.
        max_depth, d_model, ffn_dim, num_heads: the supernet's maximum sizes.
        head_dim: attention head width (fixed; heads are elastic, not their width).
        ssm_state_dim: state size per channel of the SSM mixer (ssm encoder only).
        conv_kernel: causal depthwise convolution kernel of each layer.
        chunk_frames: encoder frames per streaming chunk (after subsampling).
        left_context_frames: attention left context in encoder frames, a multiple of
            ``chunk_frames``; training uses the same chunk-causal mask as streaming.
        vocab_size, blank_id: output tokens; blank is a token id.
        context_size: tokens the stateless predictor looks back at.
        predictor: "stateless" (embedding + grouped Conv1d) or "lstm".
        decoder_dim: predictor width; predictor_groups: groups of its Conv1d.
        lstm_layers, lstm_hidden: the LSTM predictor's sizes.
        joiner_dim: width where encoder and predictor meet.
        dropout: default dropout (``set_active_subnet(..., dropout=)`` overrides it).
        depth_choices, d_model_choices, ffn_choices, head_choices: the search space.
        elastic_depth: which layers a subnet of ``depth`` layers runs: "first" (the first
            ``depth``, as Once-for-All and HAT do) or "spread" (evenly spaced from the first
            layer to the last, as LayerDrop prunes: the layer that feeds the heads is then
            the same in every subnet). It changes no weight's shape, only what a subnet id
            means, so a run may resume with it changed (said aloud, as any recipe change).
        ssm_state_choices: SSM state sizes the search space may use (ssm encoder only;
            one size for all layers of a subnet); None means only ``ssm_state_dim``.
        private_norms: each encoder layer's LayerNorms keep one (weight, bias) pair per
            shape the layer takes in a subnet (``SearchSpace.layer_variant``: its depth,
            width, FFN width, heads, state) instead of one shared pair, so a subnet's
            normalization is its own while every other weight stays shared. A sliced subnet
            gets its own pair (plain LayerNorms: the export is unchanged). With
            ``recipe.shrink_after_steps`` every pair starts as the largest's when the
            sandwich starts. It changes the checkpoint's tensors: no resume across it.
    """

    encoder: str = "conformer"
    num_mel_bins: int = 80
    input_scale: float = 32768.0
    subsampling: int = 4
    subsampling_channels: int = 64
    max_depth: int = 6
    d_model: int = 256
    ffn_dim: int = 1024
    num_heads: int = 4
    head_dim: int = 64
    ssm_state_dim: int = 16
    conv_kernel: int = 15
    chunk_frames: int = 8
    left_context_frames: int = 32
    vocab_size: int = 500
    blank_id: int = 0
    context_size: int = 2
    predictor: str = "stateless"
    decoder_dim: int = 256
    predictor_groups: int = 64
    lstm_layers: int = 1
    lstm_hidden: int = 256
    joiner_dim: int = 256
    dropout: float = 0.1
    depth_choices: list[int] = field(default_factory=lambda: [4, 5, 6])
    d_model_choices: list[int] = field(default_factory=lambda: [192, 256])
    ffn_choices: list[int] = field(default_factory=lambda: [512, 768, 1024])
    head_choices: list[int] = field(default_factory=lambda: [2, 4])
    elastic_depth: str = "first"
    ssm_state_choices: list[int] | None = None
    private_norms: bool = False

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Report every problem at once, each naming its field."""
        errs: list[str] = []
        if self.encoder not in ENCODERS:
            errs.append(f"encoder={self.encoder!r} is not one of {ENCODERS}")
        if self.predictor not in PREDICTORS:
            errs.append(f"predictor={self.predictor!r} is not one of {PREDICTORS}")
        if self.elastic_depth not in ELASTIC_DEPTH_RULES:
            errs.append(f"elastic_depth={self.elastic_depth!r} is not one of {ELASTIC_DEPTH_RULES}")
        if self.subsampling not in SUBSAMPLING_FACTORS:
            errs.append(f"subsampling={self.subsampling} is not one of {SUBSAMPLING_FACTORS}")
        for name in (
            "num_mel_bins", "subsampling_channels", "max_depth", "d_model", "ffn_dim",
            "num_heads", "head_dim", "ssm_state_dim", "conv_kernel", "chunk_frames",
            "left_context_frames", "vocab_size", "context_size", "decoder_dim",
            "predictor_groups", "lstm_layers", "lstm_hidden", "joiner_dim",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                errs.append(f"{name} must be a positive integer, got {v!r}")
        if not errs:
            if self.conv_kernel < 2:
                errs.append(f"conv_kernel must be >= 2 (it carries a streaming tail), got {self.conv_kernel}")
            if self.left_context_frames % self.chunk_frames:
                errs.append(
                    f"left_context_frames={self.left_context_frames} must be a multiple of "
                    f"chunk_frames={self.chunk_frames}"
                )
            if not 0 <= self.blank_id < self.vocab_size:
                errs.append(f"blank_id={self.blank_id} must lie in [0, vocab_size={self.vocab_size})")
            if self.decoder_dim % self.predictor_groups:
                errs.append(
                    f"predictor_groups={self.predictor_groups} must divide decoder_dim={self.decoder_dim}"
                )
            if not 0.0 <= float(self.dropout) < 1.0:
                errs.append(f"dropout must lie in [0, 1), got {self.dropout}")
            for name, limit, lname in (
                ("depth_choices", self.max_depth, "max_depth"),
                ("d_model_choices", self.d_model, "d_model"),
                ("ffn_choices", self.ffn_dim, "ffn_dim"),
                ("head_choices", self.num_heads, "num_heads"),
            ):
                vals = getattr(self, name)
                if not isinstance(vals, (list, tuple)) or not vals:
                    errs.append(f"{name} must be a non-empty list of integers, got {vals!r}")
                    continue
                bad = [v for v in vals if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= limit]
                if bad:
                    errs.append(f"{name} has {bad}, outside 1..{lname}={limit}")
                elif max(vals) != limit:
                    errs.append(f"{name} must include {lname}={limit} (the supernet's own size)")
            errs += self._state_choice_errors()
        if not isinstance(self.private_norms, bool):
            errs.append(f"private_norms must be true or false, got {self.private_norms!r}")
        if isinstance(self.input_scale, bool) or not isinstance(self.input_scale, (int, float)) \
                or not self.input_scale > 0:  # fmt: skip
            errs.append(f"input_scale must be a positive number, got {self.input_scale!r}")
        if errs:
            raise ConfigError("model config: " + "; ".join(errs))

    def _state_choice_errors(self) -> list[str]:
        vals = self.ssm_state_choices
        if vals is None:
            return []
        if not isinstance(vals, (list, tuple)) or not vals:
            return [f"ssm_state_choices must be null or a non-empty list of integers, got {vals!r}"]
        limit = self.ssm_state_dim
        bad = [v for v in vals if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= limit]
        if bad:
            return [f"ssm_state_choices has {bad}, outside 1..ssm_state_dim={limit}"]
        if max(vals) != limit:
            return [f"ssm_state_choices must include ssm_state_dim={limit} (the supernet's own size)"]
        # A conformer has no SSM state; silently ignoring a search dimension would make a
        # run search less than its config says.
        if self.encoder != "ssm" and set(vals) != {limit}:
            return [f"ssm_state_choices={list(vals)} needs encoder='ssm' (encoder is {self.encoder!r})"]
        return []

    def feature_settings(self) -> FeatureSettings:
        """The fbank this model reads (training, evaluation, export metadata)."""
        return FeatureSettings(num_mel_bins=self.num_mel_bins, input_scale=float(self.input_scale))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "model config") -> ModelConfig:
        if not isinstance(d, dict):
            raise ConfigError(f"{source}: expected a mapping, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {unknown}; known keys: {sorted(names)}")
        try:
            return cls(**d)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str, source: str = "model config") -> ModelConfig:
        import yaml

        try:
            d = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{source}: not valid YAML ({e})") from None
        return cls.from_dict(d or {}, source)


def tiny_config(**overrides: Any) -> ModelConfig:
    """A few-thousand-parameter config for tests and examples."""
    base: dict[str, Any] = dict(
        subsampling_channels=4, max_depth=3, d_model=32, ffn_dim=64, num_heads=4,
        head_dim=8, ssm_state_dim=4, conv_kernel=5, chunk_frames=4, left_context_frames=8,
        vocab_size=20, decoder_dim=16, predictor_groups=4, lstm_hidden=16, joiner_dim=24,
        dropout=0.0, depth_choices=[1, 2, 3], d_model_choices=[16, 24, 32],
        ffn_choices=[32, 48, 64], head_choices=[1, 2, 4],
    )
    base.update(overrides)
    return ModelConfig(**base)


def _base(**overrides: Any) -> ModelConfig:
    base: dict[str, Any] = dict(
        max_depth=12, d_model=384, ffn_dim=1536, num_heads=6, head_dim=64, chunk_frames=16,
        left_context_frames=64, depth_choices=[6, 8, 10, 12], d_model_choices=[256, 320, 384],
        ffn_choices=[768, 1024, 1536], head_choices=[4, 6],
    )
    base.update(overrides)
    return ModelConfig(**base)


# Named presets: "tiny" for tests (thousands of parameters), "small" (the defaults: about
# 10M parameters at the largest subnet, 3M at the smallest), "base" (about 42M at the
# largest subnet, 8M at the smallest). Any field can be overridden: preset("small", vocab_size=256).
PRESETS = {"tiny": tiny_config, "small": ModelConfig, "base": _base}


def preset(name: str, **overrides: Any) -> ModelConfig:
    """A named architecture (see ``PRESETS``), with field overrides."""
    if name not in PRESETS:
        raise ConfigError(f"model preset {name!r} is not one of {sorted(PRESETS)}")
    try:
        return PRESETS[name](**overrides)
    except TypeError as e:
        raise ConfigError(f"model preset {name!r}: {e}") from None
