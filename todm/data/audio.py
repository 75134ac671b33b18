"""Reading and writing audio: any sample rate or channel count in, 16 kHz mono float32 out."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from todm.data.resample import resample_poly
from todm.errors import DataError

TARGET_SAMPLE_RATE = 16000


def resample(samples: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited polyphase resampling (Kaiser-windowed sinc, numpy only).

    Args:
        samples: [S] mono samples.

    Returns:
        [ceil(S * target_sr / orig_sr)] float32.
    """
    if orig_sr == target_sr:
        return samples.astype(np.float32, copy=False)
    return resample_poly(samples, orig_sr, target_sr)


def read_audio_info(path: str | os.PathLike[str]) -> sf._SoundFileInfo:
    """The header of an audio file; raises DataError naming the file if it is not audio."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: audio file not found")
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as e:
        raise DataError(f"{path}: not a readable audio file ({e})") from None


def load_audio(path: str | os.PathLike[str], target_sr: int = TARGET_SAMPLE_RATE) -> np.ndarray:
    """Read an audio file as mono float32 in [-1, 1] at ``target_sr``.

    Returns:
        [S] samples.

    Raises:
        DataError: the file is missing, not audio, truncated, empty or holds NaN/inf.
    """
    path = Path(path)
    info = read_audio_info(path)
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        raise DataError(f"{path}: audio data could not be decoded ({e})") from None
    if data.shape[0] == 0:
        raise DataError(f"{path}: audio file holds no samples")
    if info.frames > 0 and data.shape[0] < info.frames:
        raise DataError(
            f"{path}: truncated: header says {info.frames} samples, file holds {data.shape[0]}"
        )
    if not np.isfinite(data).all():
        raise DataError(f"{path}: audio holds NaN or infinite samples")
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return resample(mono, sr, target_sr)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit PCM WAV atomically (temporary name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".wav", dir=path.parent)
    os.close(fd)
    try:
        pcm = np.clip(samples, -1.0, 32767 / 32768)
        sf.write(tmp, pcm, sample_rate, subtype="PCM_16", format="WAV")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
