"""Multi-head diagonal state-space mixer (S4D-like), the attention-free encoder family.

Each of the ``H*Dh`` channels (``H`` heads of ``Dh`` channels) runs its own linear
time-invariant system with a real diagonal state of size ``Ns``::

    h_t = Ab * h_{t-1} + Bb * u_t,   y_t = sum_n C * h_t + D * u_t

with ``Ab = exp(dt*A)``, ``Bb = (Ab - 1)/A * B`` (zero-order hold) and ``A < 0``. Two
equal forms of it:

* whole sequence (training): a causal depthwise convolution whose kernel
  ``K[k] = sum_n C*Bb*Ab^k`` is computed from the parameters (no FFT: ExecuTorch has no
  FFT kernel, and a direct conv is fast at the frame rates involved);
* chunk (streaming): within the chunk a small lower-triangular Toeplitz product, plus the
  carried state's contribution ``C*Ab^(t+1)*h``; the new state is returned. Cache:
  ``[N, H*Dh, Ns]``.

Heads are elastic: head ``h`` owns channels ``[h*Dh, (h+1)*Dh)`` of every parameter, so
the first heads are a leading slice. So is the state: a subnet with state ``s`` uses
``[:, :s]`` of ``log_neg_a``, ``b`` and ``c`` (the state entries of a diagonal SSM are
independent terms of the output sum, so dropping the last ones leaves a valid, smaller
SSM; S4D-Real's init puts the slowest-decaying, longest-memory entries first). The SSM is
causal with unlimited memory, so it ignores the attention mask; padding after an
utterance cannot reach its frames.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from todm.supernet.elastic import linear, set_out


class MultiHeadSSM(nn.Module):
    """``[B, T, d] -> [B, T, d]``: in-projection, per-channel SSM, GELU, out-projection."""

    def __init__(
        self, d_model: int, num_heads: int, head_dim: int, state_dim: int, elastic: bool
    ) -> None:
        super().__init__()
        self.head_dim = head_dim
        ch = num_heads * head_dim
        self.inp = linear(d_model, ch, elastic)
        self.out = linear(ch, d_model, elastic)
        # S4D-Real init: A_n = -(n+1); dt log-uniform in [1e-3, 1e-1].
        self.log_neg_a = nn.Parameter(torch.log(torch.arange(1, state_dim + 1.0)).repeat(ch, 1))
        self.log_dt = nn.Parameter(
            torch.rand(ch) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3)
        )
        self.b = nn.Parameter(torch.ones(ch, state_dim))
        self.c = nn.Parameter(torch.randn(ch, state_dim) / math.sqrt(state_dim))
        self.d = nn.Parameter(torch.ones(ch))
        self.active_state = state_dim

    @property
    def num_heads(self) -> int:
        return getattr(self.inp, "active_out", self.inp.out_features) // self.head_dim

    @property
    def state_dim(self) -> int:
        """The full state size (the parameters' second dimension)."""
        return self.log_neg_a.shape[1]

    def set_active(self, d_model: int, heads: int, state: int | None = None) -> None:
        """Active width, heads and state size (None: the full state)."""
        set_out(self.inp, heads * self.head_dim)
        set_out(self.out, d_model)
        state = self.state_dim if state is None else state
        if not 0 < state <= self.state_dim:
            raise ValueError(f"active SSM state {state} outside 1..{self.state_dim}")
        self.active_state = state

    def _discrete(self, ch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(dtA, Bb, C)``, each ``[ch, Ns]``, of the first ``ch`` channels and the first
        ``Ns = active_state`` state entries (dtA = log Ab)."""
        ns = self.active_state
        a = -torch.exp(self.log_neg_a[:ch, :ns])
        dta = torch.exp(self.log_dt[:ch])[:, None] * a
        # expm1(x) = 2 tanh(x/2) / (1 - tanh(x/2)): precise for small dt*A (unlike exp - 1)
        # and made of ops every exporter has (ONNX has no Expm1; TorchScript export no sinh).
        th = torch.tanh(0.5 * dta)
        bb = 2.0 * th / (1.0 - th) / a * self.b[:ch, :ns]
        return dta, bb, self.c[:ch, :ns]

    def _kernel(self, dta: torch.Tensor, cbb: torch.Tensor, length: int) -> torch.Tensor:
        """``K [ch, length]`` with ``K[:, k] = sum_n C*Bb*Ab^k``."""
        k = torch.arange(length, dtype=dta.dtype, device=dta.device)
        return torch.einsum("cn,cnk->ck", cbb, torch.exp(dta[:, :, None] * k))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Whole sequence ``x [B, T, d]`` -> ``[B, T, d]`` (``mask`` unused: causal)."""
        u = self.inp(x).transpose(1, 2)  # [B, ch, T]
        ch, t = u.shape[1], u.shape[2]
        dta, bb, c = self._discrete(ch)
        kern = self._kernel(dta, c * bb, t)  # [ch, T]
        if torch.onnx.is_in_onnx_export():
            # ONNX's Conv needs a kernel of static shape and this one is as long as the
            # input; the Toeplitz product is the same causal convolution.
            y = self._toeplitz_mix(kern, u)
        else:
            y = F.conv1d(F.pad(u, (t - 1, 0)), kern.flip(-1)[:, None, :], groups=ch)  # conv1d correlates
        y = y + self.d[:ch, None] * u
        return self.out(F.gelu(y.transpose(1, 2)))

    @staticmethod
    def _toeplitz_mix(kern: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """``y[b, c, t] = sum_{s<=t} kern[c, t-s] * u[b, c, s]`` for ``kern [ch, T]``, ``u [B, ch, T]``."""
        pos = torch.arange(u.shape[2], device=u.device)
        lag = pos[:, None] - pos[None, :]  # [T(t), T(s)]
        toeplitz = kern[:, lag.clamp(min=0)] * (lag >= 0).to(kern.dtype)  # [ch, T, T]
        return torch.einsum("cts,bcs->bct", toeplitz, u)

    def cache_shapes(self, batch: int, left: int) -> list[tuple[str, tuple[int, ...]]]:
        return [("ssm_state", (batch, self.num_heads * self.head_dim, self.active_state))]

    def forward_chunk(
        self, x: torch.Tensor, caches: list[torch.Tensor], cache_valid: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``x [N, C, d]``, ``caches [state [N, ch, Ns]]`` -> ``([N, C, d], [new state])``."""
        u = self.inp(x).transpose(1, 2)  # [N, ch, C]
        ch, t = u.shape[1], u.shape[2]
        dta, bb, c = self._discrete(ch)
        state = caches[0]
        y = self._toeplitz_mix(self._kernel(dta, c * bb, t), u)
        steps = torch.arange(t, device=x.device).to(dta.dtype)
        decay = torch.exp(dta[:, :, None] * (steps + 1))  # Ab^(t+1), [ch, Ns, C]
        y = y + torch.einsum("bcn,cnt->bct", state * c, decay) + self.d[:ch, None] * u
        # New state: Ab^C h + sum_s Ab^(C-1-s) Bb u_s
        back = torch.exp(dta[:, :, None] * (t - 1 - steps))  # [ch, Ns, C]
        new_state = torch.exp(dta * t) * state + torch.einsum("bcs,cns->bcn", u, back) * bb
        return self.out(F.gelu(y.transpose(1, 2))), [new_state]
