"""Importing real-corpus layouts: LibriSpeech trees and generic JSONL manifests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from todm.data.audio import load_audio
from todm.data.importers import import_jsonl, import_librispeech
from todm.data.manifest import read_manifest
from todm.data.voices import Voice, synthesize
from todm.errors import DataError


def _librispeech_tree(root: Path) -> dict[str, str]:
    """Two speakers, flac at 22.05 kHz stereo, as LibriSpeech lays them out."""
    texts = {"19-198-0000": "HELLO THERE MY FRIEND", "19-198-0001": "IT IS 5 O'CLOCK",
             "26-495-0000": "GOOD MORNING"}  # fmt: skip
    for utt, text in texts.items():
        spk, chap, _ = utt.split("-")
        d = root / spk / chap
        d.mkdir(parents=True, exist_ok=True)
        mono = synthesize(Voice.from_id("espeak-ng:en-us+m3"), text.lower(), 170, 50, sample_rate=22050)
        sf.write(d / f"{utt}.flac", np.stack([mono, 0.5 * mono], axis=1), 22050)
        with open(d / f"{spk}-{chap}.trans.txt", "a") as f:
            f.write(f"{utt} {text}\n")
    return texts


def test_librispeech_layout(tmp_path: Path) -> None:
    texts = _librispeech_tree(tmp_path / "LibriSpeech" / "dev-clean")
    utts = import_librispeech(tmp_path / "LibriSpeech", tmp_path / "m.jsonl")
    assert sorted(u.id for u in utts) == sorted(texts)
    back = {u.id: u for u in read_manifest(tmp_path / "m.jsonl")}
    assert back["19-198-0001"].text == "it is five o'clock"
    assert back["26-495-0000"].speaker == "26"
    u = back["19-198-0000"]
    assert u.sampling_rate == 22050 and u.custom["channels"] == 2
    audio = load_audio(u.audio)  # brought to 16 kHz mono
    assert audio.ndim == 1 and abs(len(audio) / 16000 - u.duration) < 0.01


def test_librispeech_missing_audio_names_the_line(tmp_path: Path) -> None:
    _librispeech_tree(tmp_path)
    (tmp_path / "26" / "495" / "26-495-0000.flac").unlink()
    with pytest.raises(DataError, match=r"26-495\.trans\.txt:1: audio for 26-495-0000 not found"):
        import_librispeech(tmp_path, tmp_path / "m.jsonl")


def test_jsonl_with_nemo_and_lhotse_fields(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(8000, np.float32) + 0.01, 8000)
    lines = [
        {"audio_filepath": "a.wav", "text": "Hello 2 you", "duration": 1.0},
        {"id": "cut1", "recording": {"sources": [{"type": "file", "source": str(wav)}]},
         "supervisions": [{"text": "Lhotse style", "speaker": "spk9"}]},
    ]  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    utts = import_jsonl(src, tmp_path / "out.jsonl")
    assert [u.text for u in utts] == ["hello two you", "lhotse style"]
    assert utts[1].speaker == "spk9" and utts[1].duration == 1.0 and utts[0].id == "a"


def test_jsonl_without_audio_field_lists_accepted_names(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n')
    with pytest.raises(DataError, match=r"in\.jsonl:1: no audio field; accepted names: audio: audio, audio_filepath"):
        import_jsonl(src, tmp_path / "out.jsonl")


def test_jsonl_segments_of_longer_recordings_are_refused(tmp_path: Path) -> None:
    wav = tmp_path / "long.wav"
    sf.write(wav, np.zeros(32000, np.float32) + 0.01, 16000)
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"audio_filepath": "long.wav", "text": "a", "offset": 0.0, "duration": 2.0}) + "\n"
        + json.dumps({"audio_filepath": "long.wav", "text": "b", "offset": 1.5, "duration": 0.5}) + "\n"
    )
    with pytest.raises(DataError, match=r"in\.jsonl:2: 'offset': 1\.5 marks a segment"):
        import_jsonl(src, tmp_path / "out.jsonl")
