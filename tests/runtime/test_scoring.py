"""Per-utterance error counts and the paired bootstrap of a WER ratio."""

from __future__ import annotations

import jiwer
import pytest

from todm.runtime.scoring import (
    UtteranceErrors,
    corpus_rates,
    paired_bootstrap_ratio,
    utterance_errors,
)

REFS = ["the cat sat on the mat", "hello world", "a b c d", "one two three four five"]
HYPS = ["the cat sat on mat", "helo world there", "", "one two three four five"]


def test_counts_add_up_to_jiwer_corpus_rates() -> None:
    errs = utterance_errors(REFS, HYPS)
    assert [e.words for e in errs] == [6, 2, 4, 5]
    assert [e.word_errors for e in errs] == [1, 2, 4, 0]  # deletion; sub + insertion; 4 deletions; none
    rates = corpus_rates(errs)
    assert rates["wer"] == pytest.approx(100 * jiwer.wer(REFS, HYPS), abs=0.01)
    assert rates["cer"] == pytest.approx(100 * jiwer.cer(REFS, HYPS), abs=0.01)
    assert rates["words"] == 17
    assert UtteranceErrors.from_dict(errs[0].to_dict()) == errs[0]


def test_mismatched_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="2 references but 1"):
        utterance_errors(["a", "b"], ["a"])


def _system(errors_per_utt: list[int], words: int = 10) -> list[UtteranceErrors]:
    return [UtteranceErrors(words, e, 5 * words, 2 * e) for e in errors_per_utt]


def test_identical_systems_give_a_point_interval_at_one() -> None:
    a = _system([1, 3, 0, 2, 5, 1] * 10)
    iv = paired_bootstrap_ratio(a, a)
    assert (iv.ratio, iv.low, iv.high) == (1.0, 1.0, 1.0)


def test_a_clear_difference_excludes_one_and_a_small_one_does_not() -> None:
    base = [2, 3, 1, 4, 2, 3, 2, 1, 3, 2] * 10  # 100 utterances, ~23% WER
    worse = [e + 1 for e in base]  # one more error in every utterance: ratio ~1.43
    iv = paired_bootstrap_ratio(_system(worse), _system(base))
    assert iv.low <= iv.ratio <= iv.high
    assert iv.low > 1.2, iv
    # two extra errors in one utterance out of 100: indistinguishable from chance
    near = list(base)
    near[7] += 2
    iv = paired_bootstrap_ratio(_system(near), _system(base))
    assert iv.ratio == pytest.approx(232 / 230)
    assert iv.low <= 1.0 <= iv.high, iv
    # the same seed gives the same interval; the character unit reads the char counts
    assert paired_bootstrap_ratio(_system(near), _system(base)) == iv
    assert paired_bootstrap_ratio(_system(near), _system(base), unit="char").ratio == pytest.approx(232 / 230)


def test_bootstrap_refuses_what_it_cannot_compare() -> None:
    a = _system([1, 2])
    with pytest.raises(ValueError, match="same non-empty"):
        paired_bootstrap_ratio(a, a[:1])
    with pytest.raises(ValueError, match="different references"):
        paired_bootstrap_ratio(a, _system([1, 2], words=11))
    with pytest.raises(ValueError, match="no error"):
        paired_bootstrap_ratio(a, _system([0, 0]))
    with pytest.raises(ValueError, match="unit"):
        paired_bootstrap_ratio(a, a, unit="phone")
