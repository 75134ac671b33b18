"""Decoding in numpy: CTC greedy, RNN-T greedy and modified beam search.

Each search is a small state machine fed encoder frames chunk by chunk (``advance``), so
the same code serves streaming (partial results after every chunk) and whole utterances.
They reproduce ``todm.supernet.decode`` (the eager PyTorch reference): RNN-T greedy emits
up to ``max_symbols_per_frame`` tokens per frame; modified beam search keeps the ``beam``
best hypotheses over (hypothesis, token) pairs, merges hypotheses with the same tokens by
adding their probabilities, and emits up to ``max_symbols_per_frame`` tokens per frame
too (1 gives icefall's ``modified_beam_search``).

Shapes: C encoder frames in a chunk, J joiner width, V vocabulary, H hypotheses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DecoderFn = Callable[[np.ndarray], np.ndarray]  # y [H, context] int64 -> [H, J]
JoinerFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # [H, J], [H, J] -> [H, V]


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of ``x [H, V]`` (float64 inside, as a sum over V can lose bits)."""
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


@dataclass
class Hypothesis:
    """Tokens so far (without the blank context prefix) and the frame each was emitted at."""

    tokens: list[int]
    frames: list[int]
    log_prob: float = 0.0


class CTCGreedy:
    """Best path over CTC log-probs: collapse repeats, drop blanks."""

    def __init__(self, blank: int) -> None:
        self.blank = blank
        self._prev: int | None = None
        self.hyp = Hypothesis([], [])

    def advance(self, log_probs: np.ndarray, frame_offset: int) -> None:
        """Feed ``log_probs [C, V]`` whose first frame is encoder frame ``frame_offset``."""
        for i, tok in enumerate(log_probs.argmax(axis=-1).tolist()):
            if tok != self._prev and tok != self.blank:
                self.hyp.tokens.append(tok)
                self.hyp.frames.append(frame_offset + i)
            self._prev = tok

    def best(self) -> Hypothesis:
        return self.hyp


class TransducerGreedy:
    """RNN-T greedy search with at most ``max_symbols_per_frame`` tokens per frame."""

    def __init__(self, decoder: DecoderFn, joiner: JoinerFn, blank: int, context_size: int,
                 max_symbols_per_frame: int = 3) -> None:  # fmt: skip
        self.decoder, self.joiner = decoder, joiner
        self.blank, self.context_size = blank, context_size
        self.max_symbols = max_symbols_per_frame
        self._context = [blank] * context_size
        self._dec = decoder(np.array([self._context], dtype=np.int64))
        self.hyp = Hypothesis([], [])

    def advance(self, enc: np.ndarray, frame_offset: int) -> None:
        """Feed encoder frames ``enc [C, J]`` starting at encoder frame ``frame_offset``."""
        for t in range(enc.shape[0]):
            frame = enc[t : t + 1]
            for _ in range(self.max_symbols):
                tok = int(self.joiner(frame, self._dec)[0].argmax())
                if tok == self.blank:
                    break
                self.hyp.tokens.append(tok)
                self.hyp.frames.append(frame_offset + t)
                self._context = (self._context + [tok])[-self.context_size :]
                self._dec = self.decoder(np.array([self._context], dtype=np.int64))

    def best(self) -> Hypothesis:
        return self.hyp


class ModifiedBeamSearch:
    """RNN-T beam search, hypotheses merged by token sequence; up to N tokens per frame.

    Each frame runs up to ``max_symbols_per_frame`` rounds: the hypotheses still open at
    the frame are extended by every token, and of those extensions and the hypotheses
    already closed at the frame the ``beam`` best survive; a blank closes a hypothesis, a
    token keeps it open, and the last round closes it anyway. ``max_symbols_per_frame=1``
    is icefall's one-token-per-frame search; ``beam=1`` is exactly the greedy search.
    """

    def __init__(self, decoder: DecoderFn, joiner: JoinerFn, blank: int, context_size: int,
                 beam: int = 4, max_symbols_per_frame: int = 3) -> None:  # fmt: skip
        if beam < 1 or max_symbols_per_frame < 1:
            raise ValueError(f"beam and max_symbols_per_frame must be >= 1, got {beam}, {max_symbols_per_frame}")
        self.decoder, self.joiner = decoder, joiner
        self.blank, self.context_size, self.beam = blank, context_size, beam
        self.max_symbols = max_symbols_per_frame
        # key: the full token sequence with its blank prefix, as the reference keys it
        self.hyps: dict[tuple[int, ...], Hypothesis] = {(blank,) * context_size: Hypothesis([], [])}

    def advance(self, enc: np.ndarray, frame_offset: int) -> None:
        """Feed encoder frames ``enc [C, J]`` starting at encoder frame ``frame_offset``."""
        for t in range(enc.shape[0]):
            open_, closed = self.hyps, {}
            for r in range(self.max_symbols):
                if not open_:
                    break
                keys = list(open_)
                ctx = np.array([k[-self.context_size :] for k in keys], dtype=np.int64)
                frame = np.repeat(enc[t : t + 1], len(keys), axis=0)
                logp = log_softmax(self.joiner(frame, self.decoder(ctx)))  # [H, V]
                flat = (np.array([open_[k].log_prob for k in keys])[:, None] + logp).reshape(-1)
                k = min(self.beam, flat.size)
                top = np.argpartition(-flat, k - 1)[:k]
                top = top[np.argsort(-flat[top], kind="stable")]
                vocab = logp.shape[1]
                # (score, closes, key, hypothesis); those closed in earlier rounds compete too
                cands = [(h.log_prob, True, key, h) for key, h in closed.items()]
                for idx in top.tolist():
                    h, tok = divmod(idx, vocab)
                    old, s = open_[keys[h]], float(flat[idx])
                    if tok == self.blank:
                        cands.append((s, True, keys[h], Hypothesis(old.tokens, old.frames, s)))
                    else:
                        hyp = Hypothesis(old.tokens + [tok], old.frames + [frame_offset + t], s)
                        cands.append((s, r == self.max_symbols - 1, keys[h] + (tok,), hyp))
                cands.sort(key=lambda c: -c[0])
                open_, closed = {}, {}
                for s, closes, key, hyp in cands[: self.beam]:
                    pool = closed if closes else open_
                    if key in pool:
                        # Two paths to the same tokens in the same state: probabilities add.
                        pool[key].log_prob = float(np.logaddexp(pool[key].log_prob, s))
                    else:
                        pool[key] = Hypothesis(hyp.tokens, hyp.frames, s)
            self.hyps = closed

    def best(self) -> Hypothesis:
        return max(self.hyps.values(), key=lambda h: h.log_prob)


_SPECIAL = ("<blk>", "<unk>")


def tokens_to_text(ids: list[int], tokens: tuple[str, ...]) -> str:
    """Join token strings, turn ``▁`` into spaces and drop ``<blk>``/``<unk>``.

    This is ``todm.data.tokenizer.Tokenizer.decode`` without sentencepiece (the
    docs/architecture.md invariant), so a device needs only ``tokens.txt``.
    """
    text = "".join(t for t in (tokens[i] for i in ids) if t not in _SPECIAL)
    return " ".join(text.replace("\u2581", " ").split())
