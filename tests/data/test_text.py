import numpy as np

from todm.data.domains import command_sentences, digit_sentences
from todm.data.text import normalize_text, number_to_words, sentences_from


def test_numbers_spelled() -> None:
    assert number_to_words(0) == "zero"
    assert number_to_words(115) == "one hundred fifteen"
    assert number_to_words(2_000_042) == "two million forty two"
    assert normalize_text("The 3rd of 12 in 1999: 4.5%") == (
        "the third of twelve in nineteen ninety nine four point five percent"
    )


def test_normalization_keeps_words_and_apostrophes() -> None:
    assert normalize_text('"Don\'t PANIC!"  -- said   Ford.') == "don't panic said ford"
    assert normalize_text("'quoted' rock'n'roll") == "quoted rock'n'roll"
    assert normalize_text("?!...") == ""


def test_sentences_are_split_filtered_and_deduplicated() -> None:
    paras = ["One two three four. One two three four! Too short.", "Five six seven eight nine?"]
    assert sentences_from(paras, min_words=4, max_words=5) == [
        "one two three four",
        "five six seven eight nine",
    ]


def test_small_domains() -> None:
    d = digit_sentences(50, np.random.default_rng(0))
    assert len(set(d)) == 50 and all(2 <= len(s.split()) <= 5 for s in d)
    assert len(set(command_sentences())) == len(command_sentences()) > 500


def test_titles_are_spelled_and_do_not_end_sentences() -> None:
    from todm.data.text import split_sentences

    assert split_sentences("Ask Mr. Smith. He knows! Dr. No? Yes.") == [
        "Ask Mr. Smith.", "He knows!", "Dr. No?", "Yes.",
    ]
    assert normalize_text("Mr. and Mrs. Jones vs. Dr. Who, etc.") == (
        "mister and missus jones versus doctor who et cetera"
    )
