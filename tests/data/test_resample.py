"""The numpy resampler: scipy's filter to float precision, band-limited, any rate pair."""

from __future__ import annotations

import numpy as np
import pytest

from todm.data.audio import load_audio
from todm.data.resample import resample_poly

RATES = [(22050, 16000), (44100, 16000), (48000, 16000), (8000, 16000), (11025, 16000), (16000, 22050)]


@pytest.mark.parametrize("orig,target", RATES)
@pytest.mark.parametrize("length", [0, 1, 7, 30000])
def test_matches_scipy_resample_poly(orig: int, target: int, length: int) -> None:
    signal = pytest.importorskip("scipy.signal")
    x = np.random.default_rng(length).standard_normal(length).astype(np.float32) * 0.3
    g = np.gcd(orig, target)
    ref = signal.resample_poly(x.astype(np.float64), target // g, orig // g, window=("kaiser", 8.0))
    ours = resample_poly(x, orig, target)
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    if length:
        assert np.abs(ours - ref).max() < 1e-6


def _tone(freq: float, sr: int, seconds: float = 1.0) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(int(sr * seconds)) / sr).astype(np.float32)


def test_keeps_the_passband_and_removes_what_would_alias() -> None:
    kept = resample_poly(_tone(1000.0, 22050), 22050, 16000)
    expected = _tone(1000.0, 16000)
    core = slice(800, -800)  # away from the edges, where the signal starts and stops
    assert np.abs(kept[core] - expected[core]).max() < 1e-3
    # 10 kHz is above the new Nyquist (8 kHz): it must not fold back to 6 kHz.
    aliased = resample_poly(_tone(10000.0, 22050), 22050, 16000)
    assert np.sqrt(np.mean(aliased[core] ** 2)) < 1e-3


def test_rejects_nonpositive_rates() -> None:
    with pytest.raises(ValueError, match="positive"):
        resample_poly(np.zeros(4), 0, 16000)


def test_load_audio_needs_no_scipy(tmp_path) -> None:
    import subprocess
    import sys

    import soundfile as sf

    path = tmp_path / "a.wav"
    sf.write(path, np.stack([_tone(440.0, 44100), _tone(440.0, 44100)], axis=1) * 0.5, 44100)
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, *a):\n"
        "        if name.split('.')[0] in ('scipy', 'torch'):\n"
        "            raise ImportError(name + ' blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from todm.data.audio import load_audio\n"
        f"print(len(load_audio({str(path)!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == 16000 == len(load_audio(path))
