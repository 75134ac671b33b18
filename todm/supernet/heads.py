"""Output heads shared by every subnet: CTC, the predictor (stateless or LSTM), the joiner.

Their encoder-side inputs are elastic (they read the active ``d_model`` from the input);
predictor and joiner sizes are fixed. Shapes: d encoder width, E predictor width, J
joiner width, V vocabulary, ctx the predictor's context size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from todm.supernet.elastic import linear


class CTCHead(nn.Module):
    """``[B, T, d] -> [B, T, V]`` log-probabilities."""

    def __init__(self, d_model: int, vocab_size: int, elastic: bool) -> None:
        super().__init__()
        self.proj = linear(d_model, vocab_size, elastic)

    def forward(self, enc: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.proj(enc), dim=-1)


class StatelessPredictor(nn.Module):
    """Embedding of the last ``ctx`` tokens -> grouped Conv1d over them -> ReLU -> Linear.

    The form sherpa-onnx runs (its decoder takes ``y [N, ctx]``). Before the first token
    the context is blank, so ``decoder([blank]*ctx)`` is the start state.
    """

    def __init__(
        self, vocab_size: int, dim: int, context_size: int, groups: int, joiner_dim: int,
        blank_id: int,
    ) -> None:
        super().__init__()
        self.context_size = context_size
        self.blank_id = blank_id
        self.embedding = nn.Embedding(vocab_size, dim)
        self.conv = nn.Conv1d(dim, dim, context_size, groups=groups)
        self.proj = nn.Linear(dim, joiner_dim)

    def step(self, y: torch.Tensor) -> torch.Tensor:
        """``y [N, ctx]`` int64 -> ``[N, J]``."""
        e = self.embedding(y).transpose(1, 2)  # [N, E, ctx]
        return self.proj(F.relu(self.conv(e)).squeeze(2))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: ``tokens [B, U]`` -> ``[B, U+1, J]``; output ``u`` has seen
        ``tokens[:, :u]`` (the last ``ctx`` of them, blank-filled at the start)."""
        start = torch.full(
            (tokens.shape[0], self.context_size), self.blank_id, dtype=tokens.dtype,
            device=tokens.device,
        )
        e = self.embedding(torch.cat([start, tokens], dim=1)).transpose(1, 2)
        return self.proj(F.relu(self.conv(e)).transpose(1, 2))


class LSTMPredictor(nn.Module):
    """Embedding -> LSTM -> Linear: the predictor ExecuTorch's transducer runner expects.

    Teacher forcing feeds ``[blank, tokens...]``; streaming carries ``(h, c)``.
    """

    def __init__(
        self, vocab_size: int, dim: int, hidden: int, layers: int, joiner_dim: int,
        blank_id: int,
    ) -> None:
        super().__init__()
        self.blank_id = blank_id
        self.embedding = nn.Embedding(vocab_size, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=layers, batch_first=True)
        self.proj = nn.Linear(hidden, joiner_dim)

    def init_state(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.zeros(self.lstm.num_layers, batch, self.lstm.hidden_size,
                        device=self.proj.weight.device)
        return z, z.clone()

    def step(
        self, token: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``token [N, 1]`` int64, ``h, c [layers, N, hidden]`` -> ``([N, J], h', c')``."""
        out, (h, c) = self.lstm(self.embedding(token), (h, c))
        return self.proj(out[:, -1]), h, c

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens [B, U]`` -> ``[B, U+1, J]``."""
        start = torch.full((tokens.shape[0], 1), self.blank_id, dtype=tokens.dtype,
                           device=tokens.device)
        out, _ = self.lstm(self.embedding(torch.cat([start, tokens], dim=1)))
        return self.proj(out)


class Joiner(nn.Module):
    """``enc_proj`` maps encoder frames to J; ``forward`` = Linear(tanh(enc + dec)).

    ``forward(enc [..., J], dec [..., J]) -> [..., V]`` (broadcasting, so
    ``[B, T, 1, J] + [B, 1, U+1, J]`` gives the full lattice).
    """

    def __init__(self, d_model: int, joiner_dim: int, vocab_size: int, elastic: bool) -> None:
        super().__init__()
        self.enc_proj = linear(d_model, joiner_dim, elastic)
        self.out = nn.Linear(joiner_dim, vocab_size)

    def forward(self, enc: torch.Tensor, dec: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(enc + dec))
