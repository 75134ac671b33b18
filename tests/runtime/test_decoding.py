"""The numpy searches against the eager PyTorch reference (todm.supernet.decode) on random
predictor/joiner functions, fed whole or in chunks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from todm.runtime.decoding import (
    CTCGreedy,
    ModifiedBeamSearch,
    TransducerGreedy,
    log_softmax,
    tokens_to_text,
)

torch = pytest.importorskip("torch")
from todm.supernet import decode as ref  # noqa: E402

V, J, CTX = 7, 6, 2


def _model(seed: int, blank_bias: float):
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((V, J)).astype(np.float32)
    wo = rng.standard_normal((J, V)).astype(np.float32) * 3
    wo[:, 0] += blank_bias

    def dec_np(y):
        return emb[y].sum(1)

    def join_np(e, d):
        return np.tanh(e + d) @ wo

    def dec_t(y):
        return torch.from_numpy(dec_np(y.numpy()))

    def join_t(e, d):
        return torch.from_numpy(join_np(e.numpy(), d.numpy()))

    enc = rng.standard_normal((23, J)).astype(np.float32)
    return enc, dec_np, join_np, dec_t, join_t


def _feed(search, enc, chunk):
    for s in range(0, len(enc), chunk):
        search.advance(enc[s : s + chunk], s)
    return search.best()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk", [1, 4, 23])
def test_greedy_matches_reference(seed, chunk):
    enc, dn, jn, dt, jt = _model(seed, blank_bias=0.5)
    want = ref.greedy_search(torch.from_numpy(enc), dt, jt, 0, CTX)
    hyp = _feed(TransducerGreedy(dn, jn, 0, CTX), enc, chunk)
    assert hyp.tokens == want
    assert len(hyp.frames) == len(hyp.tokens) and hyp.frames == sorted(hyp.frames)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("beam", [1, 2, 4])
@pytest.mark.parametrize("max_symbols", [1, 3])
def test_modified_beam_search_matches_reference(seed, beam, max_symbols):
    enc, dn, jn, dt, jt = _model(seed, blank_bias=1.0)
    want = ref.modified_beam_search(torch.from_numpy(enc), dt, jt, 0, CTX, beam=beam,
                                    max_symbols_per_frame=max_symbols)  # fmt: skip
    got = _feed(ModifiedBeamSearch(dn, jn, 0, CTX, beam=beam, max_symbols_per_frame=max_symbols), enc, 5)
    assert got.tokens == want
    assert len(got.frames) == len(got.tokens)
    assert max(Counter(got.frames).values(), default=0) <= max_symbols


def test_beam_search_is_not_worse_than_greedy_in_score():
    # a beam keeps the greedy one-symbol path among its candidates, so its best score is >= it
    enc, dn, jn, _, _ = _model(3, blank_bias=1.0)
    b1 = _feed(ModifiedBeamSearch(dn, jn, 0, CTX, beam=1), enc, 23)
    b8 = _feed(ModifiedBeamSearch(dn, jn, 0, CTX, beam=8), enc, 23)
    assert b8.log_prob >= b1.log_prob - 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_ctc_greedy_matches_reference_across_chunk_boundaries(seed):
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.standard_normal((40, V)) * 2).astype(np.float32)
    lp[10:12, 3] = 10.0  # a repeat straddling a chunk boundary must collapse
    want = ref.ctc_greedy(torch.from_numpy(lp), 0)
    s = CTCGreedy(0)
    for a in range(0, 40, 11):
        s.advance(lp[a : a + 11], a)
    assert s.best().tokens == want


def test_tokens_to_text_matches_tokenizer_invariant():
    from todm.data.tokenizer import tokens_to_text as ref_text

    toks = ("<blk>", "\u2581one", "\u2581t", "wo", "<unk>", "\u2581")
    ids = [1, 2, 3, 4, 5, 1]
    assert tokens_to_text(ids, toks) == ref_text(toks[i] for i in ids) == "one two one"
