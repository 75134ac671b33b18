"""Streaming and offline recognition from a bundle, with sherpa-onnx's API shape.

    rec = Recognizer.from_bundle("bundle/")
    stream = rec.create_stream()
    stream.accept_waveform(16000, samples)      # as audio arrives
    while rec.is_ready(stream):
        rec.decode_stream(stream)               # one encoder chunk
    print(stream.result.text)                   # partial result
    stream.input_finished()                     # then drain with is_ready/decode_stream

Chunking follows ``todm/supernet/static.py``: chunk k is fbank frames
``[k*shift, k*shift + chunk_input_frames)``; after the end of input the last chunk is
padded with raw fbank 0.0, and chunks run until ``T' = (T - R) // S + 1`` encoder frames
are out (R the subsampling's receptive field), keeping the first ``T'``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from todm.bundle import Bundle, load_bundle
from todm.data.fbank import OnlineFbank, compute_fbank
from todm.errors import BundleError, DataError
from todm.runtime.backends import Backend, load_backend
from todm.runtime.decoding import CTCGreedy, ModifiedBeamSearch, TransducerGreedy, tokens_to_text

DECODINGS = ("greedy", "beam", "ctc")


@dataclass
class Result:
    """A (partial or final) result: text, token strings, and each token's start time (s)."""

    text: str = ""
    tokens: list[str] = field(default_factory=list)
    timestamps: list[float] = field(default_factory=list)


@dataclass
class Timers:
    """Wall time (s) spent per activity, accumulated over a stream or a run."""

    features: float = 0.0
    backend: float = 0.0
    search: float = 0.0
    chunk_latencies: list[float] = field(default_factory=list)  # encoder + search, per chunk


class OnlineStream:
    """Audio in, results out, for one utterance. Create with ``Recognizer.create_stream``."""

    def __init__(self, rec: Recognizer) -> None:
        self._rec = rec
        self.fbank = OnlineFbank(rec.meta.features)
        self.caches = [np.zeros(c.shape, dtype=c.dtype) for c in rec.bundle.caches]
        self.timers = Timers()
        rec._timers = self.timers  # the predictor's first call (blank context) counts as backend time
        self.search = rec._new_search()
        self.chunks_done = 0
        self.frames_out = 0  # encoder frames decoded
        self.result = Result()

    def accept_waveform(self, sample_rate: int, samples: np.ndarray) -> None:
        """Append samples ``[S]`` in [-1, 1] at ``sample_rate`` (must be the model's)."""
        want = self._rec.meta.features.sample_rate
        if sample_rate != want:
            raise DataError(f"audio at {sample_rate} Hz, the model expects {want} Hz; resample first")
        t0 = time.perf_counter()
        self.fbank.accept_waveform(np.asarray(samples, dtype=np.float32))
        self.timers.features += time.perf_counter() - t0

    def input_finished(self) -> None:
        t0 = time.perf_counter()
        self.fbank.input_finished()
        self.timers.features += time.perf_counter() - t0

    @property
    def is_finished(self) -> bool:
        return self.fbank.is_finished and not self._rec.is_ready(self)


class Recognizer:
    """Runs a bundle's graphs over chunks of fbank and decodes them.

    Args:
        bundle: a loaded bundle.
        decoding: ``greedy`` (RNN-T), ``beam`` (RNN-T modified beam search) or ``ctc``.
        backend: an open backend, or a backend name (default: the bundle format's).
        num_threads: runtime threads when the backend is opened here.
        beam: beam size for ``beam``.
        max_symbols_per_frame: RNN-T greedy's cap on tokens per encoder frame.
    """

    def __init__(self, bundle: Bundle, decoding: str = "greedy", *, backend: Backend | str | None = None,
                 num_threads: int = 1, beam: int = 4, max_symbols_per_frame: int = 3) -> None:  # fmt: skip
        if decoding not in DECODINGS:
            raise BundleError(f"decoding {decoding!r} is not one of {DECODINGS}")
        need = ("ctc",) if decoding == "ctc" else ("encoder", "decoder", "joiner")
        missing = [g for g in need if g not in bundle.graphs]
        if missing:
            raise BundleError(f"{bundle.path}: decoding {decoding!r} needs graph(s) {missing}, "
                              f"the bundle has {sorted(bundle.graphs)}")  # fmt: skip
        if backend is None or isinstance(backend, str):
            backend = load_backend(bundle, backend, num_threads)
        self.bundle, self.backend, self.meta = bundle, backend, bundle.meta
        self.decoding, self.beam, self.max_symbols = decoding, beam, max_symbols_per_frame
        self._enc_graph = "ctc" if decoding == "ctc" else "encoder"
        spec = bundle.graphs[self._enc_graph]
        self._x_name = spec.inputs[0].name
        self._cache_names = [t.name for t in spec.inputs[1:]]
        self._out_name = spec.outputs[0].name
        self._new_cache_names = [t.name for t in spec.outputs[1:]]
        if len(self._cache_names) != len(bundle.caches) or len(self._new_cache_names) != len(bundle.caches):
            raise BundleError(f"{bundle.path}: graph {self._enc_graph!r} does not take and return the "
                              f"{len(bundle.caches)} caches the manifest lists")  # fmt: skip
        m = self.meta
        self.receptive_field = m.chunk_input_frames - m.subsampling * (m.chunk_frames - 1)
        self._timers: Timers | None = None

    @classmethod
    def from_bundle(cls, path: str | os.PathLike[str], backend: str | None = None, num_threads: int = 1,
                    decoding: str = "greedy", beam: int = 4, verify: bool = True,
                    **backend_options) -> Recognizer:  # fmt: skip
        """Load and verify the bundle at ``path`` and open it with ``backend``."""
        bundle = load_bundle(path, verify=verify)
        be = load_backend(bundle, backend, num_threads, **backend_options)
        return cls(bundle, decoding, backend=be, beam=beam)

    # graphs, timed into the active stream's timers -----------------------------------------
    def _run(self, graph: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        t0 = time.perf_counter()
        out = self.backend.run(graph, inputs)
        if self._timers is not None:
            self._timers.backend += time.perf_counter() - t0
        return out

    def _decoder(self, y: np.ndarray) -> np.ndarray:
        spec = self.bundle.graphs["decoder"]
        return self._run("decoder", {spec.inputs[0].name: y})[spec.outputs[0].name]

    def _joiner(self, enc: np.ndarray, dec: np.ndarray) -> np.ndarray:
        spec = self.bundle.graphs["joiner"]
        ins = {spec.inputs[0].name: enc, spec.inputs[1].name: dec}
        return self._run("joiner", ins)[spec.outputs[0].name]

    def _new_search(self):
        m = self.meta
        if self.decoding == "ctc":
            return CTCGreedy(m.blank_id)
        if self.decoding == "beam":
            return ModifiedBeamSearch(self._decoder, self._joiner, m.blank_id, m.context_size, self.beam,
                                      self.max_symbols)  # fmt: skip
        return TransducerGreedy(self._decoder, self._joiner, m.blank_id, m.context_size, self.max_symbols)

    # sherpa-onnx-shaped API -------------------------------------------------------------------
    def create_stream(self) -> OnlineStream:
        return OnlineStream(self)

    def total_encoder_frames(self, num_fbank_frames: int) -> int:
        """``T'`` for ``T`` fbank frames: what the whole-utterance encoder outputs."""
        return max(0, (num_fbank_frames - self.receptive_field) // self.meta.subsampling + 1)

    def is_ready(self, stream: OnlineStream) -> bool:
        """True when a chunk can be decoded (enough audio, or the end of input reached)."""
        m = self.meta
        need = stream.chunks_done * m.chunk_shift_frames + m.chunk_input_frames
        if stream.fbank.num_frames_ready >= need and not stream.fbank.is_finished:
            return True
        if stream.fbank.is_finished:
            return stream.frames_out < self.total_encoder_frames(stream.fbank.num_frames_ready)
        return False

    def decode_stream(self, stream: OnlineStream) -> None:
        """Run one chunk through the encoder and the search; updates ``stream.result``."""
        if not self.is_ready(stream):
            raise DataError("decode_stream called on a stream that is not ready (check is_ready first)")
        self._timers = stream.timers
        t0 = time.perf_counter()
        m = self.meta
        start = stream.chunks_done * m.chunk_shift_frames
        ready = stream.fbank.num_frames_ready
        count = min(m.chunk_input_frames, ready - start)
        x = stream.fbank.get_frames(start, count)
        if count < m.chunk_input_frames:
            x = np.concatenate([x, np.zeros((m.chunk_input_frames - count, x.shape[1]), np.float32)])
        inputs = {self._x_name: x[None]}
        inputs.update(zip(self._cache_names, stream.caches))
        out = self._run(self._enc_graph, inputs)
        stream.caches = [out[n] for n in self._new_cache_names]
        frames = out[self._out_name][0]
        if stream.fbank.is_finished:
            frames = frames[: max(0, self.total_encoder_frames(ready) - stream.frames_out)]
        t1 = time.perf_counter()
        stream.search.advance(frames, stream.frames_out)
        t2 = time.perf_counter()
        stream.chunks_done += 1
        stream.frames_out += len(frames)
        stream.result = self._result(stream)
        stream.timers.search += t2 - t1
        stream.timers.chunk_latencies.append(time.perf_counter() - t0)

    def _result(self, stream: OnlineStream) -> Result:
        hyp = stream.search.best()
        toks = self.bundle.tokens
        sec = self.meta.subsampling * self.meta.features.frame_shift_ms / 1000.0
        return Result(tokens_to_text(hyp.tokens, toks), [toks[i] for i in hyp.tokens],
                      [round(f * sec, 3) for f in hyp.frames])  # fmt: skip

    def transcribe(self, samples: np.ndarray, sample_rate: int | None = None) -> Result:
        """Whole utterance ``[S]``: the streaming graph over all chunks (same words as streaming)."""
        return self.decode_offline(samples, sample_rate).result

    def decode_offline(self, samples: np.ndarray, sample_rate: int | None = None) -> OnlineStream:
        """Like ``transcribe``, returning the finished stream (result and timers)."""
        stream = self.create_stream()
        sr = sample_rate or self.meta.features.sample_rate
        if sr != self.meta.features.sample_rate:
            raise DataError(f"audio at {sr} Hz, the model expects {self.meta.features.sample_rate} Hz")
        t0 = time.perf_counter()
        feats = compute_fbank(np.asarray(samples, dtype=np.float32), self.meta.features)
        stream.timers.features += time.perf_counter() - t0
        stream.fbank = _Precomputed(feats)
        while self.is_ready(stream):
            self.decode_stream(stream)
        return stream


class _Precomputed:
    """A finished OnlineFbank stand-in over features computed in one go (offline mode)."""

    def __init__(self, feats: np.ndarray) -> None:
        self._feats = feats
        self.num_frames_ready = len(feats)
        self.is_finished = True

    def get_frames(self, start: int, count: int) -> np.ndarray:
        return self._feats[start : start + count]
