"""Text for speech corpora: normalization, number spelling, sentence splitting, sources.

Normalized text is lowercase ASCII letters, apostrophes and single spaces: what a
tokenizer is trained on and what WER is computed on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

FORTUNES_DIR = Path("/usr/share/games/fortunes")

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
# Abbreviations a synthesizer reads as words; spelled out so the transcript says what
# the audio says. Titles also never end a sentence.
_ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "dr": "doctor", "prof": "professor", "jr": "junior",
    "sr": "senior", "vs": "versus", "etc": "et cetera",
}  # fmt: skip
_TITLES = {"mr", "mrs", "ms", "dr", "prof", "jr", "sr", "st", "vs"}
_ABBREVIATION_RE = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\b\.?")
_ORDINAL_SUFFIX = re.compile(r"^(\d+)(st|nd|rd|th)$")
_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip


def number_to_words(n: int) -> str:
    """Spell a non-negative integer in English words ("one hundred and five" style, no 'and')."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + number_to_words(rest))
    for value, name in _SCALES:
        if n >= value:
            high, rest = divmod(n, value)
            return (
                number_to_words(high) + " " + name + ("" if rest == 0 else " " + number_to_words(rest))
            )
    raise ValueError(n)  # unreachable: every n >= 1000 matches a scale


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINALS:
        last = _ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return (head + " " + last).strip()


def _spell_number_token(tok: str) -> str:
    m = _ORDINAL_SUFFIX.match(tok)
    if m:
        return _ordinal(number_to_words(int(m.group(1))))
    if re.fullmatch(r"\d{4}", tok) and 1100 <= int(tok) <= 2099 and int(tok) % 100 >= 10:
        # Years read as pairs: 1984 -> nineteen eighty four.
        return number_to_words(int(tok[:2])) + " " + number_to_words(int(tok[2:]))
    if len(tok) > 15:
        # Long digit strings (phone numbers, ids) are read digit by digit.
        return " ".join(_ONES[int(d)] for d in tok)
    return number_to_words(int(tok))


def normalize_text(text: str) -> str:
    """Lowercase, spell out numbers, keep letters and apostrophes, collapse whitespace.

    >>> normalize_text("In 1984, I paid $3.50 for 2 tickets!")
    'in nineteen eighty four i paid three point five zero for two tickets'
    """
    s = text.lower().replace("\u2019", "'").replace("&", " and ").replace("%", " percent ")
    s = s.replace("$", " ")
    s = _ABBREVIATION_RE.sub(lambda m: f" {_ABBREVIATIONS[m.group(1)]} ", s)

    def decimal(m: re.Match[str]) -> str:
        whole, frac = m.group(1), m.group(2)
        return f" {_spell_number_token(whole)} point {' '.join(_ONES[int(d)] for d in frac)} "

    s = re.sub(r"(\d+)\.(\d+)", decimal, s)
    s = re.sub(r"(\d),(?=\d{3})", r"\1", s)
    s = re.sub(r"\d+(?:st|nd|rd|th)\b|\d+", lambda m: f" {_spell_number_token(m.group(0))} ", s)
    s = re.sub(r"[^a-z' ]+", " ", s)
    # Apostrophes only inside words ("don't"), not quotes.
    s = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", s)
    return " ".join(s.split())


def split_sentences(text: str) -> list[str]:
    """Split raw prose into sentences at ., ! and ? (before normalization).

    A period after a title ("Mr. Smith") does not end a sentence.
    """
    text = " ".join(text.split())
    parts, start = [], 0
    for m in re.finditer(r"[.!?]\s+(?=[\"'(A-Z0-9])", text):
        word = re.search(r"(\w+)$", text[start : m.start()])
        if m.group(0)[0] == "." and word and word.group(1).lower() in _TITLES:
            continue
        parts.append(text[start : m.start() + 1])
        start = m.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def read_fortunes(directory: Path = FORTUNES_DIR) -> Iterator[str]:
    """Yield the raw fortunes of Debian's fortune files (entries separated by '%' lines)."""
    if not directory.is_dir():
        from todm.errors import DataError

        raise DataError(
            f"{directory}: fortunes directory not found; install Debian's 'fortunes' package "
            "(scripts/setup.sh does) or pass --text FILE"
        )
    for path in sorted(directory.iterdir()):
        if path.suffix in (".dat", ".u8") or not path.is_file() or path.is_symlink():
            continue
        raw = path.read_bytes().decode("utf-8", errors="replace")
        for entry in raw.split("\n%\n"):
            entry = entry.strip()
            if entry:
                yield entry


def read_text_file(path: Path) -> Iterator[str]:
    """Yield paragraphs (blank-line separated) of a UTF-8 text file."""
    from todm.errors import DataError

    try:
        raw = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: text file not found") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not valid UTF-8 at byte {e.start}") from None
    for para in re.split(r"\n\s*\n", raw):
        if para.strip():
            yield para


def sentences_from(
    paragraphs: Iterable[str], min_words: int = 4, max_words: int = 20
) -> list[str]:
    """Normalized, de-duplicated sentences whose word count lies in [min_words, max_words].

    Order is the order of first appearance, so the result is deterministic.
    """
    seen: set[str] = set()
    out: list[str] = []
    for para in paragraphs:
        # Fortune attributions ("-- Mark Twain") are not sentences.
        para = re.sub(r"\n\s*--.*$", "", para, flags=re.S)
        for sent in split_sentences(para):
            norm = normalize_text(sent)
            n = len(norm.split())
            if min_words <= n <= max_words and norm not in seen:
                seen.add(norm)
                out.append(norm)
    return out
