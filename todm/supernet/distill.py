"""In-place distillation: adaptive alpha-divergence from the largest subnet to the others.

The alpha-divergence of teacher p from student q,

    D_a(p || q) = 1 / (a (a - 1)) * sum_i q_i [(p_i / q_i)^a - 1],

is KL(p || q) as a -> 1 and KL(q || p) as a -> 0; a negative alpha punishes a student
that is over-confident, a positive one a student that misses the teacher's modes.
AlphaNet's adaptive form takes the larger of the two divergences at ``alpha_min < 0``
and ``alpha_max > 0``, so each step corrects whichever error is worse. The log ratio is
clipped (``max_log_ratio``) so that near-zero probabilities cannot explode the power.
"""

from __future__ import annotations

import torch


def alpha_divergence(
    teacher_logp: torch.Tensor, student_logp: torch.Tensor, alpha: float, max_log_ratio: float = 5.0
) -> torch.Tensor:
    """D_alpha(p || q) over the last axis: ``[..., V] -> [...]``."""
    log_ratio = (teacher_logp - student_logp).clamp(-max_log_ratio, max_log_ratio)
    q = student_logp.exp()
    if abs(alpha - 1.0) < 1e-6:
        return (teacher_logp.exp() * log_ratio).sum(-1)
    if abs(alpha) < 1e-6:
        return -(q * log_ratio).sum(-1)
    return (q * (torch.exp(alpha * log_ratio) - 1.0)).sum(-1) / (alpha * (alpha - 1.0))


def adaptive_alpha_divergence(
    teacher_logp: torch.Tensor,
    student_logp: torch.Tensor,
    mask: torch.Tensor,
    alpha_min: float = -1.0,
    alpha_max: float = 1.0,
) -> torch.Tensor:
    """Mean over valid positions of max(D_{alpha_min}, D_{alpha_max}).

    Args:
        teacher_logp: [..., V] log-probabilities of the largest subnet (detached).
        student_logp: [..., V] log-probabilities of the subnet being trained.
        mask: [...] bool, true at positions that exist (not padding).
    """
    teacher_logp = teacher_logp.detach()
    d_neg = alpha_divergence(teacher_logp, student_logp, alpha_min)
    d_pos = alpha_divergence(teacher_logp, student_logp, alpha_max)
    d = torch.maximum(d_neg, d_pos)
    m = mask.to(d.dtype)
    return (d * m).sum() / m.sum().clamp(min=1.0)


def lattice_mask(logit_lens: torch.Tensor, target_lens: torch.Tensor, t_max: int, u1: int) -> torch.Tensor:
    """[B, T, U+1] true where t < T_b and u <= U_b."""
    t_ok = torch.arange(t_max, device=logit_lens.device)[None, :] < logit_lens[:, None]
    u_ok = torch.arange(u1, device=logit_lens.device)[None, :] <= target_lens[:, None]
    return t_ok[:, :, None] & u_ok[:, None, :]


def frame_mask(lens: torch.Tensor, t_max: int) -> torch.Tensor:
    """[B, T] true where t < T_b."""
    return torch.arange(t_max, device=lens.device)[None, :] < lens[:, None]
