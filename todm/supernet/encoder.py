"""The encoder stack: normalization, subsampling, streaming layers; whole-utterance and
chunk-by-chunk forms that give the same frames.

Whole-utterance form (training, ``encode``): features beyond each length are zeroed and
the batch is zero-padded (in raw fbank, before normalization) past the end of each
utterance's last chunk, exactly as a streaming runtime pads its last chunk.
Attention uses the chunk-causal mask with ``L`` frames of left context, so each frame
sees what it would see when streaming, including the padded tail of its own last chunk.
Keys past an utterance's last chunk are masked out.

Chunk form (streaming, export): one chunk of ``chunk_input_frames`` raw fbank frames
plus caches per layer (mixer caches, then the conv tail) and, last, ``processed`` [N]:
encoder frames seen so far, capped at L, which masks cache slots not yet filled. It is
float32 like every other cache (exact for these small integers) because backends differ
on integer inputs (LiteRT turns int64 into int32); one dtype keeps runtimes simple.
"""

from __future__ import annotations

import torch
from torch import nn

from todm.errors import DataError
from todm.supernet.conformer import ChunkAttention, ConformerLayer
from todm.supernet.model_config import ModelConfig
from todm.supernet.space import SearchSpace
from todm.supernet.subsampling import (
    FeatureNorm,
    Subsampling,
    chunk_input_frames,
    subsampled_length,
)


def build_mixer(
    cfg: ModelConfig, d_model: int, heads: int, elastic: bool, state: int | None = None
) -> nn.Module:
    """Attention or SSM mixer; ``state`` is the SSM state size (None: ``ssm_state_dim``)."""
    if cfg.encoder == "ssm":
        from todm.supernet.ssm import MultiHeadSSM

        state = cfg.ssm_state_dim if state is None else state
        return MultiHeadSSM(d_model, heads, cfg.head_dim, state, elastic)
    return ChunkAttention(
        d_model, heads, cfg.head_dim, elastic, cfg.chunk_frames, cfg.left_context_frames
    )


def chunk_mask(t: int, valid: torch.Tensor, chunk: int, left: int) -> torch.Tensor:
    """Chunk-causal attention mask ``[B, 1, T, T]`` (True = may attend).

    Query ``i`` sees keys of its own chunk and of the ``left // chunk`` chunks before it,
    among the first ``valid[b]`` frames; a query always sees itself, so no row is empty.
    """
    pos = torch.arange(t, device=valid.device)
    qc, kc = (pos // chunk)[:, None], (pos // chunk)[None, :]
    m = (kc <= qc) & (kc >= qc - left // chunk)
    m = m[None] & (pos[None, None, :] < valid[:, None, None])
    m = m | (pos[:, None] == pos[None, :])[None]
    return m[:, None]


class Encoder(nn.Module):
    """``[B, T, 80]`` raw fbank -> ``[B, T', d]``, for the supernet or one static subnet.

    Args:
        cfg: model config (frame arithmetic, kernel, head width).
        d_model: residual width of this instance (the maximum when elastic).
        ffn_dims, heads: per-layer sizes of this instance (one entry per layer).
        elastic: build elastic (supernet) or plain (static) modules.
        state: SSM state size of every layer (ssm encoder; None: ``ssm_state_dim``).
    """

    def __init__(
        self,
        cfg: ModelConfig,
        d_model: int,
        ffn_dims: tuple[int, ...],
        heads: tuple[int, ...],
        elastic: bool,
        state: int | None = None,
    ) -> None:
        super().__init__()
        self.factor = cfg.subsampling
        self.chunk = cfg.chunk_frames
        self.left = cfg.left_context_frames
        self.d_model = d_model
        # which of ``layers`` run, in order; a supernet sets them per subnet (model.py)
        self.layer_ids: tuple[int, ...] = tuple(range(len(ffn_dims)))
        self.feat_norm = FeatureNorm(cfg.num_mel_bins)
        self.subsampling = Subsampling(
            cfg.num_mel_bins, cfg.subsampling, cfg.subsampling_channels, d_model, elastic
        )
        norm_variants = 0
        if elastic and cfg.private_norms:
            norm_variants = SearchSpace.from_config(cfg).num_layer_variants
        self.layers = nn.ModuleList(
            ConformerLayer(
                d_model, f, build_mixer(cfg, d_model, h, elastic, state), cfg.conv_kernel, elastic,
                norm_variants,
            )
            for f, h in zip(ffn_dims, heads)
        )

    def check_inputs(self, feats: torch.Tensor, feat_lens: torch.Tensor | None = None) -> None:
        """Raise DataError unless ``feats`` is ``[B, T, num_mel_bins]`` (and lens ``[B]``)."""
        if torch.jit.is_tracing():  # sizes are tensors there; the export has fixed them
            return
        bins = self.feat_norm.mean.shape[0]
        if feats.dim() != 3 or feats.shape[2] != bins:
            raise DataError(f"features must be [batch, frames, {bins}], got {list(feats.shape)}")
        if feat_lens is not None and (feat_lens.dim() != 1 or feat_lens.shape[0] != feats.shape[0]):
            raise DataError(
                f"feature lengths must be [batch={feats.shape[0]}], got {list(feat_lens.shape)}"
            )

    @property
    def depth(self) -> int:
        return len(self.layer_ids)

    def active_layers(self) -> list[nn.Module]:
        return [self.layers[i] for i in self.layer_ids]

    @property
    def chunk_input_frames(self) -> int:
        return chunk_input_frames(self.chunk, self.factor)

    def forward(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Whole utterances: ``feats [B, T, F]``, ``feat_lens [B]`` -> ``([B, T', d], [B])``.

        ``T'`` covers every utterance's last whole chunk (and a few frames more); frames
        at or past ``out_lens[b]`` are padding. The padding amount is a constant, not a
        function of ``T``, so this form also exports with a dynamic time axis.
        """
        self.check_inputs(feats, feat_lens)
        t = feats.shape[1]
        out_lens = subsampled_length(feat_lens, self.factor)
        keep = torch.arange(t, device=feats.device)[None, :] < feat_lens[:, None]
        feats = feats * keep[:, :, None].to(feats.dtype)
        # S*(C-1) + R more zero frames always complete the last chunk of every utterance.
        feats = nn.functional.pad(feats, (0, 0, 0, self.chunk_input_frames))
        x = self.subsampling(self.feat_norm(feats))
        valid = (out_lens + self.chunk - 1) // self.chunk * self.chunk
        mask = chunk_mask(x.shape[1], valid, self.chunk, self.left)
        for layer in self.active_layers():
            x = layer(x, mask)
        return x, out_lens

    def cache_shapes(self, batch: int = 1) -> list[tuple[str, tuple[int, ...], torch.dtype]]:
        """Names, shapes and dtypes of the streaming caches, in ``forward_chunk``'s order."""
        out: list[tuple[str, tuple[int, ...], torch.dtype]] = []
        for i, layer in enumerate(self.active_layers()):
            for name, shape in layer.cache_shapes(batch, self.left, self.d_model):
                out.append((f"cache_{name}_{i}", shape, torch.float32))
        out.append(("processed_frames", (batch,), torch.float32))
        return out

    def init_caches(self, batch: int = 1) -> list[torch.Tensor]:
        device = self.feat_norm.mean.device
        return [torch.zeros(s, dtype=dt, device=device) for _, s, dt in self.cache_shapes(batch)]

    def forward_chunk(
        self, x: torch.Tensor, caches: list[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One chunk: ``x [N, chunk_input_frames, F]`` -> ``[N, C, d]`` and new caches."""
        self.check_inputs(x)
        if not torch.jit.is_tracing() and x.shape[1] != self.chunk_input_frames:
            raise DataError(
                f"a chunk must have {self.chunk_input_frames} frames, got {x.shape[1]}; pad the "
                "last chunk with zeros (see todm/supernet/static.py)"
            )
        n_caches = len(self.cache_shapes(1))
        if len(caches) != n_caches:
            raise DataError(f"expected {n_caches} caches (cache_specs()), got {len(caches)}")
        processed = caches[-1]
        y = self.subsampling(self.feat_norm(x))
        slots = torch.arange(self.left, device=x.device)[None, :]
        cache_valid = slots >= (self.left - processed)[:, None]
        new: list[torch.Tensor] = []
        i = 0
        for layer in self.active_layers():
            n = len(layer.cache_shapes(1, self.left, self.d_model))
            y, layer_new = layer.forward_chunk(y, caches[i : i + n], cache_valid)
            new.extend(layer_new)
            i += n
        new.append(torch.clamp(processed + float(y.shape[1]), max=float(self.left)))
        return y, new
