"""Training batches: manifest -> (fbank, tokens), duration-bucketed, deterministic, resumable.

Batch composition is fixed (utterances sorted by duration, cut at ``max_batch_seconds``);
the order of batches in epoch ``e`` is a permutation drawn from ``(seed, e)``. A position
``(epoch, batch_index)`` therefore names exactly where training is, which is what a
checkpoint records for resume.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from todm.bundle import FeatureSettings
from todm.data.audio import load_audio
from todm.data.fbank_torch import fbank_batch
from todm.data.manifest import Utterance, read_manifest
from todm.data.tokenizer import Tokenizer
from todm.errors import DataError
from todm.supernet.augment import speed_perturb

# Corpora up to this much audio are kept in memory (decoded audio and features).
CACHE_MAX_SECONDS = 2 * 3600.0


@dataclass
class Batch:
    """feats [B, T, 80] raw fbank, feat_lens [B], tokens [B, U], token_lens [B], ids."""

    feats: torch.Tensor
    feat_lens: torch.Tensor
    tokens: torch.Tensor
    token_lens: torch.Tensor
    ids: list[str]

    def to(self, device: torch.device) -> Batch:
        return Batch(self.feats.to(device), self.feat_lens.to(device), self.tokens.to(device),
                     self.token_lens.to(device), self.ids)  # fmt: skip


class SpeechBatches:
    """Deterministic, resumable batches over a manifest.

    Args:
        manifest: JSONL manifest path.
        tokenizer: encodes the texts.
        max_batch_seconds: total audio per batch.
        seed: order seed.
        speed_factors: e.g. (0.9, 1.0, 1.1); one drawn per utterance per epoch.
        cache_audio: keep decoded audio and its features in memory; None (the default)
            does so for corpora up to ``CACHE_MAX_SECONDS`` of audio.
        features: the fbank settings (the model's ``feature_settings()``).
    """

    def __init__(
        self,
        manifest: Path,
        tokenizer: Tokenizer,
        max_batch_seconds: float = 60.0,
        seed: int = 0,
        speed_factors: tuple[float, ...] = (1.0,),
        cache_audio: bool | None = None,
        max_utts: int | None = None,
        features: FeatureSettings = FeatureSettings(),
    ) -> None:
        utts = read_manifest(manifest)
        if max_utts is not None:
            utts = utts[:max_utts]
        if not utts:
            raise DataError(f"{manifest}: no utterances to train on")
        self.manifest = Path(manifest)
        self.tokenizer = tokenizer
        self.seed = seed
        self.speed_factors = tuple(speed_factors)
        self.features = features
        if cache_audio is None:
            cache_audio = sum(u.duration for u in utts) <= CACHE_MAX_SECONDS
        self._cache: dict[str, np.ndarray] | None = {} if cache_audio else None
        # Features per (utterance, speed factor): fbank was a third of a tiny model's step.
        self._feats: dict[tuple[str, float], torch.Tensor] | None = {} if cache_audio else None
        self.utts = sorted(utts, key=lambda u: (u.duration, u.id))
        for u in self.utts:
            if not tokenizer.encode(u.text):
                raise DataError(f"{manifest}: utterance {u.id} has no tokens (empty text?)")
        self.batches: list[list[Utterance]] = []
        cur: list[Utterance] = []
        for u in self.utts:
            if cur and (len(cur) + 1) * u.duration > max_batch_seconds:
                self.batches.append(cur)
                cur = []
            cur.append(u)
        if cur:
            self.batches.append(cur)

    @classmethod
    def for_training(cls, cfg, tokenizer: Tokenizer) -> SpeechBatches:
        """The batches a ``TrainConfig`` trains on (its data section, seed and model's fbank)."""
        d = cfg.data
        return cls(Path(d.train_manifest), tokenizer, d.max_batch_seconds, cfg.seed, tuple(d.speed_factors),
                   max_utts=d.max_train_utts, features=cfg.model.feature_settings())  # fmt: skip

    def __len__(self) -> int:
        return len(self.batches)

    @property
    def total_seconds(self) -> float:
        return sum(u.duration for u in self.utts)

    def order(self, epoch: int) -> list[int]:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.batches)).tolist()

    def _audio(self, u: Utterance) -> np.ndarray:
        if self._cache is None:
            return load_audio(u.audio)
        if u.id not in self._cache:
            self._cache[u.id] = load_audio(u.audio)
        return self._cache[u.id]

    def _features(self, u: Utterance, factor: float) -> torch.Tensor:
        """Raw fbank ``[T, 80]`` of ``u`` played ``factor`` times faster."""
        key = (u.id, factor)
        if self._feats is not None and key in self._feats:
            return self._feats[key]
        x = speed_perturb(self._audio(u), factor)
        feats, n = fbank_batch(torch.from_numpy(x)[None], torch.tensor([len(x)]), self.features)
        out = feats[0, : int(n[0])]
        if self._feats is not None:
            self._feats[key] = out
        return out

    def make_batch(self, utts: list[Utterance], rng: np.random.Generator) -> Batch:
        factors = [
            float(rng.choice(self.speed_factors)) if len(self.speed_factors) > 1 else self.speed_factors[0]
            for _ in utts
        ]
        per_utt = [self._features(u, f) for u, f in zip(utts, factors)]
        feat_lens = torch.tensor([len(f) for f in per_utt])
        feats = torch.zeros(len(per_utt), int(feat_lens.max()), per_utt[0].shape[1])
        for i, f in enumerate(per_utt):
            feats[i, : len(f)] = f
        toks = [self.tokenizer.encode(u.text) for u in utts]
        token_lens = torch.tensor([len(t) for t in toks])
        tokens = torch.zeros(len(toks), int(token_lens.max()), dtype=torch.long)
        for i, t in enumerate(toks):
            tokens[i, : len(t)] = torch.tensor(t)
        return Batch(feats, feat_lens, tokens, token_lens, [u.id for u in utts])

    def iterate(self, epoch: int, start: int = 0, rank: int = 0, world: int = 1) -> Iterator[tuple[int, Batch]]:
        """Yield ``(batch_index, Batch)`` of ``epoch`` from ``start`` on.

        With several processes, each takes every ``world``-th utterance of a batch, so
        all ranks step together.
        """
        order = self.order(epoch)
        for i in range(start, len(order)):
            utts = self.batches[order[i]]
            part = utts[rank::world] or utts[:1]
            rng = np.random.default_rng([self.seed, epoch, i, rank])
            yield i, self.make_batch(part, rng)
