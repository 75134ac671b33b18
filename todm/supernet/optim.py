"""ScaledAdam and the Eden learning-rate schedule, from the Zipformer paper's description.

ScaledAdam makes each update relative to its parameter's size: the Adam direction is
scaled by the parameter tensor's RMS (clamped to [param_min_rms, param_max_rms]), and the
scale itself is learned by a separate Adam-normalized step on d loss / d log(scale) =
sum(param * grad), at a tenth of the learning rate (``scale_lr_scale``, as published: a
parameter's size should drift slowly next to its direction). Gradients are clipped to
``clipping_scale`` times the median of recent gradient norms, so a spike cannot wreck
training. Scalars get plain Adam.

Eden decays the learning rate in both steps and epochs,

    lr = base_lr * ((step^2 + lr_batches^2) / lr_batches^2) ** -0.25
                 * ((epoch^2 + lr_epochs^2) / lr_epochs^2) ** -0.25,

with a linear warm-up from ``warmup_start`` to 1 over ``warmup_batches``.
"""

from __future__ import annotations

from typing import Any

import torch


class ScaledAdam(torch.optim.Optimizer):
    """Adam with updates proportional to each parameter's RMS and a learned scale.

    Args:
        params: parameters (or groups).
        lr: learning rate (updates are ``lr * rms(param)``-sized).
        betas: Adam's moment decays.
        scalar_lr_scale: lr multiplier for scalar parameters (plain Adam).
        scale_lr_scale: lr multiplier for the learned scale of every other tensor (each
            step changes a tensor's size by at most about ``lr * scale_lr_scale``). Before
            0.1 was the default, todm used 1.0; the supernet-vs-individual benchmark keeps it.
        eps: Adam denominator floor.
        param_min_rms, param_max_rms: clamp for the RMS that scales updates; above the
            max, the learned scale no longer grows.
        clipping_scale: clip to this multiple of the median recent gradient norm.
        clipping_window: how many recent norms the median is taken over.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 0.045,
        betas: tuple[float, float] = (0.9, 0.98),
        scalar_lr_scale: float = 0.1,
        scale_lr_scale: float = 0.1,
        eps: float = 1e-8,
        param_min_rms: float = 1e-5,
        param_max_rms: float = 3.0,
        clipping_scale: float = 2.0,
        clipping_window: int = 128,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, scalar_lr_scale=scalar_lr_scale,
                        scale_lr_scale=scale_lr_scale, eps=eps,
                        param_min_rms=param_min_rms, param_max_rms=param_max_rms)  # fmt: skip
        super().__init__(params, defaults)
        self.clipping_scale = clipping_scale
        self.clipping_window = clipping_window
        # Kept in the state dict (as a tensor) so that resume clips exactly as before.
        self.state["__clip__"] = {"norms": torch.zeros(0), "num_clipped": 0}

    def _clip_factor(self) -> tuple[float, float]:
        """Factor to multiply every gradient by, and the total gradient norm."""
        sq = torch.zeros(())
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    sq = sq + p.grad.detach().float().pow(2).sum().cpu()
        norm = float(sq.sqrt())
        clip = self.state["__clip__"]
        history: torch.Tensor = clip["norms"]
        factor = 1.0
        if len(history) >= 10 and self.clipping_scale > 0:
            threshold = self.clipping_scale * float(history.median())
            if norm > threshold:
                factor = threshold / (norm + 1e-20)
                clip["num_clipped"] += 1
        clip["norms"] = torch.cat([history, torch.tensor([norm])])[-self.clipping_window :]
        return factor, norm

    @torch.no_grad()
    def step(self, closure: Any = None) -> float:  # type: ignore[override]
        """One update; returns the (pre-clipping) total gradient norm."""
        if closure is not None:
            with torch.enable_grad():
                closure()
        factor, norm = self._clip_factor()
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            # load_state_dict takes the groups from the file: one saved before this setting
            # existed lacks it, and then the value this optimizer was built with applies
            scale_lr = lr * group.get("scale_lr_scale", self.defaults["scale_lr_scale"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad * factor
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if p.numel() > 1:
                        state["scale_avg"] = torch.zeros((), device=p.device)
                        state["scale_avg_sq"] = torch.zeros((), device=p.device)
                state["step"] += 1
                step = state["step"]
                bc1, bc2 = 1 - b1**step, 1 - b2**step
                if p.numel() == 1:
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    m.mul_(b1).add_(grad, alpha=1 - b1)
                    v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                    denom = (v / bc2).sqrt().add_(eps)
                    p.add_(-(lr * group["scalar_lr_scale"]) * (m / bc1) / denom)
                    continue
                rms = p.pow(2).mean().sqrt().clamp(group["param_min_rms"], group["param_max_rms"])
                # Learned scale: an Adam step on d loss / d log(scale).
                scale_grad = (p * grad).sum()
                sm, sv = state["scale_avg"], state["scale_avg_sq"]
                sm.mul_(b1).add_(scale_grad, alpha=1 - b1)
                sv.mul_(b2).add_(scale_grad**2, alpha=1 - b2)
                scale_step = (sm / bc1) / ((sv / bc2).sqrt() + eps)
                if float(p.pow(2).mean().sqrt()) >= group["param_max_rms"]:
                    scale_step = scale_step.clamp(min=0.0)  # may only shrink
                # Direction: Adam on the gradient, sized by the parameter's RMS.
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(b1).add_(grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                direction = (m / bc1) / ((v / bc2).sqrt().add_(eps))
                p.mul_(1 - scale_lr * scale_step)
                p.add_(direction * (-lr * rms))
        return norm


class Eden:
    """Eden learning-rate schedule over an optimizer's groups (set per batch and epoch)."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        lr_batches: float = 5000.0,
        lr_epochs: float = 6.0,
        warmup_batches: float = 500.0,
        warmup_start: float = 0.5,
    ) -> None:
        self.optimizer = optimizer
        self.lr_batches, self.lr_epochs = lr_batches, lr_epochs
        self.warmup_batches, self.warmup_start = warmup_batches, warmup_start
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.batch = 0
        self.epoch = 0
        self._apply()

    def factor(self, batch: float, epoch: float) -> float:
        f = ((batch**2 + self.lr_batches**2) / self.lr_batches**2) ** -0.25
        f *= ((epoch**2 + self.lr_epochs**2) / self.lr_epochs**2) ** -0.25
        if batch < self.warmup_batches:
            f *= self.warmup_start + (1 - self.warmup_start) * batch / self.warmup_batches
        return f

    def _apply(self) -> None:
        f = self.factor(self.batch, self.epoch)
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = base * f

    def step_batch(self) -> None:
        self.batch += 1
        self._apply()

    def step_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"batch": self.batch, "epoch": self.epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.batch, self.epoch, self.base_lrs = int(d["batch"]), int(d["epoch"]), list(d["base_lrs"])
        self._apply()
