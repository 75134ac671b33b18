"""Torch decoding: CTC best path, RNN-T greedy and modified beam search on known lattices."""

from __future__ import annotations

import itertools
import math

import torch

from todm.supernet.decode import ctc_greedy, greedy_search, modified_beam_search

BLANK, V, CTX = 0, 5, 2


def test_ctc_greedy_collapses_repeats_and_drops_blanks() -> None:
    path = [0, 1, 1, 0, 1, 2, 2, 0, 0, 3]
    lp = torch.log_softmax(10.0 * torch.nn.functional.one_hot(torch.tensor(path), V).float(), -1)
    assert ctc_greedy(lp, BLANK) == [1, 1, 2, 3]
    # With 1 as the blank, the blank between the zeros keeps them apart.
    assert ctc_greedy(lp, blank=1) == [0, 0, 2, 0, 3]


class TableTransducer:
    """A transducer whose joiner reads a fixed table ``logits[t, last_token]``.

    The "encoder frame" passed to the joiner is the frame index; the "decoder output"
    is the last context token. That makes every hypothesis's score exactly computable.
    """

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits  # [T, V(last token), V]

    def enc(self) -> torch.Tensor:
        return torch.arange(self.logits.shape[0], dtype=torch.float32)[:, None]

    def decoder(self, y: torch.Tensor) -> torch.Tensor:
        return y[:, -1:].float()

    def joiner(self, enc: torch.Tensor, dec: torch.Tensor) -> torch.Tensor:
        t = enc[:, 0].long()
        last = dec[:, 0].long()
        return self.logits[t, last]

    def seq_logprob(self, tokens: list[int]) -> float:
        """log P(tokens), one symbol at most per frame (the modified topology), all alignments."""
        lp = torch.log_softmax(self.logits, -1)
        t_len = lp.shape[0]
        total = -math.inf
        for frames in itertools.combinations(range(t_len), len(tokens)):
            s, last, k = 0.0, BLANK, 0
            for t in range(t_len):
                if k < len(tokens) and frames[k] == t:
                    s += float(lp[t, last, tokens[k]])
                    last = tokens[k]
                    k += 1
                else:
                    s += float(lp[t, last, BLANK])
            total = s if total == -math.inf else max(total, s) + math.log1p(math.exp(-abs(total - s)))
        return total


def test_greedy_follows_the_argmax_and_may_emit_several_symbols_per_frame() -> None:
    logits = torch.full((3, V, V), -5.0)
    logits[:, :, BLANK] = 0.0
    logits[0, BLANK, 2] = 5.0  # frame 0: emit 2, then 3, then blank
    logits[0, 2, 3] = 5.0
    logits[2, 3, 4] = 5.0  # frame 2: emit 4 (after 3, or after 2 when one symbol per frame)
    logits[2, 2, 4] = 5.0
    m = TableTransducer(logits)
    assert greedy_search(m.enc(), m.decoder, m.joiner, BLANK, CTX) == [2, 3, 4]
    assert greedy_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, max_symbols_per_frame=1) == [2, 4]


def test_beam_one_equals_one_symbol_greedy() -> None:
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        m = TableTransducer(2.0 * torch.randn(6, V, V, generator=g))
        greedy = greedy_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, max_symbols_per_frame=1)
        assert modified_beam_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, beam=1, max_symbols_per_frame=1) == greedy


def test_beam_one_equals_greedy_with_several_symbols_per_frame() -> None:
    g = torch.Generator().manual_seed(2)
    emitted_twice = 0
    for _ in range(8):
        # tokens favoured over blank: the greedy path emits several symbols on some frames
        logits = 2.0 * torch.randn(6, V, V, generator=g)
        logits[:, :, BLANK] -= 1.0
        m = TableTransducer(logits)
        greedy = greedy_search(m.enc(), m.decoder, m.joiner, BLANK, CTX)
        emitted_twice += len(greedy) > 6
        assert modified_beam_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, beam=1) == greedy
    assert emitted_twice > 0


def test_beam_keeps_several_symbols_on_one_frame() -> None:
    logits = torch.full((3, V, V), -5.0)
    logits[:, :, BLANK] = 0.0
    logits[0, BLANK, 2] = 5.0  # frame 0: 2 then 3; frame 2: 4
    logits[0, 2, 3] = 5.0
    logits[2, 3, 4] = 5.0
    logits[2, 2, 4] = 5.0
    m = TableTransducer(logits)
    assert modified_beam_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, beam=4) == [2, 3, 4]
    assert modified_beam_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, beam=4, max_symbols_per_frame=1) == [2, 4]


def test_wide_beam_finds_the_most_probable_sequence() -> None:
    g = torch.Generator().manual_seed(1)
    t_len = 4
    for _ in range(3):
        m = TableTransducer(1.5 * torch.randn(t_len, V, V, generator=g))
        best, best_lp = None, -math.inf
        for n in range(t_len + 1):
            for seq in itertools.product(range(1, V), repeat=n):
                lp = m.seq_logprob(list(seq))
                if lp > best_lp:
                    best, best_lp = list(seq), lp
        # With hyps merged by token sequence and a beam wider than all of them, the
        # search is exact.
        got = modified_beam_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, beam=V**t_len, max_symbols_per_frame=1)
        assert got == best


def _multi_symbol_logprob(m: TableTransducer, tokens: list[int], max_per_frame: int) -> float:
    """log P(tokens) when a frame may carry up to ``max_per_frame`` tokens; a frame ends with a
    blank, except one that carries the maximum, which ends without one (the search's rule)."""
    lp = torch.log_softmax(m.logits, -1)
    t_len, total = lp.shape[0], -math.inf
    for counts in itertools.product(range(max_per_frame + 1), repeat=t_len):
        if sum(counts) != len(tokens):
            continue
        s, last, k = 0.0, BLANK, 0
        for t, c in enumerate(counts):
            for _ in range(c):
                s += float(lp[t, last, tokens[k]])
                last = tokens[k]
                k += 1
            if c < max_per_frame:
                s += float(lp[t, last, BLANK])
        total = s if total == -math.inf else max(total, s) + math.log1p(math.exp(-abs(total - s)))
    return total


def test_wide_beam_with_several_symbols_per_frame_is_exact() -> None:
    g = torch.Generator().manual_seed(3)
    t_len, per_frame = 3, 2
    for _ in range(3):
        m = TableTransducer(1.5 * torch.randn(t_len, V, V, generator=g))
        best, best_lp = None, -math.inf
        for n in range(t_len * per_frame + 1):
            for seq in itertools.product(range(1, V), repeat=n):
                lp = _multi_symbol_logprob(m, list(seq), per_frame)
                if lp > best_lp:
                    best, best_lp = list(seq), lp
        got = modified_beam_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, beam=10**6,
                                   max_symbols_per_frame=per_frame)  # fmt: skip
        assert got == best


def test_beam_beats_greedy_where_greedy_commits_early() -> None:
    # Frame 0: blank 0.55 vs token 1 0.45 -> greedy takes blank, but after token 1 the
    # rest is near-certain, while after blank everything is spread out.
    logits = torch.zeros(2, V, V)
    logits[0, BLANK] = torch.log(torch.tensor([0.55, 0.45, 1e-6, 1e-6, 1e-6]))
    logits[1, BLANK] = torch.log(torch.tensor([0.2, 0.2, 0.2, 0.2, 0.2]))
    logits[1, 1] = torch.log(torch.tensor([0.999, 1e-6, 1e-6, 1e-6, 1e-6]))
    m = TableTransducer(logits)
    greedy = greedy_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, max_symbols_per_frame=1)
    beam = modified_beam_search(m.enc(), m.decoder, m.joiner, BLANK, CTX, beam=4, max_symbols_per_frame=1)
    assert greedy == []
    assert beam == [1]
    assert m.seq_logprob(beam) > m.seq_logprob(greedy)


def test_lstm_history_decoder_matches_teacher_forcing() -> None:
    from todm.supernet.decode import LSTMHistoryDecoder
    from todm.supernet.model import Supernet
    from todm.supernet.model_config import tiny_config

    torch.manual_seed(0)
    m = Supernet(tiny_config(predictor="lstm")).eval()
    tokens = (3, 7, 5, 7)
    with torch.no_grad():
        forced = m.decoder_seq(torch.tensor([tokens]))[0]  # [U+1, J]
    dec = LSTMHistoryDecoder(m.predictor)
    # out of order and repeated: states come from the memo or are extended from a prefix
    histories = [tokens[:3], (), tokens, tokens[:1], tokens[:3]]
    got = dec(histories)
    for row, h in zip(got, histories):
        torch.testing.assert_close(row, forced[len(h)], rtol=0, atol=1e-6)


def test_greedy_with_an_lstm_predictor_equals_rerunning_it_on_each_history() -> None:
    from todm.supernet.decode import LSTMHistoryDecoder
    from todm.supernet.model import Supernet
    from todm.supernet.model_config import tiny_config

    torch.manual_seed(1)
    m = Supernet(tiny_config(predictor="lstm")).eval()
    with torch.no_grad():
        enc, lens = m(torch.randn(1, 60, 80), torch.tensor([60]))
        proj = m.encoder_proj(enc)[0, : int(lens[0])]
        # The joiner's bias pushes tokens over blank, so the search emits several tokens per frame.
        m.joiner.out.bias[m.config.blank_id] -= 2.0

    def rerun(histories):  # the LSTM teacher-forced over each whole history: slow and obviously right
        return torch.cat([m.decoder_seq(torch.tensor([h], dtype=torch.long))[:, -1] for h in histories])

    for symbols in (1, 3):
        fast = greedy_search(proj, None, m.joiner, m.config.blank_id, m.config.context_size, symbols,
                             history_decoder=LSTMHistoryDecoder(m.predictor))  # fmt: skip
        slow = greedy_search(proj, None, m.joiner, m.config.blank_id, m.config.context_size, symbols,
                             history_decoder=rerun)  # fmt: skip
        assert fast == slow and len(fast) > 3
        beam1 = modified_beam_search(proj, None, m.joiner, m.config.blank_id, m.config.context_size, beam=1,
                                     max_symbols_per_frame=symbols, history_decoder=LSTMHistoryDecoder(m.predictor))  # fmt: skip
        assert beam1 == fast
