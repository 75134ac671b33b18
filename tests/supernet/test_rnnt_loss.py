"""RNN-T loss: checked against brute-force enumeration of every alignment, and gradcheck."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from todm.supernet.rnnt_loss import rnnt_loss, rnnt_loss_reference
from todm.supernet.rnnt_loss_lean import rnnt_loss_lean


def brute_force_nll(log_probs: torch.Tensor, targets: list[int], blank: int) -> float:
    """-log P(y|x) summed over every monotonic alignment, one utterance.

    ``log_probs [T, U+1, V]``. An alignment is T + U moves ending with the blank at
    (T-1, U): choose which of the first T-1+U moves emit the labels; the rest are blanks.
    """
    t_len, u1, _ = log_probs.shape
    u_len = len(targets)
    assert u1 == u_len + 1
    n_moves = t_len - 1 + u_len
    total = -math.inf
    for emit_at in itertools.combinations(range(n_moves), u_len):
        t = u = 0
        lp = 0.0
        emits = set(emit_at)
        for m in range(n_moves):
            if m in emits:
                lp += float(log_probs[t, u, targets[u]])
                u += 1
            else:
                lp += float(log_probs[t, u, blank])
                t += 1
        lp += float(log_probs[t_len - 1, u_len, blank])
        # log-add-exp, written out so that the reference shares no code with the loss.
        total = lp if total == -math.inf else max(total, lp) + math.log1p(math.exp(-abs(total - lp)))
    return -total


@pytest.mark.parametrize("blank", [0, 3])
def test_matches_brute_force_with_variable_lengths(blank: int) -> None:
    g = torch.Generator().manual_seed(0)
    bsz, t_max, u_max, vocab = 3, 5, 3, 4
    logits = torch.randn(bsz, t_max, u_max + 1, vocab, generator=g, dtype=torch.float64)
    logit_lens = torch.tensor([5, 3, 4])
    target_lens = torch.tensor([3, 2, 0])
    non_blank = [v for v in range(vocab) if v != blank]
    targets = torch.tensor([[non_blank[i % len(non_blank)] for i in range(b, b + u_max)] for b in range(bsz)])
    # Padding past each length must not matter: fill it with a different token.
    for b in range(bsz):
        targets[b, target_lens[b]:] = non_blank[-1]
    got = rnnt_loss(logits, targets, logit_lens, target_lens, blank=blank, reduction="none")
    lp = torch.log_softmax(logits, dim=-1)
    for b in range(bsz):
        t, u = int(logit_lens[b]), int(target_lens[b])
        want = brute_force_nll(lp[b, :t, : u + 1], targets[b, :u].tolist(), blank)
        assert got[b].item() == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_padding_does_not_change_the_loss() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(1, 4, 3, 5, generator=g, dtype=torch.float64)
    targets = torch.tensor([[1, 2]])
    short = rnnt_loss(logits, targets, torch.tensor([4]), torch.tensor([2]), reduction="none")
    padded = torch.cat([logits, torch.randn(1, 3, 3, 5, generator=g, dtype=torch.float64)], dim=1)
    padded = torch.cat([padded, torch.randn(1, 7, 2, 5, generator=g, dtype=torch.float64)], dim=2)
    long_targets = torch.tensor([[1, 2, 4, 4]])
    longer = rnnt_loss(padded, long_targets, torch.tensor([4]), torch.tensor([2]), reduction="none")
    torch.testing.assert_close(short, longer)


def test_reductions() -> None:
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 4, 3, 5, generator=g)
    targets = torch.tensor([[1, 2], [3, 0]])
    args = (logits, targets, torch.tensor([4, 2]), torch.tensor([2, 1]))
    per_utt = rnnt_loss(*args, reduction="none")
    assert per_utt.shape == (2,) and bool((per_utt > 0).all())
    torch.testing.assert_close(rnnt_loss(*args, reduction="sum"), per_utt.sum())
    torch.testing.assert_close(rnnt_loss(*args, reduction="mean"), per_utt.mean())
    with pytest.raises(ValueError, match="reduction"):
        rnnt_loss(*args, reduction="max")


def test_gradcheck_float64() -> None:
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 4, 3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([[1, 2], [3, 3]])
    logit_lens, target_lens = torch.tensor([4, 3]), torch.tensor([2, 1])
    assert torch.autograd.gradcheck(
        lambda x: rnnt_loss(x, targets, logit_lens, target_lens, reduction="sum"), (logits,)
    )


def test_half_precision_logits_are_promoted() -> None:
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(1, 3, 2, 4, generator=g)
    targets, tl, ul = torch.tensor([[2]]), torch.tensor([3]), torch.tensor([1])
    full = rnnt_loss(logits, targets, tl, ul)
    half = rnnt_loss(logits.bfloat16(), targets, tl, ul)
    assert half.dtype == torch.float32
    assert half.item() == pytest.approx(full.item(), rel=2e-2)


def test_lean_path_matches_the_log_softmax_reference() -> None:
    # rnnt_loss runs the lean path; the reference keeps the full log_softmax lattice.
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(3, 6, 4, 7, generator=g, dtype=torch.float64)
    targets = torch.tensor([[1, 2, 3], [4, 5, 0], [6, 6, 6]])
    logit_lens, target_lens = torch.tensor([6, 4, 2]), torch.tensor([3, 2, 0])
    a = logits.clone().requires_grad_(True)
    b = logits.clone().requires_grad_(True)
    la = rnnt_loss_reference(torch.log_softmax(a, -1), targets, logit_lens, target_lens, blank=0)
    lb = rnnt_loss_lean(b, targets, logit_lens, target_lens, blank=0, reduction="none")
    torch.testing.assert_close(la, lb)
    weights = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    (la * weights).sum().backward()
    (lb * weights).sum().backward()
    torch.testing.assert_close(a.grad, b.grad)


def test_lean_variant_gradcheck() -> None:
    g = torch.Generator().manual_seed(6)
    logits = torch.randn(2, 4, 3, 5, generator=g, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([[1, 2], [2, 4]])
    lens, ulens = torch.tensor([4, 3]), torch.tensor([2, 1])
    assert torch.autograd.gradcheck(
        lambda x: rnnt_loss_lean(x, targets, lens, ulens, blank=3, reduction="mean"), (logits,)
    )
