"""Sentence sources per domain: open prose, or small vocabularies that train in minutes."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from todm.data.text import _ONES, read_fortunes, read_text_file, sentences_from
from todm.errors import ConfigError

DOMAINS = ("open", "digits", "commands")

_ACTIONS = ("turn on", "turn off", "dim", "brighten", "check", "reset")
_DEVICES = ("lights", "lamp", "heater", "fan", "radio", "television", "speaker", "oven")
_ROOMS = ("kitchen", "bedroom", "living room", "bathroom", "garage", "office", "hallway")
_EXTRAS = ("", " please", " now")


def digit_sentences(count: int, rng: np.random.Generator, min_len: int = 2, max_len: int = 5) -> list[str]:
    """``count`` distinct digit strings ("three one four"), lengths in [min_len, max_len]."""
    capacity = sum(10**n for n in range(min_len, max_len + 1))
    if count > capacity:
        raise ConfigError(
            f"num_utts: {count} is more than the {capacity} distinct digit strings of "
            f"{min_len}-{max_len} digits"
        )
    out: dict[str, None] = {}
    while len(out) < count:
        n = int(rng.integers(min_len, max_len + 1))
        out[" ".join(_ONES[int(d)] for d in rng.integers(0, 10, size=n))] = None
    return list(out)


def command_sentences() -> list[str]:
    """Every sentence of the small home-command grammar (a fixed order)."""
    return [
        f"{a} the {r} {d}{e}"
        for a, d, r, e in itertools.product(_ACTIONS, _DEVICES, _ROOMS, _EXTRAS)
    ]


def domain_sentences(
    domain: str,
    count: int,
    rng: np.random.Generator,
    text_file: Path | None = None,
    min_words: int = 4,
    max_words: int = 20,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """Up to ``count`` distinct normalized sentences of ``domain``, shuffled by ``rng``, none in ``exclude``."""
    if domain == "digits":
        return [s for s in digit_sentences(count, rng) if s not in exclude]
    if domain == "commands":
        pool = command_sentences()
    elif domain == "open":
        paragraphs = read_text_file(text_file) if text_file else read_fortunes()
        pool = sentences_from(paragraphs, min_words, max_words)
    else:
        raise ConfigError(f"domain: {domain!r} is not one of {DOMAINS}")
    pool = [s for s in pool if s not in exclude]
    order = rng.permutation(len(pool))
    return [pool[i] for i in order[:count]]
