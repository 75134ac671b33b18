"""Tokenizers: SentencePiece (BPE or unigram) or characters, with blank at id 0.

Token strings mark a word start (or, for characters, a space) with ``▁``. Decoding joins
the token strings and turns ``▁`` into spaces, so a device (and sherpa-onnx) decodes with
``tokens.txt`` alone; SentencePiece is needed only to encode training text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from todm.bundle import TOKENS_NAME, atomic_write_text, read_tokens, write_tokens
from todm.errors import ConfigError, DataError

BLANK = "<blk>"
UNK = "<unk>"
WORD_START = "\u2581"  # ▁
KINDS = ("bpe", "unigram", "char")
_META = "tokenizer.json"
_SP_MODEL = "sentencepiece.model"


def tokens_to_text(tokens: Iterable[str]) -> str:
    """Join token strings into text (the decoding every runtime uses)."""
    return " ".join("".join(t for t in tokens if t not in (BLANK, UNK)).replace(WORD_START, " ").split())


class Tokenizer:
    """Maps normalized text to token ids and back. ``blank_id`` is always 0."""

    blank_id = 0

    def __init__(self, kind: str, tokens: Sequence[str], sp_model: bytes | None = None) -> None:
        if kind not in KINDS:
            raise ConfigError(f"tokenizer kind {kind!r} is not one of {KINDS}")
        if tokens[0] != BLANK:
            raise DataError(f"token 0 must be {BLANK!r}, got {tokens[0]!r}")
        self.kind = kind
        self.tokens = list(tokens)
        self._index = {t: i for i, t in enumerate(self.tokens)}
        self._sp = None
        if kind != "char":
            if sp_model is None:
                raise DataError(f"a {kind} tokenizer needs its SentencePiece model")
            import sentencepiece as spm

            self._sp = spm.SentencePieceProcessor(model_proto=sp_model)
            self._sp_model = sp_model

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """Token ids of normalized ``text`` (never the blank)."""
        if self._sp is not None:
            return [int(i) for i in self._sp.encode(text)]
        unk = self._index[UNK]
        return [self._index.get(WORD_START if c == " " else c, unk) for c in " ".join(text.split())]

    def decode(self, ids: Iterable[int]) -> str:
        return tokens_to_text(self.tokens[i] for i in ids)

    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self._sp is not None:
            tmp = directory / f".{_SP_MODEL}.tmp"
            tmp.write_bytes(self._sp_model)
            tmp.replace(directory / _SP_MODEL)
        write_tokens(directory / TOKENS_NAME, self.tokens)
        meta = {"kind": self.kind, "vocab_size": self.vocab_size, "blank_id": self.blank_id}
        atomic_write_text(directory / _META, json.dumps(meta, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: Path) -> Tokenizer:
        directory = Path(directory)
        meta_path = directory / _META
        if not meta_path.is_file():
            raise DataError(f"{meta_path}: no tokenizer here (expected {_META}, {TOKENS_NAME})")
        try:
            meta = json.loads(meta_path.read_text())
            kind = meta["kind"]
        except (json.JSONDecodeError, KeyError) as e:
            raise DataError(f"{meta_path}: malformed tokenizer metadata ({e})") from None
        tokens = read_tokens(directory / TOKENS_NAME)
        sp = None
        if kind != "char":
            sp_path = directory / _SP_MODEL
            if not sp_path.is_file():
                raise DataError(f"{sp_path}: SentencePiece model missing")
            sp = sp_path.read_bytes()
        return cls(kind, tokens, sp)


def train_tokenizer(
    texts: Iterable[str], kind: str, vocab_size: int, out_dir: Path | None = None
) -> Tokenizer:
    """Train a tokenizer on normalized texts; saved to ``out_dir`` when given.

    ``vocab_size`` counts every token, blank and unk included; for ``char`` it is ignored
    (the vocabulary is the characters seen).
    """
    texts = [" ".join(t.split()) for t in texts if t.strip()]
    if not texts:
        raise DataError("no text to train a tokenizer on")
    if kind == "char":
        chars = sorted({c for t in texts for c in t} - {" "})
        tok = Tokenizer("char", [BLANK, UNK, WORD_START, *chars])
    elif kind in ("bpe", "unigram"):
        import io

        import sentencepiece as spm

        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(texts),
                model_writer=model,
                model_type=kind,
                vocab_size=vocab_size,
                character_coverage=1.0,
                pad_id=0,
                pad_piece=BLANK,
                unk_id=1,
                unk_piece=UNK,
                bos_id=-1,
                eos_id=-1,
                hard_vocab_limit=kind == "unigram",
                minloglevel=2,
            )
        except RuntimeError as e:
            raise ConfigError(f"SentencePiece could not train a {kind} model of size {vocab_size}: {e}") from None
        proto = model.getvalue()
        sp = spm.SentencePieceProcessor(model_proto=proto)
        tok = Tokenizer(kind, [sp.id_to_piece(i) for i in range(sp.get_piece_size())], proto)
    else:
        raise ConfigError(f"tokenizer kind {kind!r} is not one of {KINDS}")
    if out_dir is not None:
        tok.save(out_dir)
    return tok
