"""Training batches: bucketed by duration, deterministic per (seed, epoch), resumable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from todm.data.audio import load_audio
from todm.data.fbank import compute_fbank
from todm.data.manifest import read_manifest
from todm.data.tokenizer import train_tokenizer
from todm.errors import DataError
from todm.supernet.dataset import SpeechBatches


@pytest.fixture(scope="module")
def manifest(tiny_corpus: Path) -> Path:
    return tiny_corpus / "dev.jsonl"


@pytest.fixture(scope="module")
def tok(tiny_corpus: Path):
    return train_tokenizer([u.text for u in read_manifest(tiny_corpus / "train.jsonl")], "char", 0)


def test_each_utterance_once_per_epoch_within_the_duration_budget(manifest: Path, tok) -> None:
    data = SpeechBatches(manifest, tok, max_batch_seconds=8.0, seed=0)
    ids = [i for b in data.batches for i in (u.id for u in b)]
    assert sorted(ids) == sorted(u.id for u in read_manifest(manifest))
    for b in data.batches:
        # Bucketed by duration: padding costs what the longest one in the batch costs.
        assert len(b) == 1 or len(b) * max(u.duration for u in b) <= 8.0
        assert [u.duration for u in b] == sorted(u.duration for u in b)
    assert len(data) == len(data.batches) > 1


def test_order_is_deterministic_per_seed_and_epoch(manifest: Path, tok) -> None:
    a = SpeechBatches(manifest, tok, 8.0, seed=1)
    b = SpeechBatches(manifest, tok, 8.0, seed=1)
    assert a.order(0) == b.order(0) and a.order(3) == b.order(3)
    assert a.order(0) != a.order(1)
    assert a.order(0) != SpeechBatches(manifest, tok, 8.0, seed=2).order(0)
    assert sorted(a.order(0)) == list(range(len(a)))


def test_resuming_mid_epoch_gives_the_remaining_batches(manifest: Path, tok) -> None:
    data = SpeechBatches(manifest, tok, 8.0, seed=4, speed_factors=(0.9, 1.0, 1.1))
    full = list(data.iterate(2))
    fresh = SpeechBatches(manifest, tok, 8.0, seed=4, speed_factors=(0.9, 1.0, 1.1))
    tail = list(fresh.iterate(2, start=2))
    assert [i for i, _ in tail] == [i for i, _ in full[2:]]
    for (_, x), (_, y) in zip(full[2:], tail):
        assert x.ids == y.ids
        torch.testing.assert_close(x.feats, y.feats, rtol=0, atol=0)  # speed factors too
        assert torch.equal(x.tokens, y.tokens)


@pytest.mark.parametrize("scale", [32768.0, 1.0])
def test_batch_contents_match_the_front_end_and_tokenizer(manifest: Path, tok, scale: float) -> None:
    from todm.bundle import FeatureSettings

    settings = FeatureSettings(input_scale=scale)
    data = SpeechBatches(manifest, tok, 8.0, seed=0, features=settings)
    _, batch = next(data.iterate(0))
    utts = {u.id: u for u in read_manifest(manifest)}
    for k, uid in enumerate(batch.ids):
        want = compute_fbank(load_audio(utts[uid].audio), settings)
        n = int(batch.feat_lens[k])
        assert n == len(want)
        # float32 torch vs numpy: weak bins (log of tiny energies) differ in the 3rd decimal.
        np.testing.assert_allclose(batch.feats[k, :n].numpy(), want, atol=2e-2, rtol=1e-4)
        assert not batch.feats[k, n:].any()
        m = int(batch.token_lens[k])
        assert tok.decode(batch.tokens[k, :m].tolist()) == utts[uid].text
        assert not batch.tokens[k, m:].any()


def test_speed_perturbation_changes_lengths(manifest: Path, tok) -> None:
    plain = SpeechBatches(manifest, tok, 8.0, seed=0)
    fast = SpeechBatches(manifest, tok, 8.0, seed=0, speed_factors=(1.1,))
    fast.speed_factors = (1.1, 1.1)  # more than one factor switches perturbation on
    (_, a), (_, b) = next(plain.iterate(0)), next(fast.iterate(0))
    assert a.ids == b.ids
    ratio = a.feat_lens.float() / b.feat_lens.float()
    assert bool(((ratio > 1.05) & (ratio < 1.15)).all())


def test_ranks_split_batches(manifest: Path, tok) -> None:
    data = SpeechBatches(manifest, tok, 8.0, seed=0)
    for (i0, b0), (i1, b1), (i, whole) in zip(data.iterate(0, 0, 0, 2), data.iterate(0, 0, 1, 2), data.iterate(0)):
        assert i0 == i1 == i
        if len(whole.ids) > 1:
            assert sorted(b0.ids + b1.ids) == sorted(whole.ids)


def test_bad_manifests_are_clear_errors(tmp_path: Path, manifest: Path, tok) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.jsonl"):
        SpeechBatches(empty, tok)
    u = json.loads(manifest.read_text().splitlines()[0])
    u["audio"] = str((manifest.parent / u["audio"]).resolve())
    u["text"] = " "
    blank = tmp_path / "blank.jsonl"
    blank.write_text(json.dumps(u) + "\n")
    with pytest.raises(DataError):
        SpeechBatches(blank, tok)


def test_cached_features_equal_fresh_ones(manifest: Path, tok) -> None:
    cached = SpeechBatches(manifest, tok, 8.0, seed=5, speed_factors=(0.9, 1.0, 1.1))
    fresh = SpeechBatches(manifest, tok, 8.0, seed=5, speed_factors=(0.9, 1.0, 1.1), cache_audio=False)
    assert cached._feats is not None and fresh._feats is None  # a tiny corpus is cached
    for epoch in (0, 1):  # epoch 1 is served from the cache
        for (_, a), (_, b) in zip(cached.iterate(epoch), fresh.iterate(epoch)):
            assert a.ids == b.ids
            torch.testing.assert_close(a.feats, b.feats, rtol=0, atol=0)
