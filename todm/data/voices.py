"""The synthetic voices: espeak-ng accents x variants, and flite's general voices."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from todm.data.audio import TARGET_SAMPLE_RATE, resample
from todm.errors import DataError

# espeak-ng's built-in English accents (the mbrola "mb/" voices need extra data files).
ESPEAK_ACCENTS = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
    "en-029", "en-us-nyc",
)  # fmt: skip
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
# flite's awb_time is a limited-domain voice that can only speak clock times.
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
_FLITE_FEMALE = {"slt"}


@dataclass(frozen=True, order=True)
class Voice:
    """A synthesizer voice. ``id`` names it in manifests ("espeak-ng:en-gb+m3", "flite:slt")."""

    engine: str  # "espeak-ng" | "flite"
    name: str

    @property
    def id(self) -> str:
        return f"{self.engine}:{self.name}"

    @property
    def accent(self) -> str:
        return self.name.split("+")[0] if self.engine == "espeak-ng" else f"flite-{self.name}"

    @classmethod
    def from_id(cls, voice_id: str) -> Voice:
        engine, _, name = voice_id.partition(":")
        if engine not in ("espeak-ng", "flite") or not name:
            raise DataError(f"unknown voice id {voice_id!r}; expected 'espeak-ng:NAME' or 'flite:NAME'")
        return cls(engine, name)


def all_voices() -> list[Voice]:
    """Every voice, in a fixed order (espeak accents x variants, then flite)."""
    voices = [Voice("espeak-ng", f"{a}+{v}") for a in ESPEAK_ACCENTS for v in ESPEAK_VARIANTS]
    voices += [Voice("flite", v) for v in FLITE_VOICES]
    return voices


def random_prosody(voice: Voice, rng: np.random.Generator) -> dict[str, float]:
    """Rate and pitch drawn for one utterance, in each engine's own units."""
    if voice.engine == "espeak-ng":
        return {"rate": int(rng.integers(140, 201)), "pitch": int(rng.integers(30, 71))}
    base = 170.0 if voice.name in _FLITE_FEMALE else 105.0
    return {
        "rate": round(float(rng.uniform(0.85, 1.2)), 3),  # duration stretch
        "pitch": round(float(base * rng.uniform(0.85, 1.15)), 1),  # f0 target mean, Hz
    }


def synthesize(
    voice: Voice, text: str, rate: float, pitch: float, sample_rate: int = TARGET_SAMPLE_RATE
) -> np.ndarray:
    """Speak ``text`` with a real synthesizer; returns [S] float32 mono at ``sample_rate``."""
    fd, tmp = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    try:
        if voice.engine == "espeak-ng":
            cmd = ["espeak-ng", "-v", voice.name, "-s", str(int(rate)), "-p", str(int(pitch)),
                   "-w", tmp, "--", text]  # fmt: skip
        else:
            cmd = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={rate}",
                   "--setf", f"int_f0_target_mean={pitch}", "-t", text, "-o", tmp]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=120)
        except FileNotFoundError:
            raise DataError(
                f"{voice.engine} is not installed; run scripts/setup.sh (Debian package "
                f"{voice.engine})"
            ) from None
        if proc.returncode != 0:
            raise DataError(
                f"{voice.engine} failed for voice {voice.name!r}: {proc.stderr.decode()[:200]}"
            )
        data, sr = sf.read(tmp, dtype="float32", always_2d=True)
    finally:
        os.unlink(tmp)
    if data.shape[0] == 0:
        raise DataError(f"{voice.engine} produced no audio for voice {voice.name!r}: {text!r}")
    return resample(data.mean(axis=1), sr, sample_rate)
