"""The tiny trained model exported to every format, run in each real runtime.

Bundles come from the session fixture ``tiny_bundles`` (tests/conftest.py): fp32 exports
whose parity with eager PyTorch (values per output, transcripts word for word on the
tiny test set) was checked while exporting. int8 variants are slow-marked.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

FORMATS = ("onnx", "executorch", "tflite")


def _eager_words(model, samples: np.ndarray, tokens, max_symbols: int = 3, frames: int | None = None) -> str:
    from todm.data.fbank import compute_fbank
    from todm.data.tokenizer import tokens_to_text
    from todm.supernet.decode import greedy_search

    f = torch.from_numpy(compute_fbank(samples, model.meta.features))[None, :frames]
    m = model.meta
    with torch.no_grad():
        enc, lens = model.encode(f, torch.tensor([f.shape[1]]))
        ids = greedy_search(enc[0, : int(lens[0])], model.decoder, model.joiner, m.blank_id, m.context_size,
                            max_symbols_per_frame=max_symbols)  # fmt: skip
    return tokens_to_text(tokens[i] for i in ids)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bundle_passes_parity(tiny_bundles, fmt):
    from todm.bundle import load_bundle

    b = load_bundle(tiny_bundles[fmt])
    parity = b.manifest["parity"]
    assert parity["passed"], parity["problems"]
    assert parity["utterances"] == 6 and parity["words"] > 0
    assert parity["word_mismatches"] == 0
    assert set(parity["max_abs_diff"]) >= {"encoder_out", "decoder_out", "logit"}
    assert max(parity["max_abs_diff"].values()) < 1e-4
    prov = b.manifest["provenance"]
    assert len(prov["source_sha256"]) == 64 and prov["versions"]["torch"] == torch.__version__
    assert b.manifest["subnet"]["id"] == b.meta.subnet_id
    assert b.format == fmt and set(b.graphs) >= {"encoder", "decoder", "joiner"}


def test_onnx_files_carry_metadata(tiny_bundles, tiny_static):
    import onnx

    from todm.bundle import ModelMeta

    root = tiny_bundles["onnx"]
    files = sorted(root.rglob("*.onnx"))
    assert {p.relative_to(root).as_posix() for p in files} >= {
        "encoder.onnx", "decoder.onnx", "joiner.onnx",
        "sherpa-onnx/encoder.onnx", "sherpa-onnx/decoder.onnx", "sherpa-onnx/joiner.onnx",
        "sherpa-onnx-streaming/encoder.onnx", "sherpa-onnx-streaming/decoder.onnx",
        "sherpa-onnx-streaming/joiner.onnx",
    }  # fmt: skip
    for p in files:
        m = onnx.load(str(p))
        onnx.checker.check_model(m)
        meta = {x.key: x.value for x in m.metadata_props}
        assert meta["vocab_size"] == str(tiny_static.meta.vocab_size)
        assert meta["context_size"] == str(tiny_static.meta.context_size)
        if not p.parts[-2].startswith("sherpa-onnx"):
            assert ModelMeta.from_flat_strings(meta) == tiny_static.meta


def test_executorch_program_methods_and_constants(tiny_bundles, tiny_static):
    from executorch.runtime import Runtime

    program = Runtime.get().load_program(str(tiny_bundles["executorch"] / "model.pte"))
    assert {"encoder", "decoder_step", "joint"} <= set(program.method_names)
    m = tiny_static.meta

    def const(name):
        return program.load_method(name).execute([])[0]

    assert const("blank_id") == m.blank_id
    assert const("vocab_size") == m.vocab_size
    assert const("context_size") == m.context_size
    assert const("chunk_input_frames") == m.chunk_input_frames
    assert const("subnet_id") == m.subnet_id
    shapes = [tuple(const(f"cache_{i}_shape").tolist()) for i in range(const("num_caches"))]
    assert shapes == [c.shape for c in tiny_static.cache_specs(1)]


def test_tflite_graphs_run_in_litert(tiny_bundles, tiny_static):
    from ai_edge_litert.interpreter import Interpreter

    from todm.supernet.static import example_inputs

    path = tiny_bundles["tflite"] / "joiner.tflite"
    interp = Interpreter(model_path=str(path))
    runner = interp.get_signature_runner()
    rng = np.random.default_rng(0)
    e, d = (rng.standard_normal((1, tiny_static.meta.joiner_dim)).astype(np.float32) for _ in range(2))
    out = list(runner(args_0=e, args_1=d).values())[0]
    with torch.no_grad():
        ref = tiny_static.joiner(torch.from_numpy(e), torch.from_numpy(d)).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-4)
    assert example_inputs(tiny_static, "joiner")[0].shape == e.shape


def _sherpa_recognizer(cls, bundle: Path, subdir: str):
    d = bundle / subdir
    return cls.from_transducer(
        encoder=str(d / "encoder.onnx"), decoder=str(d / "decoder.onnx"), joiner=str(d / "joiner.onnx"),
        tokens=str(bundle / "tokens.txt"), num_threads=1, sample_rate=16000, feature_dim=80,
        decoding_method="greedy_search",
    )  # fmt: skip


def test_sherpa_onnx_transcribes_like_eager(tiny_bundles, tiny_static, tiny_corpus):
    """sherpa-onnx, loading the bundle's files unchanged (its own front end and search),
    says the same words as eager greedy search with one symbol per frame, as sherpa-onnx's
    offline greedy search emits."""
    sherpa_onnx = pytest.importorskip("sherpa_onnx")
    from todm.bundle import load_bundle
    from todm.data.audio import load_audio
    from todm.data.manifest import read_manifest

    b = load_bundle(tiny_bundles["onnx"])
    rec = _sherpa_recognizer(sherpa_onnx.OfflineRecognizer, b.path, "sherpa-onnx")
    utts = read_manifest(tiny_corpus / "test.jsonl")[:6]
    nonempty = 0
    for u in utts:
        x = load_audio(u.audio)
        s = rec.create_stream()
        s.accept_waveform(16000, x)
        rec.decode_stream(s)
        got = " ".join(s.result.text.split())
        want = _eager_words(tiny_static, x, b.tokens, max_symbols=1)
        assert got == want, u.id
        nonempty += bool(want)
    assert nonempty, "the trained tiny model said nothing on the test set"


def test_tampered_file_is_refused(tiny_bundles, tmp_path):
    from todm.bundle import load_bundle
    from todm.errors import BundleError

    b = shutil.copytree(tiny_bundles["onnx"], tmp_path / "b")
    p = b / "decoder.onnx"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="decoder.onnx"):
        load_bundle(b)


def test_unknown_version_is_refused(tiny_bundles, tmp_path):
    from todm.bundle import load_bundle
    from todm.errors import BundleError

    b = shutil.copytree(tiny_bundles["onnx"], tmp_path / "b")
    m = json.loads((b / "manifest.json").read_text())
    m["schema_version"] = 99
    (b / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(BundleError, match="version 99"):
        load_bundle(b)


def test_parity_failure_names_the_output(tiny_bundles, tiny_static, tiny_corpus):
    """A model that differs from the bundle fails parity with the output and the numbers."""
    import copy

    from todm.errors import BundleError
    from todm.export.parity import check_parity, raise_if_failed, read_parity_audio

    other = copy.deepcopy(tiny_static)
    with torch.no_grad():
        next(other.joiner.parameters()).add_(0.05)
    rep = check_parity(other, tiny_bundles["onnx"], read_parity_audio(tiny_corpus / "test.jsonl", 1), "fp32")
    assert not rep.passed
    # The joiner's encoder projection is part of the encoder graph, so either may be named.
    assert any(re.match(r"(encoder_out|logit): max \|exported - eager\| = \S+ > 0.0001 \(fp32\)", p)
               for p in rep.problems), rep.problems  # fmt: skip
    with pytest.raises(BundleError, match="parity check failed"):
        raise_if_failed(rep, tiny_bundles["onnx"])


def test_bad_arguments_are_refused(tiny_static, tmp_path):
    from todm.errors import BundleError, ConfigError
    from todm.export import export_bundle

    toks = [f"t{i}" for i in range(tiny_static.meta.vocab_size)]
    with pytest.raises(ConfigError, match="target 'coreml'"):
        export_bundle(tiny_static, "coreml", tmp_path / "x", toks)
    with pytest.raises(ConfigError, match="precision 'fp16'"):
        export_bundle(tiny_static, "onnx", tmp_path / "x", toks, precision="fp16")
    with pytest.raises(ConfigError, match="vocab_size"):
        export_bundle(tiny_static, "onnx", tmp_path / "x", toks[:-1])
    with pytest.raises(BundleError, match="no-delegate"):
        export_bundle(tiny_static, "executorch", tmp_path / "x", toks, precision="int8", delegate=False)
    from todm.supernet.model import Supernet
    from todm.supernet.model_config import tiny_config
    from todm.supernet.slicing import slice_subnet

    lstm = slice_subnet(Supernet(tiny_config(predictor="lstm")), "smallest")
    with pytest.raises(ConfigError, match=r"lstm\.pt \(L1-.*'lstm' predictor.*stateless"):
        export_bundle(lstm, "onnx", tmp_path / "x", toks[: lstm.meta.vocab_size], source=tmp_path / "lstm.pt")
    assert not (tmp_path / "x").exists()
    assert not [p for p in tmp_path.iterdir()], "a failed export left files behind"


def test_cli_exports_a_checkpoint(tiny_experiment, tiny_corpus, tmp_path, capsys):
    from todm.bundle import load_bundle
    from todm.cli import main

    out = tmp_path / "smallest"
    rc = main(["export", "--checkpoint", str(tiny_experiment / "checkpoints" / "last.pt"),
               "--subnet", "smallest", "--target", "onnx", "--parity-manifest",
               str(tiny_corpus / "test.jsonl"), "--parity-utterances", "2", "--out", str(out)])  # fmt: skip
    assert rc == 0
    b = load_bundle(out)
    assert b.manifest["parity"]["passed"] and b.manifest["parity"]["utterances"] == 2
    assert "todm" in b.manifest["provenance"]["command"] or b.manifest["provenance"]["command"]
    assert "parity passed" in capsys.readouterr().out
    assert main(["export", "--checkpoint", "x.pt", "--subnet", "largest", "--target", "onnx",
                 "--no-delegate", "--out", str(tmp_path / "y")]) == 2  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_int8_exports_run_and_report_word_agreement(tiny_static, tiny_experiment, tiny_corpus, tmp_path, fmt):
    from todm.bundle import load_bundle, read_tokens
    from todm.export import export_bundle

    toks = read_tokens(tiny_experiment / "tokenizer" / "tokens.txt")
    out = export_bundle(tiny_static, fmt, tmp_path / fmt, toks, precision="int8",
                        parity_manifest=tiny_corpus / "test.jsonl", parity_utterances=6)  # fmt: skip
    b = load_bundle(out)
    parity = b.manifest["parity"]
    assert b.precision == "int8" and parity["passed"], parity["problems"]
    assert parity["words"] > 0 and parity["word_mismatches"] <= parity["words"]
    fp32_bytes = sum(p.stat().st_size for p in Path(out).rglob("*") if p.suffix in (".onnx", ".pte", ".tflite"))
    assert fp32_bytes > 0


def _sherpa_streaming_meta(bundle: Path) -> dict[str, str]:
    import onnx

    m = onnx.load(str(bundle / "sherpa-onnx-streaming" / "encoder.onnx"), load_external_data=False)
    return {x.key: x.value for x in m.metadata_props}


def test_sherpa_streaming_encoder_metadata(tiny_bundles, tiny_static):
    """What sherpa-onnx's OnlineConformerTransducerModel reads, consistent with the model."""
    meta = _sherpa_streaming_meta(tiny_bundles["onnx"])
    m = tiny_static.meta
    assert meta["model_type"] == "conformer"
    assert int(meta["num_encoder_layers"]) == tiny_static.encoder.depth
    assert int(meta["T"]) == m.chunk_input_frames
    assert int(meta["decode_chunk_len"]) == m.chunk_shift_frames
    assert int(meta["pad_length"]) == m.chunk_input_frames - m.chunk_shift_frames
    assert int(meta["left_context"]) == m.left_context_frames
    widths = [c.shape[1] * c.shape[3] * 2 for c in tiny_static.cache_specs(1) if c.name.startswith("cache_key")]
    assert int(meta["encoder_dim"]) >= max(widths)


def test_sherpa_streaming_encoder_chunks_equal_whole_utterance(tiny_bundles, tiny_static, tiny_corpus):
    """The streaming encoder, called chunk by chunk as sherpa-onnx calls it (packed states
    fed back, ``processed_frames`` counting feature frames), gives the whole-utterance
    encoder's frames."""
    import onnxruntime as ort

    from todm.data.audio import load_audio
    from todm.data.fbank import compute_fbank
    from todm.data.manifest import read_manifest

    meta = _sherpa_streaming_meta(tiny_bundles["onnx"])
    sess = ort.InferenceSession(str(tiny_bundles["onnx"] / "sherpa-onnx-streaming" / "encoder.onnx"),
                                providers=["CPUExecutionProvider"])  # fmt: skip
    t, shift = int(meta["T"]), int(meta["decode_chunk_len"])
    layers, left, width = int(meta["num_encoder_layers"]), int(meta["left_context"]), int(meta["encoder_dim"])
    kernel = int(meta["cnn_module_kernel"])
    offset = 2 * np.log(tiny_static.meta.features.input_scale)
    u = read_manifest(tiny_corpus / "test.jsonl")[0]
    feats = compute_fbank(load_audio(u.audio), tiny_static.meta.features)
    attn = np.zeros((layers, left, 1, width), np.float32)
    conv = np.zeros((layers, kernel - 1, 1, width), np.float32)
    outs, k = [], 0
    while k * shift + t <= feats.shape[0]:
        x = (feats[None, k * shift : k * shift + t] - offset).astype(np.float32)
        out, attn, conv = sess.run(None, {"x": x, "cached_attn": attn, "cached_conv": conv,
                                          "processed_frames": np.array([k * shift], np.int64)})  # fmt: skip
        outs.append(out)
        k += 1
    assert k > left // tiny_static.meta.chunk_frames + 1, "too few chunks to exercise a full left context"
    got = np.concatenate(outs, axis=1)[0]
    frames = (k - 1) * shift + t
    with torch.no_grad():
        enc, _ = tiny_static.encode(torch.from_numpy(feats[None, :frames]), torch.tensor([frames]))
    np.testing.assert_allclose(got, enc[0, : got.shape[0]].numpy(), atol=1e-4)


def test_sherpa_online_recognizer_transcribes_like_eager(tiny_bundles, tiny_static, tiny_corpus):
    """sherpa-onnx's OnlineRecognizer, loading the streaming set unchanged, says what eager
    greedy search says over the feature frames it consumed (whole chunks only; 0.3 s of
    silence flushes the last words, as sherpa-onnx's examples do)."""
    sherpa_onnx = pytest.importorskip("sherpa_onnx")
    from todm.bundle import load_bundle
    from todm.data.audio import load_audio
    from todm.data.fbank import num_frames
    from todm.data.manifest import read_manifest

    b = load_bundle(tiny_bundles["onnx"])
    rec = _sherpa_recognizer(sherpa_onnx.OnlineRecognizer, b.path, "sherpa-onnx-streaming")
    m = tiny_static.meta
    nonempty = 0
    for u in read_manifest(tiny_corpus / "test.jsonl")[:6]:
        x = np.concatenate([load_audio(u.audio), np.zeros(4800, np.float32)])
        s = rec.create_stream()
        s.accept_waveform(16000, x)
        s.input_finished()
        while rec.is_ready(s):
            rec.decode_stream(s)
        got = " ".join(rec.get_result(s).split())
        # sherpa-onnx runs a chunk while more than T frames are ready
        chunks = -(-(num_frames(len(x)) - m.chunk_input_frames) // m.chunk_shift_frames)
        used = (chunks - 1) * m.chunk_shift_frames + m.chunk_input_frames
        want = _eager_words(tiny_static, x, b.tokens, max_symbols=1, frames=used)
        assert got == want, u.id
        nonempty += bool(want)
    assert nonempty, "the trained tiny model said nothing on the test set"


def test_unit_scale_model_reads_sherpa_onnx_features_exactly(tiny_corpus, tmp_path):
    """A model trained with ``input_scale=1.0`` gets no offset in its sherpa-onnx encoder:
    on the features sherpa-onnx computes (kaldi-native-fbank on samples in [-1, 1],
    silence included), the exported encoder gives eager PyTorch's frames on todm's fbank."""
    knf = pytest.importorskip("kaldi_native_fbank")
    import onnxruntime as ort

    from todm.bundle import load_bundle
    from todm.data.audio import load_audio
    from todm.data.fbank import compute_fbank
    from todm.data.manifest import read_manifest
    from todm.export import export_bundle
    from todm.supernet.model import Supernet
    from todm.supernet.model_config import tiny_config
    from todm.supernet.slicing import slice_subnet

    torch.manual_seed(0)
    model = slice_subnet(Supernet(tiny_config(input_scale=1.0)).eval(), "largest")
    toks = ["<blk>", "<unk>"] + [f"t{i}" for i in range(model.meta.vocab_size - 2)]
    b = load_bundle(export_bundle(model, "onnx", tmp_path / "unit", toks))
    assert b.meta.features.input_scale == 1.0
    x = np.concatenate([np.zeros(3200, np.float32), load_audio(read_manifest(tiny_corpus / "test.jsonl")[0].audio)])
    s = b.meta.features
    o = knf.FbankOptions()
    o.frame_opts.dither, o.frame_opts.snip_edges, o.frame_opts.samp_freq = 0.0, s.snip_edges, s.sample_rate
    o.mel_opts.num_bins, o.mel_opts.low_freq, o.mel_opts.high_freq = s.num_mel_bins, s.low_freq, s.high_freq
    fb = knf.OnlineFbank(o)
    fb.accept_waveform(s.sample_rate, x.tolist())  # as sherpa-onnx does: no scaling
    fb.input_finished()
    sherpa_feats = np.stack([fb.get_frame(i) for i in range(fb.num_frames_ready)]).astype(np.float32)
    sess = ort.InferenceSession(str(b.path / "sherpa-onnx" / "encoder.onnx"), providers=["CPUExecutionProvider"])
    got, got_lens = sess.run(None, {"x": sherpa_feats[None], "x_lens": np.array([len(sherpa_feats)], np.int64)})
    ours = torch.from_numpy(compute_fbank(x, b.meta.features))[None]
    with torch.no_grad():
        want, lens = model.encode(ours, torch.tensor([ours.shape[1]]))
    assert int(got_lens[0]) == int(lens[0])
    np.testing.assert_allclose(got[0, : int(lens[0])], want[0, : int(lens[0])].numpy(), atol=1e-3)


def test_sherpa_online_recognizer_batches_streams_at_different_positions(tiny_bundles, tiny_corpus):
    """sherpa-onnx runs ready streams together in one batch (``decode_streams``); each row's
    state and ``processed_frames`` are its own, so streams started at different times give
    what each gives alone."""
    sherpa_onnx = pytest.importorskip("sherpa_onnx")
    from todm.data.audio import load_audio
    from todm.data.manifest import read_manifest

    rec = _sherpa_recognizer(sherpa_onnx.OnlineRecognizer, tiny_bundles["onnx"], "sherpa-onnx-streaming")
    audio = [np.concatenate([load_audio(u.audio), np.zeros(4800, np.float32)])
             for u in read_manifest(tiny_corpus / "test.jsonl")[:4]]  # fmt: skip

    def alone(x: np.ndarray) -> str:
        s = rec.create_stream()
        s.accept_waveform(16000, x)
        s.input_finished()
        while rec.is_ready(s):
            rec.decode_stream(s)
        return rec.get_result(s)

    streams = [rec.create_stream() for _ in audio]
    pos = [-4800 * i for i in range(len(audio))]  # each starts 0.3 s after the one before
    batch_sizes = []
    while any(p < len(x) for p, x in zip(pos, audio)):
        for i, (s, x) in enumerate(zip(streams, audio)):
            if 0 <= pos[i] < len(x):
                s.accept_waveform(16000, x[pos[i] : pos[i] + 1600])
                if pos[i] + 1600 >= len(x):
                    s.input_finished()
            pos[i] += 1600
        while ready := [s for s in streams if rec.is_ready(s)]:
            batch_sizes.append(len(ready))
            rec.decode_streams(ready)
    assert max(batch_sizes) > 1, "no two streams were decoded together"
    assert [rec.get_result(s) for s in streams] == [alone(x) for x in audio]
