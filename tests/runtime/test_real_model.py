"""A really trained tiny supernet, exported, run by the torch-free runtime: its words equal
eager PyTorch's on the same audio, for every backend and decoding mode.

The model is the suite's ``tiny_static`` (tests/conftest.py); the bundles come from its
``tiny_bundles`` fixture when present, else they are exported here from ``tiny_static``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

N_UTTS = 6
EXPORTERS = {"onnx": "todm.export.onnx_export", "executorch": "todm.export.executorch_export",
             "tflite": "todm.export.tflite_export"}  # fmt: skip


@pytest.fixture(scope="session")
def bundle_for(request, tiny_experiment, tiny_static, tmp_path_factory):
    made: dict[str, Path] = {}

    def get(fmt: str) -> Path:
        if importlib.util.find_spec(EXPORTERS[fmt]) is None:
            pytest.skip(f"{EXPORTERS[fmt]} (the {fmt} exporter) is not in this tree yet")
        if fmt not in made:
            try:
                shared = request.getfixturevalue("tiny_bundles")
            except pytest.FixtureLookupError:
                shared = None
            if isinstance(shared, dict) and fmt in shared:
                made[fmt] = Path(shared[fmt])
            else:
                from todm.bundle import read_tokens
                from todm.export.bundle_writer import export_bundle

                toks = read_tokens(tiny_experiment / "tokenizer" / "tokens.txt")
                made[fmt] = export_bundle(tiny_static, fmt, tmp_path_factory.mktemp(fmt) / "bundle", toks)
        return made[fmt]

    return get


@pytest.fixture(scope="session")
def audio(tiny_corpus):
    from todm.data.audio import load_audio
    from todm.data.manifest import read_manifest

    return [load_audio(u.audio) for u in read_manifest(tiny_corpus / "test.jsonl")[:N_UTTS]]


def eager_frames(model, samples: np.ndarray, decoding: str) -> np.ndarray:
    """What the runtime's search sees: joiner-projected encoder frames or CTC log-probs [T', *]."""
    from todm.data.fbank import compute_fbank

    f = torch.from_numpy(compute_fbank(samples, model.meta.features))[None]
    n = torch.tensor([f.shape[1]])
    with torch.no_grad():
        out, lens = (model.ctc if decoding == "ctc" else model.encode)(f, n)
    return out[0, : int(lens[0])].numpy()


def eager_tokens(model, samples: np.ndarray, decoding: str) -> list[int]:
    from todm.data.fbank import compute_fbank
    from todm.supernet import decode

    f = torch.from_numpy(compute_fbank(samples, model.meta.features))[None]
    n = torch.tensor([f.shape[1]])
    m = model.meta
    with torch.no_grad():
        if decoding == "ctc":
            lp, lens = model.ctc(f, n)
            return decode.ctc_greedy(lp[0, : int(lens[0])], m.blank_id)
        enc, lens = model.encode(f, n)
        enc = enc[0, : int(lens[0])]
        if decoding == "beam":
            return decode.modified_beam_search(enc, model.decoder, model.joiner, m.blank_id, m.context_size, beam=4)
        return decode.greedy_search(enc, model.decoder, model.joiner, m.blank_id, m.context_size)


def _check(bundle: Path, model, audio, decoding: str, backend: str | None = None) -> None:
    from todm.runtime.recognizer import Recognizer

    rec = Recognizer.from_bundle(bundle, decoding=decoding, backend=backend)
    if decoding == "ctc" and "ctc" not in rec.bundle.graphs:
        pytest.skip(f"{bundle} has no ctc graph")
    words = 0
    for x in audio:
        want = [rec.bundle.tokens[i] for i in eager_tokens(model, x, decoding)]
        assert rec.transcribe(x).tokens == want
        s = rec.create_stream()
        seen: list[np.ndarray] = []
        advance = s.search.advance

        def spy(frames, offset, advance=advance, seen=seen):
            seen.append(frames.copy())
            advance(frames, offset)

        s.search.advance = spy
        for a in range(0, len(x), 1600):  # 100 ms pieces
            s.accept_waveform(16000, x[a : a + 1600])
            while rec.is_ready(s):
                rec.decode_stream(s)
        s.input_finished()
        while rec.is_ready(s):
            rec.decode_stream(s)
        assert s.result.tokens == want
        # the numbers under the words: every frame the search saw equals eager PyTorch's
        np.testing.assert_allclose(np.concatenate(seen), eager_frames(model, x, decoding), atol=2e-4, rtol=1e-3)
        words += len(s.result.text.split())
    # a barely trained tiny model may say nothing; the frame check above still compares
    print(f"{bundle.name}/{decoding}: {words} words compared")


@pytest.mark.parametrize("decoding", ["greedy", "beam", "ctc"])
def test_onnx_words_equal_eager(bundle_for, tiny_static, audio, decoding):
    _check(bundle_for("onnx"), tiny_static, audio, decoding)


@pytest.mark.slow
@pytest.mark.parametrize("decoding", ["greedy", "beam", "ctc"])
def test_executorch_words_equal_eager(bundle_for, tiny_static, audio, decoding):
    pytest.importorskip("executorch.runtime")
    _check(bundle_for("executorch"), tiny_static, audio, decoding)


@pytest.mark.slow
@pytest.mark.parametrize("decoding", ["greedy", "beam", "ctc"])
def test_tflite_words_equal_eager(bundle_for, tiny_static, audio, decoding):
    pytest.importorskip("ai_edge_litert")
    _check(bundle_for("tflite"), tiny_static, audio, decoding)


def test_bench_on_the_trained_bundle(bundle_for, tiny_corpus, tmp_path):
    from todm.runtime.measure import run_benchmark
    from todm.runtime.results import format_table

    res = run_benchmark(bundle_for("onnx"), tiny_corpus / "test.jsonl", mode="streaming", runs=2, warmup=1, limit=4)
    a = res["aggregate"]
    assert res["status"] == "complete" and len(res["utterances"]) == 4
    assert all(len(u["compute_s"]) == 2 for u in res["utterances"])
    assert 0 < a["rtf"] < 5 and a["chunk_latency_ms"]["p50"] > 0 and a["final_latency_ms"]["p50"] is not None
    assert a["wer"] >= 0 and a["cer"] >= 0 and a["per_voice"]
    ts = a["time_split"]
    assert 0 <= ts["harness_fraction"] < 1 and ts["backend_s"] > 0 and ts["features_s"] > 0
    assert res["memory"]["peak_rss_mb"] >= res["memory"]["rss_before_load_mb"] > 0
    assert "RTF" in format_table(res)
