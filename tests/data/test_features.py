"""Fbank: numpy (device) vs torch (training) vs kaldi-native-fbank (sherpa-onnx's front end)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from todm.bundle import FeatureSettings
from todm.data.audio import load_audio
from todm.data.fbank import OnlineFbank, compute_fbank, num_frames
from todm.data.fbank_torch import fbank_batch
from todm.data.manifest import read_manifest
from todm.data.stats import FeatureStats, compute_feature_stats


@pytest.fixture(scope="module")
def speech(tiny_corpus: Path) -> list[np.ndarray]:
    return [load_audio(u.audio) for u in read_manifest(tiny_corpus / "test.jsonl")[:4]]


def _knf(samples: np.ndarray, s: FeatureSettings = FeatureSettings()) -> np.ndarray:
    knf = pytest.importorskip("kaldi_native_fbank")
    o = knf.FbankOptions()
    o.frame_opts.dither = s.dither
    o.frame_opts.snip_edges = s.snip_edges
    o.frame_opts.samp_freq = s.sample_rate
    o.mel_opts.num_bins = s.num_mel_bins
    o.mel_opts.low_freq = s.low_freq
    o.mel_opts.high_freq = s.high_freq
    fb = knf.OnlineFbank(o)
    fb.accept_waveform(s.sample_rate, (samples * s.input_scale).tolist())
    fb.input_finished()
    return np.stack([fb.get_frame(i) for i in range(fb.num_frames_ready)])


def test_numpy_matches_torch(speech: list[np.ndarray]) -> None:
    lengths = torch.tensor([len(x) for x in speech])
    wavs = torch.zeros(len(speech), int(lengths.max()))
    for i, x in enumerate(speech):
        wavs[i, : len(x)] = torch.from_numpy(x)
    # float64 is the parity check (1e-4); float32, the training precision, differs only in
    # the lowest bins of near-silent frames.
    for dtype, tol in ((torch.float64, 1e-4), (torch.float32, 5e-3)):
        feats, lens = fbank_batch(wavs, lengths, dtype=dtype)
        for i, x in enumerate(speech):
            ref = compute_fbank(x)
            assert int(lens[i]) == len(ref) == num_frames(len(x))
            diff = np.abs(feats[i, : lens[i]].numpy() - ref)
            assert diff.max() <= tol and np.percentile(diff, 99) <= 1e-4
            assert not feats[i, lens[i] :].any(), "padding frames are zero"


def test_numpy_matches_kaldi_native_fbank(speech: list[np.ndarray]) -> None:
    for x in speech:
        ours, ref = compute_fbank(x), _knf(x)
        assert ours.shape == ref.shape
        diff = np.abs(ours - ref)
        # kaldi-native-fbank computes in float32, we in float64. Bins within 12 nats
        # (~52 dB) of their frame's strongest bin agree to 1e-4; bins far below it carry
        # float32's rounding of the FFT (up to ~1e-3 in log energy), which our own
        # pipeline run in float32 shows too.
        strong = ours > ours.max(axis=1, keepdims=True) - 12.0
        assert strong.mean() > 0.9
        assert diff[strong].max() <= 1e-4
        assert np.median(diff) < 1e-5 and diff.max() < 3e-3


@pytest.mark.parametrize("piece", [1, 160, 333, 4000])
def test_online_equals_offline(speech: list[np.ndarray], piece: int) -> None:
    x = speech[0][: 16000 if piece == 1 else None]
    online = OnlineFbank()
    ready = []
    for i in range(0, len(x), piece):
        online.accept_waveform(x[i : i + piece])
        ready.append(online.num_frames_ready)
    assert ready == sorted(ready)
    online.input_finished()
    got = online.get_frames(0, online.num_frames_ready)
    np.testing.assert_array_equal(got, compute_fbank(x))


def test_online_with_random_and_empty_pieces(speech: list[np.ndarray]) -> None:
    rng = np.random.default_rng(0)
    for x in speech[1:3]:
        online, pos = OnlineFbank(), 0
        while pos < len(x):
            n = int(rng.choice([0, 1, 7, 200, 399, 400, 1601]))
            online.accept_waveform(x[pos : pos + n])
            pos += n
            # A frame is ready once its whole window has arrived, and not before.
            assert online.num_frames_ready == max(0, (pos - 120) // 160) or pos >= len(x)
        online.input_finished()
        np.testing.assert_array_equal(online.get_frames(0, online.num_frames_ready), compute_fbank(x))
    with pytest.raises(RuntimeError):
        online.accept_waveform(x[:10])


def test_short_and_empty_inputs() -> None:
    assert compute_fbank(np.zeros(0, np.float32)).shape == (0, 80)
    assert compute_fbank(np.full(100, 0.1, np.float32)).shape == (1, 80)
    assert np.isfinite(compute_fbank(np.zeros(1600, np.float32))).all()


def test_stats_round_trip(tiny_corpus: Path, tmp_path: Path) -> None:
    stats = compute_feature_stats(read_manifest(tiny_corpus / "dev.jsonl"))
    assert stats.mean.shape == (80,) and (stats.std > 0).all() and stats.num_frames > 100
    stats.save(tmp_path / "s.json")
    back = FeatureStats.load(tmp_path / "s.json")
    np.testing.assert_allclose(back.mean, stats.mean)


def test_numpy_front_end_imports_without_torch() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, *a):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np\n"
        "from todm.data.fbank import compute_fbank\n"
        "from todm.data import manifest, audio, tokenizer, synth, check, importers, stats\n"
        "from todm.data import testing, text, voices, degrade, domains\n"
        "import todm.cli.data\n"
        "print(compute_fbank(np.zeros(1600, np.float32)).shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(10, 80)"


def test_unit_scale_is_sherpa_onnx_front_end(speech: list[np.ndarray]) -> None:
    """``input_scale=1.0`` computes what sherpa-onnx computes (kaldi-native-fbank on samples
    in [-1, 1]), floor included: digitally silent stretches, which the 32768 scale floors
    differently, agree too."""
    unit = FeatureSettings(input_scale=1.0)
    floor = float(np.log(np.finfo(np.float32).eps))
    for x in speech:
        x = np.concatenate([np.zeros(1600, np.float32), x])  # 100 ms of digital silence first
        ours, sherpa = compute_fbank(x, unit), _knf(x, unit)
        assert ours.shape == sherpa.shape
        floored = ours <= floor + 1e-6
        assert floored[:5].all() and np.array_equal(floored, sherpa <= floor + 1e-6)
        strong = ours > ours.max(axis=1, keepdims=True) - 12.0
        assert np.abs(ours - sherpa)[strong].max() <= 1e-4
        # on Kaldi's scale every unfloored bin sits 2 ln 32768 higher and floored ones stay:
        # no constant offset maps sherpa-onnx's features onto a model trained there
        kaldi = compute_fbank(x)
        assert np.allclose(kaldi[~floored], ours[~floored] + 2 * np.log(32768.0), atol=1e-3)
        assert (kaldi[:5] == floor).all()
