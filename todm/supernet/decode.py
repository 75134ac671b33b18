"""Decoding in PyTorch (eager reference for evaluation and export parity).

Works on any model exposing the transducer pieces: encoder frames already projected to
the joiner width, a stateless predictor step ``decoder(y [N, context])`` and
``joiner(enc [N, J], dec [N, J]) -> [N, V]``. The torch-free runtime implements the
same searches in numpy; tests hold the two to the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

Decoder = Callable[[torch.Tensor], torch.Tensor]
Joiner = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# The predictor output after each token history (tokens emitted so far, no blanks): [N, J].
HistoryDecoder = Callable[[Sequence[tuple[int, ...]]], torch.Tensor]


def stateless_decoder(decoder: Decoder, blank: int, context_size: int) -> HistoryDecoder:
    """A stateless predictor sees the last ``context_size`` tokens, blank-filled at the start."""
    pad = (blank,) * context_size

    def run(histories: Sequence[tuple[int, ...]]) -> torch.Tensor:
        return decoder(torch.tensor([(pad + h)[len(h) :] for h in histories]))

    return run


class LSTMHistoryDecoder:
    """An LSTM predictor over token histories, one step per new token.

    The state after each history is kept, so extending a hypothesis by a token costs one
    LSTM step from its parent's state, as a streaming runtime would carry it. Build one
    per utterance (the memory grows with the histories a search visits).
    """

    def __init__(self, predictor: torch.nn.Module) -> None:
        self.predictor = predictor
        self.states: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def _state(self, history: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = len(history)
        while n > 0 and history[:n] not in self.states:
            n -= 1
        if n == 0 and () not in self.states:
            start = torch.tensor([[self.predictor.blank_id]])
            self.states[()] = self.predictor.step(start, *self.predictor.init_state(1))
        for k in range(n, len(history)):
            _, h, c = self.states[history[:k]]
            self.states[history[: k + 1]] = self.predictor.step(torch.tensor([[history[k]]]), h, c)
        return self.states[history]

    @torch.no_grad()
    def __call__(self, histories: Sequence[tuple[int, ...]]) -> torch.Tensor:
        return torch.cat([self._state(tuple(h))[0] for h in histories])


@torch.no_grad()
def greedy_search(
    enc: torch.Tensor, decoder: Decoder | None, joiner: Joiner, blank: int, context_size: int,
    max_symbols_per_frame: int = 3, history_decoder: HistoryDecoder | None = None,
) -> list[int]:  # fmt: skip
    """RNN-T greedy search over one utterance's frames ``enc [T, J]``.

    The predictor is ``decoder`` (stateless, ``y [N, context_size]``) unless
    ``history_decoder`` is given (any predictor, fed whole token histories).
    """
    dec_of = history_decoder or stateless_decoder(decoder, blank, context_size)  # type: ignore[arg-type]
    hyp: tuple[int, ...] = ()
    dec = dec_of([hyp])
    for t in range(enc.shape[0]):
        for _ in range(max_symbols_per_frame):
            logits = joiner(enc[t : t + 1], dec)
            tok = int(logits.argmax(-1))
            if tok == blank:
                break
            hyp += (tok,)
            dec = dec_of([hyp])
    return list(hyp)


@torch.no_grad()
def greedy_search_batch(
    enc: torch.Tensor, enc_lens: torch.Tensor, decoder: Decoder | None, joiner: Joiner, blank: int,
    context_size: int, max_symbols_per_frame: int = 3, history_decoder: HistoryDecoder | None = None,
) -> list[list[int]]:  # fmt: skip
    """:func:`greedy_search` over a padded batch ``enc [B, T, J]`` (``enc_lens [B]``) at once.

    Each frame, the utterances still emitting go through the joiner together, so the
    result is that of searching each utterance alone; the Python loop runs once per frame
    and symbol instead of once per utterance, frame and symbol.
    """
    dec_of = history_decoder or stateless_decoder(decoder, blank, context_size)  # type: ignore[arg-type]
    hyps: list[tuple[int, ...]] = [() for _ in range(enc.shape[0])]
    dec = dec_of(hyps)
    lens = enc_lens.tolist()
    for t in range(enc.shape[1]):
        rows = [b for b, n in enumerate(lens) if t < n]
        if not rows:
            break
        for _ in range(max_symbols_per_frame):
            idx = torch.tensor(rows)
            toks = joiner(enc[idx, t], dec[idx]).argmax(-1).tolist()
            rows = [b for b, tok in zip(rows, toks) if tok != blank]
            if not rows:
                break
            for b, tok in zip(idx.tolist(), toks):
                if tok != blank:
                    hyps[b] += (tok,)
            dec[torch.tensor(rows)] = dec_of([hyps[b] for b in rows])
    return [list(h) for h in hyps]


@torch.no_grad()
def modified_beam_search(
    enc: torch.Tensor, decoder: Decoder | None, joiner: Joiner, blank: int, context_size: int, beam: int = 4,
    max_symbols_per_frame: int = 3, history_decoder: HistoryDecoder | None = None,
) -> list[int]:  # fmt: skip
    """RNN-T beam search; hypotheses with the same tokens are merged by adding probabilities.

    Each frame runs up to ``max_symbols_per_frame`` rounds. A round extends every hypothesis
    still open at this frame by every token; of those extensions and the hypotheses already
    closed at this frame, the ``beam`` best survive. A blank closes a hypothesis for the
    frame; a token keeps it open for the next round, and the last round closes it anyway.
    With ``max_symbols_per_frame=1`` this is icefall's modified beam search (one token per
    frame); with ``beam=1`` it is exactly :func:`greedy_search`, which models trained
    without a one-symbol constraint need: they emit several tokens on one frame. The
    predictor is given as in :func:`greedy_search`.
    """
    if beam < 1 or max_symbols_per_frame < 1:
        raise ValueError(f"beam and max_symbols_per_frame must be >= 1, got {beam}, {max_symbols_per_frame}")
    dec_of = history_decoder or stateless_decoder(decoder, blank, context_size)  # type: ignore[arg-type]
    hyps: dict[tuple[int, ...], float] = {(): 0.0}
    for t in range(enc.shape[0]):
        open_: dict[tuple[int, ...], float] = hyps
        closed: dict[tuple[int, ...], float] = {}
        for r in range(max_symbols_per_frame):
            if not open_:
                break
            keys = list(open_)
            logp = torch.log_softmax(joiner(enc[t : t + 1].expand(len(keys), -1), dec_of(keys)), -1)  # [H, V]
            scores = (torch.tensor([open_[k] for k in keys])[:, None] + logp).reshape(-1)
            vocab = logp.shape[1]
            # candidates: (score, closes, key); closed ones from earlier rounds compete too
            cands = [(s, True, k) for k, s in closed.items()]
            top = torch.topk(scores, min(beam, scores.numel()))
            for s, flat in zip(top.values.tolist(), top.indices.tolist()):
                h, tok = divmod(flat, vocab)
                last = r == max_symbols_per_frame - 1
                cands.append((s, True, keys[h]) if tok == blank else (s, last, keys[h] + (tok,)))
            cands.sort(key=lambda c: -c[0])
            closed_next: dict[tuple[int, ...], float] = {}
            open_next: dict[tuple[int, ...], float] = {}
            for s, closes, key in cands[:beam]:
                pool = closed_next if closes else open_next
                # Two paths to the same tokens in the same state: add their probabilities.
                pool[key] = float(torch.logaddexp(torch.tensor(pool[key]), torch.tensor(s))) if key in pool else s
            closed, open_ = closed_next, open_next
        hyps = closed
    best = max(hyps, key=lambda k: hyps[k])
    return list(best)


def ctc_greedy(log_probs: torch.Tensor, blank: int) -> list[int]:
    """Best path of ``log_probs [T, V]``: collapse repeats, drop blanks."""
    best = log_probs.argmax(-1).tolist()
    out, prev = [], None
    for tok in best:
        if tok != prev and tok != blank:
            out.append(tok)
        prev = tok
    return out
