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
