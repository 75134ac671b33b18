"""A memory-lean RNN-T loss: the same value as ``rnnt_loss``, without a ``[B, T, U+1, V]`` copy.

``rnnt_loss`` takes ``log_softmax`` of the whole lattice and autograd keeps that result
for backward: one more lattice-sized tensor beside the logits. The recurrence only ever
reads two entries per node (the blank and the next label), so here the normalizer
``logsumexp`` over V (``[B, T, U+1]``) is taken first and only those two logits are
gathered. Autograd then saves nothing lattice-sized but the logits, which the caller
holds anyway, and backward writes the gradient straight into one lattice-sized tensor.
``benchmarks/rnnt_loss`` measures the difference.
"""

from __future__ import annotations

import torch

from todm.supernet.rnnt_loss import alpha_recursion, reduce_losses


class _PickLogProbs(torch.autograd.Function):
    """``log_softmax(x)`` read at ``idx`` only: ``x [..., V], idx [..., K] -> [..., K]``.

    Backward builds the one lattice-sized tensor it must return (the gradient) in place:
    ``d out_k / d x_v = [v == idx_k] - softmax(x)_v``.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        lse = torch.logsumexp(x, dim=-1, keepdim=True)
        ctx.save_for_backward(x, idx, lse)
        return torch.gather(x, -1, idx) - lse

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        x, idx, lse = ctx.saved_tensors
        grad = (x - lse).exp_()
        grad.mul_(-grad_out.sum(dim=-1, keepdim=True))
        grad.scatter_add_(-1, idx, grad_out)
        return grad, None


def rnnt_loss_lean(
    logits: torch.Tensor,
    targets: torch.Tensor,
    logit_lens: torch.Tensor,
    target_lens: torch.Tensor,
    blank: int = 0,
    reduction: str = "mean",
) -> torch.Tensor:
    """RNN-T negative log-likelihood; arguments and result as ``rnnt_loss.rnnt_loss``.

    Args:
        logits: [B, T, U+1, V] joiner output (unnormalized).
        targets: [B, U] token ids (padding past each length is ignored).
        logit_lens: [B] valid frames; target_lens: [B] valid labels.
        blank: the blank token id.
        reduction: "mean" (over utterances), "sum" or "none".

    Returns:
        A scalar, or [B] for reduction "none".
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction {reduction!r} is not one of mean, sum, none")
    x = logits if logits.dtype in (torch.float32, torch.float64) else logits.float()
    bsz, t_max, u1, _ = x.shape
    # One gather for both reads (blank, next label) at every node. The last row has no
    # next label; blank stands in and is dropped.
    nxt = torch.cat([targets[:, : u1 - 1].long(), targets.new_full((bsz, 1), blank).long()], dim=1)
    idx = torch.stack([torch.full_like(nxt, blank), nxt], dim=2)  # [B, U+1, 2]
    picked = _PickLogProbs.apply(x, idx[:, None].expand(bsz, t_max, u1, 2))  # [B, T, U+1, 2]
    blank_lp = picked[..., 0]
    emit_lp = picked[:, :, :-1, 1]  # [B, T, U]
    # alpha[t, u] = logaddexp(alpha[t-1, u] + blank[t-1, u], alpha[t, u-1] + emit[t, u-1]),
    # solved as in rnnt_loss.py.
    losses = alpha_recursion(blank_lp, emit_lp, logit_lens, target_lens)
    return reduce_losses(losses, reduction)
