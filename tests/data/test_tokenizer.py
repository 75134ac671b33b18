from __future__ import annotations

from pathlib import Path

import pytest

from todm.bundle import read_tokens
from todm.data.text import read_fortunes, sentences_from
from todm.data.tokenizer import Tokenizer, tokens_to_text, train_tokenizer
from todm.errors import DataError


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return sentences_from(read_fortunes())[:2000]


@pytest.mark.parametrize("kind,size", [("bpe", 300), ("unigram", 300), ("char", 0)])
def test_round_trip_and_token_join_invariant(kind: str, size: int, texts: list[str], tmp_path: Path) -> None:
    tok = train_tokenizer(texts, kind, size, tmp_path)
    back = Tokenizer.load(tmp_path)
    assert back.tokens == tok.tokens and tok.tokens[0] == "<blk>" and tok.blank_id == 0
    if kind != "char":
        assert tok.vocab_size == size
    assert read_tokens(tmp_path / "tokens.txt") == tuple(tok.tokens)
    for t in texts[:200]:
        ids = back.encode(t)
        assert ids and 0 not in ids
        assert back.decode(ids) == t
        # What a device (or sherpa-onnx) does with tokens.txt alone.
        assert tokens_to_text(back.tokens[i] for i in ids) == t


def test_unknown_characters_map_to_unk(tmp_path: Path) -> None:
    tok = train_tokenizer(["abc ab"], "char", 0)
    assert tok.encode("abz") == [tok.tokens.index("a"), tok.tokens.index("b"), 1]


def test_missing_tokenizer_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="tokenizer.json"):
        Tokenizer.load(tmp_path)
