"""Bad input: every problem named with its file and line; nothing good is lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from todm.cli import main
from todm.data.audio import load_audio
from todm.data.check import check_manifest
from todm.data.manifest import read_manifest
from todm.errors import DataError


@pytest.fixture
def corpus(tiny_corpus: Path, tmp_path: Path) -> Path:
    """A copy of a few good utterances, plus one broken file of each kind."""
    good = read_manifest(tiny_corpus / "dev.jsonl")[:3]
    d = tmp_path / "c"
    d.mkdir()
    lines = []
    for u in good:
        shutil.copy(u.audio, d / Path(u.audio).name)
        lines.append(json.dumps({"id": u.id, "audio": Path(u.audio).name, "text": u.text, "duration": u.duration}))
    src = d / Path(good[0].audio).name
    data = src.read_bytes()
    (d / "truncated.wav").write_bytes(data[: len(data) // 2])
    (d / "corrupt.wav").write_bytes(b"RIFF" + bytes(range(256)) * 8)
    (d / "empty.wav").write_bytes(b"")
    (d / "text.wav").write_text("this is not audio at all")
    sf.write(d / "nan.wav", np.full(16000, np.nan, np.float32), 16000, subtype="FLOAT")
    sf.write(d / "zero_len.wav", np.zeros(0, np.float32), 16000)
    sf.write(d / "rate8k.wav", load_audio(src, 8000), 8000)
    bad = [
        ("truncated.wav", "truncated"),
        ("corrupt.wav", "not a readable audio file"),
        ("empty.wav", "not a readable audio file"),
        ("text.wav", "not a readable audio file"),
        ("nan.wav", "NaN"),
        ("zero_len.wav", "no samples"),
        ("missing.wav", "audio file not found"),
    ]
    for name, _ in bad:
        lines.append(json.dumps({"id": name, "audio": name, "text": "one two", "duration": 1.0}))
    lines.append(json.dumps({"id": "resampled", "audio": "rate8k.wav", "text": good[0].text, "duration": good[0].duration}))
    lines.append('{"id": "nofields", "audio": "x.wav"}')
    lines.append("{not json")
    manifest = d / "m.jsonl"
    with open(manifest, "wb") as f:
        f.write(("\n".join(lines) + "\n").encode())
        f.write(b'{"id": "bad-utf8", "text": "\xff\xfe"}\n')
        name = Path(good[0].audio).name
        for extra in (
            {"id": "long", "audio": name, "text": good[0].text, "duration": good[0].duration + 3},
            {"id": "notext", "audio": name, "text": "?!", "duration": good[0].duration},
        ):
            f.write((json.dumps(extra) + "\n").encode())
    return manifest


def test_every_problem_is_reported_with_file_and_line(corpus: Path) -> None:
    report = check_manifest(corpus)
    assert [u.id for u in report.good][-1] == "resampled"  # another rate is not an error
    assert len(report.good) == 4
    msgs = {ln: msg for ln, _, msg in report.problems}
    expected = ["truncated", "not a readable audio file", "not a readable audio file",
                "not a readable audio file", "NaN", "no samples", "audio file not found"]  # fmt: skip
    for i, needle in enumerate(expected, start=4):
        assert msgs[i].startswith(f"{corpus}:{i}: ") and needle in msgs[i], msgs[i]
    assert "missing field(s) text, duration" in msgs[12]
    assert "not valid JSON" in msgs[13]
    assert "not valid UTF-8" in msgs[14]
    assert "manifest says" in msgs[15] and msgs[15].startswith(f"{corpus}:15: {corpus.parent}")
    assert "empty after normalization" in msgs[16]
    assert len(report.problems) == 12


def test_cli_fails_without_skip_bad_and_cleans_with_it(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(corpus)]) == 1
    err = capsys.readouterr().err
    assert f"{corpus}:5:" in err and "truncated" in err
    cleaned, rejects = corpus.parent / "clean.jsonl", corpus.parent / "rejects.jsonl"
    assert main(["data", "check", str(corpus), "--skip-bad", "--cleaned", str(cleaned), "--rejects", str(rejects)]) == 0
    assert len(read_manifest(cleaned)) == 4
    rej = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert len(rej) == 12 and all(r["problem"] and "line" in r for r in rej)
    assert main(["data", "check", str(cleaned)]) == 0


def test_load_audio_errors_name_the_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.wav"
    with pytest.raises(DataError, match=str(p)):
        load_audio(p)


def test_missing_manifest_is_a_clean_cli_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(tmp_path / "none.jsonl")]) == 2
    assert "manifest not found" in capsys.readouterr().err
