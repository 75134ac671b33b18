"""The streaming Conformer layer and its parts, elastic or plain.

One class serves the supernet (``elastic=True``: full-size weights, leading slices) and
the sliced static model (``elastic=False``: plain modules at the subnet's sizes); the
forward math is shared so the two agree by construction.

Layer: x + FFN/2 -> x + mixer(LN(x)) -> x + conv(x) -> x + FFN/2 -> LN. The mixer is
chunked self-attention (here) or a multi-head SSM (``ssm.py``). There is no absolute
positional encoding (chunking would break it): attention has a relative-position bias,
and the causal convolution supplies order as well.

Shapes: B batch, T frames, d model width, H heads, Dh head width, L left context
frames, C chunk frames, K conv kernel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from todm.supernet.elastic import PrivateLayerNorm, depthwise_conv1d, layer_norm, linear, set_out
from todm.supernet.ssm import MultiHeadSSM

_NEG = -1e9  # masked score; exp() underflows to exactly 0 and it survives fp16 casts


class FeedForward(nn.Module):
    """LN -> Linear(d, ffn) -> SiLU -> Linear(ffn, d). ``[B, T, d] -> [B, T, d]``."""

    def __init__(self, d_model: int, ffn_dim: int, elastic: bool, norm_variants: int = 0) -> None:
        super().__init__()
        self.norm = layer_norm(d_model, elastic, norm_variants)
        self.w1 = linear(d_model, ffn_dim, elastic)
        self.w2 = linear(ffn_dim, d_model, elastic)

    def set_active(self, d_model: int, ffn_dim: int) -> None:
        set_out(self.w1, ffn_dim)
        set_out(self.w2, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(self.norm(x))))


class ConvModule(nn.Module):
    """LN -> GLU pointwise -> causal depthwise conv -> LN -> SiLU -> pointwise.

    LayerNorm instead of BatchNorm so that one chunk's output does not depend on batch
    statistics and streaming matches training. ``[B, T, d] -> [B, T, d]``.
    """

    def __init__(self, d_model: int, kernel: int, elastic: bool, norm_variants: int = 0) -> None:
        super().__init__()
        self.kernel = kernel
        self.norm = layer_norm(d_model, elastic, norm_variants)
        self.value = linear(d_model, d_model, elastic)
        self.gate = linear(d_model, d_model, elastic)
        self.depthwise = depthwise_conv1d(d_model, kernel, elastic)
        self.norm2 = layer_norm(d_model, elastic, norm_variants)
        self.out = linear(d_model, d_model, elastic)

    def set_active(self, d_model: int) -> None:
        for m in (self.value, self.gate, self.out):
            set_out(m, d_model)

    def _pre(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        return (self.value(y) * torch.sigmoid(self.gate(y))).transpose(1, 2)  # [B, d, T]

    def _post(self, y: torch.Tensor) -> torch.Tensor:
        return self.out(F.silu(self.norm2(y.transpose(1, 2))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.pad(self._pre(x), (self.kernel - 1, 0))
        return self._post(self.depthwise(y))

    def forward_chunk(self, x: torch.Tensor, cache: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [N, C, d]``, ``cache [N, d, K-1]`` (the last K-1 GLU outputs, zeros at start)."""
        y = torch.cat([cache, self._pre(x)], dim=2)
        # Caches are returned contiguous: runtimes (ExecuTorch) reject strided inputs.
        return self._post(self.depthwise(y)), y[:, :, y.shape[2] - (self.kernel - 1) :].contiguous()


def attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, scale: float,
    bias: torch.Tensor,
) -> torch.Tensor:
    """Masked dot-product attention written with plain ops (exports everywhere).

    ``q [B, H, Tq, Dh]``, ``k, v [B, H, Tk, Dh]``, ``mask`` bool broadcastable to
    ``[B, H, Tq, Tk]`` (True = may attend), ``scale`` usually ``1/sqrt(Dh)``, ``bias``
    ``[H, Tq, Tk]`` added to the scores -> ``[B, Tq, H*Dh]``.
    """
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale + bias
    scores = scores.masked_fill(~mask, _NEG)
    out = torch.matmul(torch.softmax(scores, dim=-1), v)
    b, h, t, dh = out.shape
    return out.transpose(1, 2).reshape(b, -1, h * dh)


class ChunkAttention(nn.Module):
    """Multi-head self-attention over the current chunk and a limited left context.

    Heads are elastic: head ``h`` owns rows ``[h*Dh, (h+1)*Dh)`` of q, k and v, so the
    first heads are a leading slice. Caches: keys and values of the last L frames,
    ``[N, H, L, Dh]`` each.

    Order comes from a learned relative-position bias per head and distance (query
    frame minus key frame, ``-(C-1)..L+C-1``: every distance the mask allows); unlike
    absolute positions it is the same in every chunk, and it indexes a table with
    constant indices, which every exporter handles.
    """

    def __init__(
        self, d_model: int, num_heads: int, head_dim: int, elastic: bool, chunk: int, left: int
    ) -> None:
        super().__init__()
        self.head_dim = head_dim
        self.chunk = chunk
        self.left = left
        self.scale = 1.0 / math.sqrt(head_dim)
        self.pos_bias = nn.Parameter(torch.randn(num_heads, left + 2 * chunk - 1) * 0.02)
        self.q = linear(d_model, num_heads * head_dim, elastic)
        self.k = linear(d_model, num_heads * head_dim, elastic)
        self.v = linear(d_model, num_heads * head_dim, elastic)
        self.out = linear(num_heads * head_dim, d_model, elastic)

    @property
    def num_heads(self) -> int:
        return getattr(self.q, "active_out", self.q.out_features) // self.head_dim

    def set_active(self, d_model: int, heads: int) -> None:
        for m in (self.q, self.k, self.v):
            set_out(m, heads * self.head_dim)
        set_out(self.out, d_model)

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b = x.shape[0]

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, -1, t.shape[-1] // self.head_dim, self.head_dim).transpose(1, 2)

        return split(self.q(x)), split(self.k(x)), split(self.v(x))

    def _bias(self, dist: torch.Tensor, heads: int) -> torch.Tensor:
        """``dist [Tq, Tk]`` (query minus key frame) -> ``[heads, Tq, Tk]``."""
        idx = (dist + self.chunk - 1).clamp(0, self.pos_bias.shape[1] - 1)
        return self.pos_bias[:heads][:, idx]

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x [B, T, d]``, ``mask [B, 1, T, T]`` -> ``[B, T, d]``."""
        q, k, v = self._qkv(x)
        pos = torch.arange(x.shape[1], device=x.device)
        bias = self._bias(pos[:, None] - pos[None, :], q.shape[1])
        return self.out(attend(q, k, v, mask, self.scale, bias))

    def cache_shapes(self, batch: int, left: int) -> list[tuple[str, tuple[int, ...]]]:
        shape = (batch, self.num_heads, left, self.head_dim)
        return [("key", shape), ("value", shape)]

    def forward_chunk(
        self, x: torch.Tensor, caches: list[torch.Tensor], cache_valid: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``x [N, C, d]``, caches ``[key, value]``, ``cache_valid [N, L]`` bool."""
        q, k, v = self._qkv(x)
        k_all = torch.cat([caches[0], k], dim=2)
        v_all = torch.cat([caches[1], v], dim=2)
        c = x.shape[1]
        mask = torch.cat([cache_valid, torch.ones_like(cache_valid[:, :1]).expand(-1, c)], dim=1)
        # Query i of the chunk sits at L + i among the L + C keys (cache first).
        qpos = torch.arange(c, device=x.device)[:, None] + caches[0].shape[2]
        kpos = torch.arange(k_all.shape[2], device=x.device)[None, :]
        bias = self._bias(qpos - kpos, q.shape[1])
        out = self.out(attend(q, k_all, v_all, mask[:, None, None, :], self.scale, bias))
        return out, [k_all[:, :, c:].contiguous(), v_all[:, :, c:].contiguous()]


class ConformerLayer(nn.Module):
    """One streaming layer. ``mixer`` is ``ChunkAttention`` or ``ssm.MultiHeadSSM``.

    ``norm_variants`` > 0 (``ModelConfig.private_norms``): its LayerNorms hold that many
    (weight, bias) pairs, one per layer variant, and ``set_active(variant=)`` picks one.
    """

    def __init__(
        self, d_model: int, ffn_dim: int, mixer: nn.Module, kernel: int, elastic: bool,
        norm_variants: int = 0,
    ) -> None:
        super().__init__()
        self.ff1 = FeedForward(d_model, ffn_dim, elastic, norm_variants)
        self.mixer_norm = layer_norm(d_model, elastic, norm_variants)
        self.mixer = mixer
        self.conv = ConvModule(d_model, kernel, elastic, norm_variants)
        self.ff2 = FeedForward(d_model, ffn_dim, elastic, norm_variants)
        self.norm_out = layer_norm(d_model, elastic, norm_variants)
        self.dropout = 0.0

    def private_norms(self) -> list[PrivateLayerNorm]:
        return [m for m in self.modules() if isinstance(m, PrivateLayerNorm)]

    def set_active(
        self, d_model: int, ffn_dim: int, heads: int, dropout: float, state: int | None = None,
        variant: int | None = None,
    ) -> None:
        """``state``: SSM state size (None: full); attention has none to set. ``variant``:
        which of the private norms' pairs to use (None: leave them as they are)."""
        self.ff1.set_active(d_model, ffn_dim)
        self.ff2.set_active(d_model, ffn_dim)
        if isinstance(self.mixer, MultiHeadSSM):
            self.mixer.set_active(d_model, heads, state)
        elif state is not None:
            raise ValueError(
                f"state={state} given, but the {type(self.mixer).__name__} mixer has no SSM state"
            )
        else:
            self.mixer.set_active(d_model, heads)
        self.conv.set_active(d_model)
        self.dropout = dropout
        if variant is not None:
            for norm in self.private_norms():
                if not 0 <= variant < len(norm.weights):
                    raise ValueError(f"norm variant {variant} outside 0..{len(norm.weights) - 1}")
                norm.variant = variant

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.dropout, self.training) if self.dropout > 0 else x

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Whole sequence: ``x [B, T, d]``, ``mask [B, 1, T, T]`` -> ``[B, T, d]``."""
        x = x + 0.5 * self._drop(self.ff1(x))
        x = x + self._drop(self.mixer(self.mixer_norm(x), mask))
        x = x + self._drop(self.conv(x))
        x = x + 0.5 * self._drop(self.ff2(x))
        return self.norm_out(x)

    def cache_shapes(
        self, batch: int, left: int, d_model: int
    ) -> list[tuple[str, tuple[int, ...]]]:
        conv = ("conv", (batch, d_model, self.conv.kernel - 1))
        return [*self.mixer.cache_shapes(batch, left), conv]

    def forward_chunk(
        self, x: torch.Tensor, caches: list[torch.Tensor], cache_valid: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One chunk: ``x [N, C, d]`` and this layer's caches -> output and new caches."""
        x = x + 0.5 * self.ff1(x)
        y, mixer_caches = self.mixer.forward_chunk(self.mixer_norm(x), caches[:-1], cache_valid)
        x = x + y
        y, conv_cache = self.conv.forward_chunk(x, caches[-1])
        x = x + y
        x = x + 0.5 * self.ff2(x)
        return self.norm_out(x), [*mixer_caches, conv_cache]
