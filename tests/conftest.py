"""Session-wide artifacts shared by every stage's tests.

Each is built once per test session from real components: a corpus synthesized with
espeak-ng/flite, and a tiny supernet really trained on it. Stage-specific fixtures live
in tests/<stage>/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Two cores are shared by everything in a test run; extra threads only add contention.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small digits corpus (train/dev/test/test-unseen-voice manifests)."""
    from todm.data.testing import make_tiny_corpus

    return make_tiny_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def tiny_experiment(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An experiment dir holding a tiny supernet trained on ``tiny_corpus``."""
    from todm.supernet.testing import train_tiny_supernet

    return train_tiny_supernet(tiny_corpus, tmp_path_factory.mktemp("exp"))


@pytest.fixture(scope="session")
def tiny_static(tiny_experiment: Path):
    """The largest subnet of the tiny trained supernet, sliced (a StaticModel)."""
    from todm.supernet.slicing import slice_subnet

    return slice_subnet(tiny_experiment / "checkpoints" / "last.pt", "largest")


@pytest.fixture(scope="session")
def tiny_bundles(tiny_experiment: Path, tiny_static, tiny_corpus: Path, tmp_path_factory) -> dict[str, Path]:
    """{format: bundle dir}: ``tiny_static`` exported to onnx, executorch and tflite (fp32),
    each checked against eager PyTorch on the tiny test set (a failed check fails here)."""
    from todm.bundle import read_tokens
    from todm.export import export_bundle

    tokens = read_tokens(tiny_experiment / "tokenizer" / "tokens.txt")
    root = tmp_path_factory.mktemp("bundles")
    return {
        fmt: export_bundle(tiny_static, fmt, root / fmt, tokens, parity_manifest=tiny_corpus / "test.jsonl",
                           parity_utterances=6, source=tiny_experiment / "checkpoints" / "last.pt")
        for fmt in ("onnx", "executorch", "tflite")
    }  # fmt: skip
