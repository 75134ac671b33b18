from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from todm.cli import main
from todm.data.manifest import read_manifest
from todm.data.tokenizer import Tokenizer


def test_synth_tokenizer_stats_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus"
    assert main(["data", "synth", "--out", str(out), "--domain", "commands", "--num-utts", "12",
                 "--workers", "2", "--quiet"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "test-unseen-voice" in printed and "12 utterances" in printed
    assert len(read_manifest(out / "train.jsonl")) == 9
    assert main(["data", "tokenizer", "--manifest", str(out / "train.jsonl"), "--kind", "char",
                 "--out", str(tmp_path / "tok")]) == 0  # fmt: skip
    assert Tokenizer.load(tmp_path / "tok").vocab_size > 10
    assert main(["data", "stats", "--manifest", str(out / "dev.jsonl"), "--out", str(tmp_path / "s.json")]) == 0


def test_console_script_help() -> None:
    todm = Path(sys.executable).parent / "todm"
    out = subprocess.run([str(todm), "data", "synth", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--domain" in out.stdout


def test_synth_from_a_text_file_sized_in_hours(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "story.txt"
    text.write_text(
        "The 3 little pigs built houses. The wolf came by at 9 o'clock!\n\n"
        "He huffed and he puffed. Then the house of straw fell down quickly.\n"
        "Too short. The brick house stood firm against every storm that year.\n"
    )
    out = tmp_path / "c"
    args = ["data", "synth", "--out", str(out), "--text", str(text), "--hours", "0.01",
            "--min-words", "4", "--max-words", "12", "--voices", "espeak-ng:en-us+m1",
            "espeak-ng:en-029+f1", "--workers", "1", "--quiet"]  # fmt: skip
    assert main(args) == 0
    texts = {u.text for s in ("train", "dev", "test", "test-unseen-voice")
             for u in read_manifest(out / f"{s}.jsonl")}  # fmt: skip
    # Only sentences of the file, normalized, within the word range (4..12 words).
    assert "the three little pigs built houses" in texts
    assert "too short" not in texts and all(4 <= len(t.split()) <= 12 for t in texts)
    assert len(texts) == 5  # the file has five usable sentences; fewer than 0.01 h asks for
    assert "utterances" in capsys.readouterr().out


def test_bad_synth_arguments_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["data", "synth", "--out", str(tmp_path), "--num-utts", "8", "--domain", "digits",
            "--voices", "espeak-ng:xx-yy+m1", "--text", str(tmp_path / "none.txt")]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "espeak-ng:xx-yy+m1" in err and "none.txt not found" in err and "only the open domain" in err


def test_voices_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "voices"]) == 0
    out = capsys.readouterr().out
    assert "espeak-ng:en-gb-scotland+f3" in out and "flite:slt" in out
