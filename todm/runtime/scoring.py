"""Per-utterance error counts and how sure a WER comparison is.

Two systems decoded on one test set differ by a few words out of a thousand; whether
that is a real difference or the luck of which sentences were drawn is what a paired
bootstrap over utterances answers (Bisani and Ney, 2004): resample the utterances with
replacement, recompute both corpus WERs on each resample, and read the interval of their
ratio. Torch-free, like the rest of ``todm.runtime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class UtteranceErrors:
    """Edit-distance errors of one utterance against its reference, by words and by characters."""

    words: int
    word_errors: int
    chars: int
    char_errors: int

    def to_dict(self) -> dict[str, int]:
        return {"words": self.words, "word_errors": self.word_errors,
                "chars": self.chars, "char_errors": self.char_errors}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UtteranceErrors:
        return cls(int(d["words"]), int(d["word_errors"]), int(d["chars"]), int(d["char_errors"]))


def _errors_per_sentence(alignments: list[list[Any]]) -> list[int]:
    out = []
    for chunks in alignments:
        n = 0
        for c in chunks:
            if c.type == "substitute" or c.type == "delete":
                n += c.ref_end_idx - c.ref_start_idx
            elif c.type == "insert":
                n += c.hyp_end_idx - c.hyp_start_idx
        out.append(n)
    return out


def utterance_errors(refs: list[str], hyps: list[str]) -> list[UtteranceErrors]:
    """Word and character errors of each (reference, hypothesis) pair; the sums give jiwer's corpus WER/CER.

    References must be non-empty (jiwer's rule; a normalized transcript always is).
    """
    import jiwer

    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if not refs:
        return []
    words = jiwer.process_words(refs, hyps)
    chars = jiwer.process_characters(refs, hyps)
    return [
        UtteranceErrors(len(w_ref), we, len(c_ref), ce)
        for w_ref, we, c_ref, ce in zip(words.references, _errors_per_sentence(words.alignments),
                                        chars.references, _errors_per_sentence(chars.alignments))  # fmt: skip
    ]


@dataclass(frozen=True)
class RatioInterval:
    """``ratio`` = WER(a) / WER(b) on the whole set, and its paired-bootstrap interval."""

    ratio: float
    low: float
    high: float
    confidence: float
    resamples: int

    def to_dict(self) -> dict[str, float | int]:
        return {"ratio": round(self.ratio, 4), "low": round(self.low, 4), "high": round(self.high, 4),
                "confidence": self.confidence, "resamples": self.resamples}  # fmt: skip


def paired_bootstrap_ratio(
    a: list[UtteranceErrors],
    b: list[UtteranceErrors],
    unit: str = "word",
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> RatioInterval:
    """Interval of error-rate ratio a / b over utterances resampled with replacement.

    ``a`` and ``b`` are the same utterances in the same order, decoded by two systems
    (the reference lengths must agree). ``unit`` is ``"word"`` (WER) or ``"char"`` (CER).
    A resample where b has no error at all is left out of the interval (its ratio is
    undefined); the count of those stays visible through ``resamples``.
    """
    if len(a) != len(b) or not a:
        raise ValueError(f"paired bootstrap needs the same non-empty utterances: {len(a)} vs {len(b)}")
    if unit not in ("word", "char"):
        raise ValueError(f"unit must be 'word' or 'char', not {unit!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), not {confidence}")
    length = "words" if unit == "word" else "chars"
    errs = "word_errors" if unit == "word" else "char_errors"
    if any(getattr(x, length) != getattr(y, length) for x, y in zip(a, b)):
        raise ValueError("the two systems were scored on different references")
    ea = np.array([getattr(x, errs) for x in a], dtype=np.float64)
    eb = np.array([getattr(x, errs) for x in b], dtype=np.float64)
    if eb.sum() == 0:
        raise ValueError("system b makes no error at all: the ratio is undefined")
    # The references' length cancels in the ratio of two WERs on the same resample.
    idx = np.random.default_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    sa, sb = ea[idx].sum(axis=1), eb[idx].sum(axis=1)
    ok = sb > 0
    ratios = sa[ok] / sb[ok]
    tail = (1 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return RatioInterval(float(ea.sum() / eb.sum()), float(low), float(high), confidence, int(ok.sum()))


def corpus_rates(errors: list[UtteranceErrors]) -> dict[str, float | int]:
    """Corpus WER and CER in percent (errors summed over utterances, not averaged) and the word count."""
    words = sum(e.words for e in errors)
    chars = sum(e.chars for e in errors)
    return {"wer": round(100 * sum(e.word_errors for e in errors) / words, 2) if words else 0.0,
            "cer": round(100 * sum(e.char_errors for e in errors) / chars, 2) if chars else 0.0,
            "words": words}  # fmt: skip
