"""RNN-T loss in plain PyTorch (torchaudio cannot share the venv with ExecuTorch here).

Log-space forward variables, vectorized over the label axis U: for each frame t,

    alpha[t, u] = logaddexp(alpha[t-1, u] + blank[t-1, u], alpha[t, u-1] + emit[t, u-1])

is a linear recurrence along u, solved in one ``logcumsumexp``:
``alpha[t, :] = E + logcumsumexp(a_t - E)`` with ``a_t = alpha[t-1] + blank[t-1]`` and
``E`` the running sum of ``emit[t, :]``. The loop runs over T only; autograd gives the
gradients. ``rnnt_loss`` runs this recurrence through ``rnnt_loss_lean``, which reads
only the two log-probabilities per lattice node that it needs instead of keeping a
log-softmax of the whole ``[B, T, U+1, V]`` lattice for backward.

When a matching torchaudio is importable (a GPU training box), its CUDA kernel is used.
"""

from __future__ import annotations

import torch

_NEG_INF = float("-inf")


def _torchaudio_rnnt_loss():  # pragma: no cover - torchaudio is absent on this stack
    try:
        from torchaudio.functional import rnnt_loss

        return rnnt_loss
    except Exception:  # noqa: BLE001 - any import failure means: no fast path
        return None


_TA_LOSS = _torchaudio_rnnt_loss()


def alpha_recursion(
    blank_lp: torch.Tensor, emit_lp: torch.Tensor, logit_lens: torch.Tensor, target_lens: torch.Tensor
) -> torch.Tensor:
    """Per-utterance loss from the two log-probabilities each lattice node reads.

    Args:
        blank_lp: [B, T, U+1] log-probability of blank at every node.
        emit_lp: [B, T, U] log-probability of the next label at every node below the top row.
        logit_lens: [B] valid frames; target_lens: [B] valid labels.

    Returns:
        [B] negative log-likelihoods.
    """
    bsz, t_max, u1 = blank_lp.shape
    # E[u] = sum_{j<u} emit[t, j]
    cum_emit = torch.cat([blank_lp.new_zeros(bsz, t_max, 1), torch.cumsum(emit_lp, dim=2)], dim=2)
    a = torch.full((bsz, u1), _NEG_INF, dtype=blank_lp.dtype, device=blank_lp.device)
    a[:, 0] = 0.0
    alphas = []
    for t in range(t_max):
        e = cum_emit[:, t]
        alpha_t = e + torch.logcumsumexp(a - e, dim=1)
        alphas.append(alpha_t)
        a = alpha_t + blank_lp[:, t]
    alpha = torch.stack(alphas, dim=1)  # [B, T, U+1]
    b = torch.arange(bsz, device=blank_lp.device)
    t_last, u_last = (logit_lens - 1).long(), target_lens.long()
    return -(alpha[b, t_last, u_last] + blank_lp[b, t_last, u_last])


def reduce_losses(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply "mean" (over utterances), "sum" or "none" to [B] losses."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction {reduction!r} is not one of mean, sum, none")


def rnnt_loss_reference(
    log_probs: torch.Tensor, targets: torch.Tensor, logit_lens: torch.Tensor,
    target_lens: torch.Tensor, blank: int = 0,
) -> torch.Tensor:  # fmt: skip
    """Per-utterance negative log-likelihood from log-probabilities; see ``rnnt_loss``.

    Args:
        log_probs: [B, T, U+1, V] log-softmax of the joiner output.
        targets: [B, U] int token ids (padding past each length is ignored).
        logit_lens: [B] valid frames; target_lens: [B] valid labels.

    Returns:
        [B] losses.
    """
    bsz, t_max, u1, _ = log_probs.shape
    blank_lp = log_probs[..., blank]  # [B, T, U+1]
    if u1 > 1:
        idx = targets[:, None, :, None].expand(bsz, t_max, u1 - 1, 1).long()
        emit_lp = torch.gather(log_probs[:, :, :-1, :], 3, idx).squeeze(3)  # [B, T, U]
    else:
        emit_lp = log_probs.new_zeros(bsz, t_max, 0)
    return alpha_recursion(blank_lp, emit_lp, logit_lens, target_lens)


def rnnt_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    logit_lens: torch.Tensor,
    target_lens: torch.Tensor,
    blank: int = 0,
    reduction: str = "mean",
) -> torch.Tensor:
    """RNN-T negative log-likelihood.

    Args:
        logits: [B, T, U+1, V] joiner output (unnormalized).
        targets: [B, U] token ids; logit_lens [B]; target_lens [B].
        reduction: "mean" (over utterances), "sum" or "none".

    Returns:
        A scalar, or [B] for reduction "none".
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction {reduction!r} is not one of mean, sum, none")
    if _TA_LOSS is not None and logits.is_cuda:  # pragma: no cover
        losses = _TA_LOSS(logits.float(), targets.int(), logit_lens.int(), target_lens.int(),
                          blank=blank, reduction="none")  # fmt: skip
    else:
        # The same value and gradient as rnnt_loss_reference(log_softmax(logits)) without
        # a lattice-sized log_softmax kept for backward: about a third of the memory
        # (benchmarks/rnnt_loss). Half-precision logits are promoted to float32 there.
        from todm.supernet.rnnt_loss_lean import rnnt_loss_lean

        losses = rnnt_loss_lean(logits, targets, logit_lens, target_lens, blank, reduction="none")
    return reduce_losses(losses, reduction)
