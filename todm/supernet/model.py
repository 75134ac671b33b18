"""The supernet: one set of weights holding every subnet of the search space.

Usage::

    model = Supernet(ModelConfig(...))
    model.set_active_subnet(model.space.sample(rng), dropout=0.05)
    enc, enc_lens = model(feats, feat_lens)          # [B, T, 80] -> [B, T', d]
    ctc = model.ctc_log_probs(enc)                   # [B, T', V]
    logits = model.rnnt_logits(enc, tokens)          # [B, T', U+1, V]

The active subnet is set explicitly and stays until the next call; ``forward`` changes
nothing. ``T'`` covers every utterance's last whole chunk (see ``encoder.py``), so it
is a few frames more than ``max(enc_lens)``; frames at or past ``enc_lens`` are padding.
"""

from __future__ import annotations

import torch
from torch import nn

from todm.errors import ConfigError
from todm.supernet.elastic import set_out
from todm.supernet.encoder import Encoder
from todm.supernet.heads import CTCHead, Joiner, LSTMPredictor, StatelessPredictor
from todm.supernet.model_config import ModelConfig, tiny_config
from todm.supernet.space import SearchSpace, SubnetSpec, active_layers

__all__ = ["ModelConfig", "Supernet", "build_predictor", "tiny_config"]


def build_predictor(cfg: ModelConfig) -> nn.Module:
    if cfg.predictor == "lstm":
        return LSTMPredictor(cfg.vocab_size, cfg.decoder_dim, cfg.lstm_hidden, cfg.lstm_layers,
                             cfg.joiner_dim, cfg.blank_id)
    return StatelessPredictor(cfg.vocab_size, cfg.decoder_dim, cfg.context_size,
                              cfg.predictor_groups, cfg.joiner_dim, cfg.blank_id)


class Supernet(nn.Module):
    """Elastic encoder (conformer or ssm) + CTC head + predictor + joiner.

    Attributes:
        config: the ModelConfig it was built from.
        space: its SearchSpace.
        active_subnet: the SubnetSpec in use (the largest after construction).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        cfg.validate()
        self.config = cfg
        self.space = SearchSpace.from_config(cfg)
        n = cfg.max_depth
        self.encoder = Encoder(cfg, cfg.d_model, (cfg.ffn_dim,) * n, (cfg.num_heads,) * n, True)
        self.ctc_head = CTCHead(cfg.d_model, cfg.vocab_size, elastic=True)
        self.predictor = build_predictor(cfg)
        self.joiner = Joiner(cfg.d_model, cfg.joiner_dim, cfg.vocab_size, elastic=True)
        self.active_subnet: SubnetSpec = self.space.largest()
        self.set_active_subnet(self.active_subnet)

    def set_active_subnet(
        self, spec: SubnetSpec | str | dict, dropout: float | None = None
    ) -> SubnetSpec:
        """Select the subnet used by every later call; validated, never clamped.

        Args:
            spec: a SubnetSpec, its id, "largest"/"smallest", or its dict form.
            dropout: dropout rate for this subnet (adaptive dropout); config's if None.

        Returns:
            The resolved SubnetSpec.
        """
        spec = self.space.resolve(spec)
        p = self.config.dropout if dropout is None else float(dropout)
        if not 0.0 <= p < 1.0:
            raise ConfigError(f"dropout must lie in [0, 1), got {dropout}")
        enc = self.encoder
        enc.layer_ids = active_layers(spec.depth, self.config.max_depth, self.config.elastic_depth)
        enc.d_model = spec.d_model
        set_out(enc.subsampling.out, spec.d_model)
        private = self.config.private_norms
        for i, (layer, f, h) in enumerate(zip(enc.active_layers(), spec.ffn_dims, spec.heads)):
            variant = self.space.layer_variant(spec, i) if private else None
            layer.set_active(spec.d_model, f, h, p, spec.state, variant)
        self.active_subnet = spec
        return spec

    def set_feature_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Global fbank mean/std ``[80]`` each; stored as buffers, applied first."""
        try:
            self.encoder.feat_norm.set_stats(mean, std)
        except ValueError as e:
            raise ConfigError(f"feature stats: {e}") from None

    def forward(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``feats [B, T, 80]`` raw fbank, ``feat_lens [B]`` -> ``(enc [B, T', d], enc_lens [B])``."""
        return self.encoder(feats, feat_lens)

    def ctc_log_probs(self, enc: torch.Tensor) -> torch.Tensor:
        """``[B, T', d] -> [B, T', V]``."""
        return self.ctc_head(enc)

    def encoder_proj(self, enc: torch.Tensor) -> torch.Tensor:
        """``[B, T', d] -> [B, T', J]``: the encoder side of the joiner."""
        return self.joiner.enc_proj(enc)

    def decoder_seq(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced predictor: ``tokens [B, U]`` -> ``[B, U+1, J]``."""
        return self.predictor(tokens)

    def decoder_out(self, y: torch.Tensor) -> torch.Tensor:
        """Stateless predictor step: ``y [N, context_size]`` int64 -> ``[N, J]``."""
        if not isinstance(self.predictor, StatelessPredictor):
            raise ConfigError("decoder_out needs predictor='stateless'; use predictor.step(token, h, c)")
        return self.predictor.step(y)

    def rnnt_logits(self, enc: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """``enc [B, T', d]``, ``tokens [B, U]`` -> ``[B, T', U+1, V]``."""
        e = self.encoder_proj(enc)[:, :, None]
        d = self.decoder_seq(tokens)[:, None]
        return self.joiner(e, d)

    def init_caches(self, batch: int = 1) -> list[torch.Tensor]:
        """Streaming caches of the active subnet (zeros)."""
        return self.encoder.init_caches(batch)

    def forward_chunk(
        self, x: torch.Tensor, caches: list[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Streaming step of the active subnet: ``[N, chunk_input_frames, 80] -> [N, C, d]``."""
        return self.encoder.forward_chunk(x, caches)
