"""Channel sorting: reorder a supernet's channels so the most important come first.

Elastic widths keep *leading* channels, so putting the most important (largest L1 norm)
channels first makes every smaller subnet inherit the best ones (Once-for-All's
"reorganize channels"). Each permutation is applied consistently to every tensor that
touches those channels, so the largest subnet computes exactly the same function
(LayerNorm and softmax are permutation-equivariant).

Sorted groups: the residual width ``d_model`` (one permutation for the whole model),
and per layer the FFN hidden units, the attention/SSM heads (blocks of ``head_dim``
channels) and the conv module's inner channels. An SSM channel's state (``log_neg_a``,
``b``, ``c`` rows) moves with its channel. The state entries themselves are not
reordered: an L1 norm of ``b``/``c`` says little about an entry's worth, and S4D-Real's
init already orders them longest memory first, the ones a reduced state should keep.

Parameters change in place. Given the optimizer, its per-parameter state (Adam's moment
buffers, shaped like the parameter) is permuted with them, so training can go on as if
the channels had always been in that order; per-tensor scalars need no change.
"""

from __future__ import annotations

import torch
from torch import nn

from todm.supernet.conformer import ChunkAttention
from todm.supernet.elastic import PrivateLayerNorm
from todm.supernet.model import Supernet
from todm.supernet.ssm import MultiHeadSSM

Group = list[tuple[torch.Tensor, int]]  # (tensor, dimension holding the channels)
OptimizerState = dict[torch.Tensor, dict[str, object]]


def _lin_out(m: nn.Linear) -> Group:
    return [(m.weight, 0)] + ([(m.bias, 0)] if m.bias is not None else [])


def _norm(m: nn.Module) -> Group:
    if isinstance(m, PrivateLayerNorm):  # every variant's pair holds the same channels
        return [(p, 0) for pair in zip(m.weights, m.biases) for p in pair]
    return [(m.weight, 0), (m.bias, 0)]


def _residual(model: Supernet) -> tuple[Group, Group]:
    """(tensors that produce or hold residual channels, tensors that read them)."""
    enc = model.encoder
    write: Group = _lin_out(enc.subsampling.out)
    read: Group = [(model.ctc_head.proj.weight, 1), (model.joiner.enc_proj.weight, 1)]
    for layer in enc.layers:
        for ff in (layer.ff1, layer.ff2):
            write += _norm(ff.norm) + _lin_out(ff.w2)
            read.append((ff.w1.weight, 1))
        write += _norm(layer.mixer_norm) + _norm(layer.conv.norm) + _norm(layer.norm_out)
        write += _lin_out(layer.mixer.out) + _lin_out(layer.conv.out)
        mix_in = layer.mixer.inp if isinstance(layer.mixer, MultiHeadSSM) else None
        readers = [mix_in] if mix_in is not None else [layer.mixer.q, layer.mixer.k, layer.mixer.v]
        read += [(m.weight, 1) for m in readers]
        read += [(layer.conv.value.weight, 1), (layer.conv.gate.weight, 1)]
    return write, read


def _head_groups(mixer: nn.Module) -> tuple[Group, Group]:
    if isinstance(mixer, ChunkAttention):
        write = _lin_out(mixer.q) + _lin_out(mixer.k) + _lin_out(mixer.v)
    elif isinstance(mixer, MultiHeadSSM):
        write = _lin_out(mixer.inp) + [
            (p, 0) for p in (mixer.log_neg_a, mixer.log_dt, mixer.b, mixer.c, mixer.d)
        ]
    else:
        raise TypeError(f"unknown mixer {type(mixer).__name__}")
    return write, [(mixer.out.weight, 1)]


def _importance(groups: Group, n: int) -> torch.Tensor:
    """Sum of L1 norms of every weight slice touching each of ``n`` channels ``[n]``."""
    score = torch.zeros(n)
    for t, dim in groups:
        if t.dim() >= 2:  # skip biases, norms and SSM scalars: weights rank channels
            score += t.detach().abs().transpose(0, dim).reshape(n, -1).sum(1).cpu()
    return score


def _apply(groups: Group, perm: torch.Tensor, state: OptimizerState) -> None:
    for t, dim in groups:
        t.data = t.data.index_select(dim, perm.to(t.device))
        for key, value in state.get(t, {}).items():
            if isinstance(value, torch.Tensor) and value.shape == t.shape:
                state[t][key] = value.index_select(dim, perm.to(value.device))


def _sort(write: Group, read: Group, n: int, state: OptimizerState, block: int = 1) -> torch.Tensor:
    score = _importance(write + read, n)
    if block > 1:
        score = score.reshape(-1, block).sum(1)
    order = torch.argsort(score, descending=True, stable=True)
    perm = (order[:, None] * block + torch.arange(block)).flatten() if block > 1 else order
    _apply(write + read, perm, state)
    return perm


@torch.no_grad()
def sort_channels(
    model: Supernet, optimizer: torch.optim.Optimizer | None = None
) -> dict[str, torch.Tensor]:
    """Reorder channels by importance in place; the function is unchanged.

    ``optimizer``: the model's, whose per-parameter state moves with the channels.

    Returns:
        The permutation applied to each group, by name (``"d_model"``,
        ``"layers.{i}.ffn1"``, ``"layers.{i}.heads"``, ...), as channel indices.
    """
    perms: dict[str, torch.Tensor] = {}
    # a plain dict view: looking a parameter up must not add it to a defaultdict
    state: OptimizerState = dict(optimizer.state) if optimizer is not None else {}
    enc = model.encoder
    perms["d_model"] = _sort(*_residual(model), model.config.d_model, state)
    for i, layer in enumerate(enc.layers):
        for name, ff in (("ffn1", layer.ff1), ("ffn2", layer.ff2)):
            perms[f"layers.{i}.{name}"] = _sort(_lin_out(ff.w1), [(ff.w2.weight, 1)], ff.w1.out_features, state)
        mixer = layer.mixer
        ch = mixer.out.in_features
        perm = _sort(*_head_groups(mixer), ch, state, block=mixer.head_dim)
        perms[f"layers.{i}.heads"] = perm
        if isinstance(mixer, ChunkAttention):  # one row per head, not per channel
            _apply([(mixer.pos_bias, 0)], perm[:: mixer.head_dim] // mixer.head_dim, state)
        conv = layer.conv
        inner = _lin_out(conv.value) + _lin_out(conv.gate) + [
            (conv.depthwise.weight, 0), (conv.depthwise.bias, 0)
        ] + _norm(conv.norm2)
        perms[f"layers.{i}.conv"] = _sort(inner, [(conv.out.weight, 1)], conv.value.out_features, state)
    return perms
