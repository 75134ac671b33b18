"""Adaptive alpha-divergence (in-place distillation): its defining properties."""

from __future__ import annotations

import pytest
import torch

from todm.supernet.distill import (
    adaptive_alpha_divergence,
    alpha_divergence,
    frame_mask,
    lattice_mask,
)


def _logp(*shape: int, seed: int, sharp: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(sharp * torch.randn(*shape, generator=g, dtype=torch.float64), dim=-1)


@pytest.mark.parametrize("alpha", [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
def test_zero_for_identical_and_positive_otherwise(alpha: float) -> None:
    p, q = _logp(6, 7, seed=0), _logp(6, 7, seed=1)
    torch.testing.assert_close(alpha_divergence(p, p, alpha), torch.zeros(6, dtype=torch.float64))
    assert bool((alpha_divergence(p, q, alpha) > 0).all())


def test_kl_limits() -> None:
    p, q = _logp(5, 9, seed=2), _logp(5, 9, seed=3)
    kl_pq = (p.exp() * (p - q)).sum(-1)
    kl_qp = (q.exp() * (q - p)).sum(-1)
    torch.testing.assert_close(alpha_divergence(p, q, 1.0), kl_pq)
    torch.testing.assert_close(alpha_divergence(p, q, 0.0), kl_qp)
    # The general formula tends to the KLs: continuity at both ends.
    torch.testing.assert_close(alpha_divergence(p, q, 1.0 - 1e-4), kl_pq, rtol=1e-3, atol=1e-6)
    torch.testing.assert_close(alpha_divergence(p, q, 1e-4), kl_qp, rtol=1e-3, atol=1e-6)


def test_adaptive_takes_the_larger_divergence() -> None:
    p, q = _logp(4, 6, seed=4), _logp(4, 6, seed=5)
    mask = torch.ones(4, dtype=torch.bool)
    got = adaptive_alpha_divergence(p, q, mask, alpha_min=-1.0, alpha_max=1.0)
    want = torch.maximum(alpha_divergence(p, q, -1.0), alpha_divergence(p, q, 1.0)).mean()
    torch.testing.assert_close(got, want)
    assert got >= alpha_divergence(p, q, 1.0).mean() and got >= alpha_divergence(p, q, -1.0).mean()


def test_masked_positions_do_not_count() -> None:
    p, q = _logp(2, 5, 6, seed=6), _logp(2, 5, 6, seed=7)
    lens = torch.tensor([5, 2])
    mask = frame_mask(lens, 5)
    base = adaptive_alpha_divergence(p, q, mask)
    q2 = q.clone()
    q2[1, 2:] = _logp(3, 6, seed=8, sharp=5.0)  # change only padded frames
    torch.testing.assert_close(adaptive_alpha_divergence(p, q2, mask), base)


def test_lattice_mask_shape_and_content() -> None:
    m = lattice_mask(torch.tensor([3, 1]), torch.tensor([1, 2]), t_max=4, u1=3)
    assert m.shape == (2, 4, 3)
    assert int(m[0].sum()) == 3 * 2 and int(m[1].sum()) == 1 * 3
    assert not bool(m[0, 3].any()) and not bool(m[0, :, 2].any())


def test_gradients_flow_to_student_only_and_are_finite() -> None:
    teacher_logits = torch.randn(3, 8, 10, dtype=torch.float64, requires_grad=True)
    student_logits = torch.randn(3, 8, 10, dtype=torch.float64, requires_grad=True)
    # A near-one-hot teacher: the log-ratio clamp must keep the power finite.
    p = torch.log_softmax(30.0 * teacher_logits, dim=-1)
    q = torch.log_softmax(student_logits, dim=-1)
    loss = adaptive_alpha_divergence(p, q, frame_mask(torch.tensor([8, 5, 1]), 8))
    loss.backward()
    assert torch.isfinite(loss)
    assert student_logits.grad is not None and bool(torch.isfinite(student_logits.grad).all())
    assert float(student_logits.grad.abs().sum()) > 0
    assert teacher_logits.grad is None  # the teacher is detached


def test_descending_the_divergence_moves_student_to_teacher() -> None:
    p = _logp(1, 5, seed=9, sharp=3.0)
    logits = torch.zeros(1, 5, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([logits], lr=0.5)
    mask = torch.ones(1, dtype=torch.bool)
    first = None
    for _ in range(200):
        opt.zero_grad()
        loss = adaptive_alpha_divergence(p, torch.log_softmax(logits, -1), mask)
        first = float(loss.detach()) if first is None else first
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 1e-3 * first
    torch.testing.assert_close(torch.softmax(logits, -1), p.exp(), atol=1e-2, rtol=0)
