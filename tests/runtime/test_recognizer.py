"""The streaming recognizer on a random-weight ONNX bundle (real onnxruntime): chunk
arithmetic, streaming equals offline, partial results, errors."""

from __future__ import annotations

import numpy as np
import pytest

from todm.bundle import load_bundle
from todm.errors import BundleError, DataError
from todm.runtime.backends import open_graph
from todm.runtime.recognizer import Recognizer


def _audio(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(16000 * seconds)) * 0.1).astype(np.float32)


def _stream(rec, x, piece):
    s = rec.create_stream()
    partials = []
    for a in range(0, len(x), piece):
        s.accept_waveform(16000, x[a : a + piece])
        while rec.is_ready(s):
            rec.decode_stream(s)
            partials.append(list(s.result.tokens))
    s.input_finished()
    while rec.is_ready(s):
        rec.decode_stream(s)
    return s, partials


@pytest.mark.parametrize("decoding", ["greedy", "beam", "ctc"])
@pytest.mark.parametrize("piece", [160, 1234, 16000])
def test_streaming_equals_offline(synthetic_bundle, decoding, piece):
    rec = Recognizer.from_bundle(synthetic_bundle, decoding=decoding)
    x = _audio(1.37)
    offline = rec.transcribe(x)
    s, partials = _stream(rec, x, piece)
    assert s.result == offline
    assert s.is_finished
    # partial results only grow (greedy/ctc never revise emitted tokens)
    if decoding != "beam":
        for a, b in zip(partials, partials[1:]):
            assert b[: len(a)] == a


@pytest.mark.parametrize("seconds", [0.0, 0.05, 0.13, 0.5, 1.0, 2.31])
def test_encoder_frames_follow_the_static_protocol(synthetic_bundle, seconds):
    rec = Recognizer.from_bundle(synthetic_bundle)
    m = rec.meta
    x = _audio(seconds)
    stream = rec.decode_offline(x)
    t = (len(x) + 80) // 160  # fbank frames, snip_edges false
    t_out = max(0, (t - 7) // m.subsampling + 1)
    assert stream.frames_out == t_out
    assert stream.chunks_done == -(-t_out // m.chunk_frames)
    assert len(stream.timers.chunk_latencies) == stream.chunks_done


def test_chunks_match_driving_the_graph_by_hand(synthetic_bundle):
    """Chunk k = frames [k*shift, k*shift+Cin), zero-padded at the end; caches fed back."""
    from todm.data.fbank import compute_fbank

    b = load_bundle(synthetic_bundle)
    m = b.meta
    enc = open_graph(b, "encoder")
    x = _audio(0.9, seed=3)
    feats = compute_fbank(x, m.features)
    t_out = (len(feats) - 7) // m.subsampling + 1
    caches = [np.zeros(c.shape, np.float32) for c in b.caches]
    frames = []
    k = 0
    while len(frames) * m.chunk_frames < t_out:
        chunk = feats[k * m.chunk_shift_frames : k * m.chunk_shift_frames + m.chunk_input_frames]
        chunk = np.concatenate([chunk, np.zeros((m.chunk_input_frames - len(chunk), 80), np.float32)])
        out = enc.run(chunk[None], *caches)
        frames.append(out[0][0])
        caches = out[1:]
        k += 1
    want = np.concatenate(frames)[:t_out]
    seen = []
    rec = Recognizer(b, "greedy")
    stream = rec.create_stream()
    stream.search.advance = lambda f, off: seen.append(f.copy())
    stream.fbank.accept_waveform(x)
    stream.fbank.input_finished()
    while rec.is_ready(stream):
        rec.decode_stream(stream)
    np.testing.assert_allclose(np.concatenate(seen), want, rtol=1e-6, atol=1e-6)


def test_errors_are_clear(synthetic_bundle, tmp_path):
    rec = Recognizer.from_bundle(synthetic_bundle)
    s = rec.create_stream()
    with pytest.raises(DataError, match="8000 Hz"):
        s.accept_waveform(8000, np.zeros(100, np.float32))
    with pytest.raises(DataError, match="not ready"):
        rec.decode_stream(s)
    with pytest.raises(BundleError, match="decoding 'viterbi'"):
        Recognizer.from_bundle(synthetic_bundle, decoding="viterbi")
    with pytest.raises(BundleError, match="cannot run on backend 'litert'"):
        Recognizer.from_bundle(synthetic_bundle, backend="litert")
    with pytest.raises(BundleError, match="no bundle manifest"):
        Recognizer.from_bundle(tmp_path)


def test_onnxruntime_options(synthetic_bundle):
    from todm.errors import DeviceError

    x = _audio(0.7)
    base = Recognizer.from_bundle(synthetic_bundle).transcribe(x)
    for level in ("disable", "basic", "all"):
        r = Recognizer.from_bundle(synthetic_bundle, num_threads=2, optimization=level)
        assert r.transcribe(x) == base
    with pytest.raises(DeviceError, match="no execution provider"):
        Recognizer.from_bundle(synthetic_bundle, providers=["NoSuchExecutionProvider"])
