"""ScaledAdam and Eden: the behaviour that defines them."""

from __future__ import annotations

import pytest
import torch

from todm.supernet.optim import Eden, ScaledAdam


def _one_step(p0: torch.Tensor, grad: torch.Tensor, lr: float = 0.01) -> torch.Tensor:
    p = torch.nn.Parameter(p0.clone())
    opt = ScaledAdam([p], lr=lr, clipping_scale=0.0)
    p.grad = grad.clone()
    opt.step()
    return (p.detach() - p0).reshape(-1)


def test_update_size_is_proportional_to_parameter_rms() -> None:
    g = torch.Generator().manual_seed(0)
    direction = torch.randn(64, 32, generator=g)
    grad = torch.randn(64, 32, generator=g)
    # Same direction, 10x the size; the learned-scale part (p * grad) is 10x too but is
    # Adam-normalized, so it stays the same relative size.
    small = _one_step(0.01 * direction, grad)
    large = _one_step(0.1 * direction, grad)
    ratio = large.norm() / small.norm()
    assert float(ratio) == pytest.approx(10.0, rel=1e-3)


def test_update_size_does_not_depend_on_gradient_scale() -> None:
    g = torch.Generator().manual_seed(1)
    p0, grad = torch.randn(16, 16, generator=g), torch.randn(16, 16, generator=g)
    torch.testing.assert_close(_one_step(p0, grad), _one_step(p0, 1000.0 * grad), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("scale_lr_scale", [0.1, 1.0])
def test_learned_scale_moves_at_its_own_fraction_of_the_learning_rate(scale_lr_scale: float) -> None:
    # With the gradient along the parameter itself (loss |p|^2 / 2), the first Adam steps
    # are +-1 per element and +1 for the scale: the tensor shrinks by lr * scale_lr_scale,
    # and each element moves against its sign by lr * rms(p).
    p0 = torch.randn(32, 16, generator=torch.Generator().manual_seed(4))
    p = torch.nn.Parameter(p0.clone())
    lr = 0.02
    opt = ScaledAdam([p], lr=lr, clipping_scale=0.0, scale_lr_scale=scale_lr_scale)
    p.grad = p0.clone()
    opt.step()
    rms = p0.pow(2).mean().sqrt()
    expected = p0 * (1 - lr * scale_lr_scale) - lr * rms * p0.sign()
    torch.testing.assert_close(p.detach(), expected, rtol=1e-5, atol=1e-6)


def test_an_optimizer_state_saved_without_the_scale_rate_resumes_with_the_built_one() -> None:
    p = torch.nn.Parameter(torch.randn(4, 4, generator=torch.Generator().manual_seed(5)))
    opt = ScaledAdam([p], lr=0.02, scale_lr_scale=1.0)
    saved = opt.state_dict()
    for group in saved["param_groups"]:
        del group["scale_lr_scale"]  # as written before the setting existed
    resumed = ScaledAdam([p], lr=0.02, scale_lr_scale=1.0)
    resumed.load_state_dict(saved)
    before = p.detach().clone()
    p.grad = before.clone()
    resumed.step()
    rms = before.pow(2).mean().sqrt()
    torch.testing.assert_close(p.detach(), before * (1 - 0.02) - 0.02 * rms * before.sign(), rtol=1e-5, atol=1e-6)


def _run_with_spike(clipping_scale: float) -> tuple[ScaledAdam, torch.nn.Parameter, list[float]]:
    gen = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.randn(8, 8, generator=gen))
    opt = ScaledAdam([p], lr=0.01, clipping_scale=clipping_scale, clipping_window=20)
    norms = []
    for i in range(16):
        scale = 1000.0 if i == 15 else 1.0
        p.grad = scale * torch.randn(8, 8, generator=gen)
        norms.append(opt.step())
    return opt, p, norms


def test_clipping_kicks_in_on_a_gradient_spike() -> None:
    clipped, p_c, norms = _run_with_spike(2.0)
    unclipped, p_u, _ = _run_with_spike(0.0)
    assert norms[-1] > 100 * max(norms[:-1])  # the reported norm is the raw one
    assert clipped.state_dict()["state"]["__clip__"]["num_clipped"] == 1
    # The spike reached the Adam moments only clipped to 2x the median recent norm.
    v_clipped = clipped.state[p_c]["exp_avg_sq"].sum()
    v_unclipped = unclipped.state[p_u]["exp_avg_sq"].sum()
    assert float(v_clipped) < 1e-3 * float(v_unclipped)


def test_no_clipping_during_normal_training() -> None:
    torch.manual_seed(1)
    p = torch.nn.Parameter(torch.randn(8, 8))
    opt = ScaledAdam([p], lr=0.01, clipping_scale=2.0)
    for _ in range(30):
        p.grad = torch.randn(8, 8)
        opt.step()
    assert opt.state_dict()["state"]["__clip__"]["num_clipped"] <= 1


def test_learns_a_least_squares_problem() -> None:
    torch.manual_seed(2)
    w_true = torch.randn(4, 3)
    x = torch.randn(256, 4)
    y = x @ w_true
    w = torch.nn.Parameter(0.1 * torch.randn(4, 3))
    b = torch.nn.Parameter(torch.zeros(1))  # a scalar: plain Adam
    opt = ScaledAdam([w, b], lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 1e-2


def test_state_dict_round_trip_continues_identically() -> None:
    torch.manual_seed(3)
    grads = [torch.randn(5, 5) for _ in range(20)]
    p1 = torch.nn.Parameter(torch.randn(5, 5))
    p2 = torch.nn.Parameter(p1.detach().clone())
    o1, o2 = ScaledAdam([p1], lr=0.02), ScaledAdam([p2], lr=0.02)
    for gr in grads[:12]:
        for p, o in ((p1, o1), (p2, o2)):
            p.grad = gr.clone()
            o.step()
    o3 = ScaledAdam([p2], lr=0.02)
    o3.load_state_dict(o2.state_dict())
    for gr in grads[12:]:
        for p, o in ((p1, o1), (p2, o3)):
            p.grad = gr.clone()
            o.step()
    torch.testing.assert_close(p1.detach(), p2.detach(), rtol=0, atol=0)


def test_eden_curve_values() -> None:
    p = torch.nn.Parameter(torch.zeros(2))
    opt = ScaledAdam([p], lr=0.04)
    sched = Eden(opt, lr_batches=100.0, lr_epochs=4.0, warmup_batches=10.0, warmup_start=0.5)
    assert sched.get_last_lr()[0] == pytest.approx(0.04 * 0.5)  # warm-up starts at half
    for _ in range(5):
        sched.step_batch()
    assert sched.get_last_lr()[0] == pytest.approx(0.04 * 0.75 * ((25 + 1e4) / 1e4) ** -0.25)
    # At step == lr_batches and epoch == lr_epochs each factor is 2 ** -0.25.
    for _ in range(95):
        sched.step_batch()
    sched.step_epoch(4)
    assert sched.get_last_lr()[0] == pytest.approx(0.04 * 2**-0.5)
    # Far past lr_batches it decays like step ** -0.5.
    assert sched.factor(1e6, 0) / sched.factor(4e6, 0) == pytest.approx(2.0, rel=1e-3)


def test_eden_state_round_trip() -> None:
    p = torch.nn.Parameter(torch.zeros(2))
    opt = ScaledAdam([p], lr=0.04)
    sched = Eden(opt, lr_batches=50.0, lr_epochs=2.0, warmup_batches=5.0)
    for _ in range(17):
        sched.step_batch()
    sched.step_epoch(3)
    opt2 = ScaledAdam([torch.nn.Parameter(torch.zeros(2))], lr=0.04)
    s2 = Eden(opt2, lr_batches=50.0, lr_epochs=2.0, warmup_batches=5.0)
    s2.load_state_dict(sched.state_dict())
    assert s2.get_last_lr() == pytest.approx(sched.get_last_lr())
