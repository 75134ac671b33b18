"""Checkpoints: atomic writes, weights-only reads, clear errors, ready for slicing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from todm.errors import ConfigError
from todm.supernet.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from todm.supernet.model import Supernet, tiny_config
from todm.supernet.slicing import slice_subnet


def _record(model: Supernet) -> dict:
    return {"model": model.state_dict(), "model_config": model.config.to_dict(),
            "position": {"step": 7, "epoch": 1, "batch": 3}}  # fmt: skip


def test_round_trip_gives_a_supernet_ready_for_slicing(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Supernet(tiny_config())
    path = tmp_path / "exp" / "checkpoints" / "last.pt"
    save_checkpoint(path, _record(model))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temp file left
    loaded = load_checkpoint(path)
    assert not loaded.model.training
    assert loaded.exp_dir == tmp_path / "exp" and loaded.tokenizer_dir == tmp_path / "exp" / "tokenizer"
    assert loaded.record["position"]["step"] == 7
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k], v), k
    feats, lens = torch.randn(2, 40, 80), torch.tensor([40, 31])
    static = slice_subnet(path, "smallest")
    loaded.model.set_active_subnet("smallest")
    with torch.no_grad():
        enc, enc_lens = loaded.model(feats, lens)
        out, out_lens = static.encode(feats, lens)
        want = loaded.model.encoder_proj(enc)
    n = int(out_lens.max())
    torch.testing.assert_close(out[:, :n], want[:, :n], rtol=1e-4, atol=1e-5)


def test_an_interrupted_save_leaves_the_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = Supernet(tiny_config())
    path = tmp_path / "last.pt"
    save_checkpoint(path, _record(model))
    before = path.read_bytes()

    def dies(obj, f, *a, **k):  # the process dies half-way through writing
        with open(f, "wb") as fh:
            fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dies)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, _record(model))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["last.pt"]


def test_unreadable_files_are_config_errors_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing.pt"):
        read_checkpoint(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="junk.pt: not a readable todm checkpoint: not a file torch.save wrote"):
        load_checkpoint(junk)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(ConfigError, match="not a todm checkpoint"):
        load_checkpoint(other)


class Payload:
    """Stands for code an attacker would pickle into a checkpoint."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    # weights_only=True: an object whose unpickling runs code cannot ride in a checkpoint.
    evil = tmp_path / "evil.pt"
    torch.save({"format": "todm.checkpoint", "version": 1, "x": Payload()}, evil)
    with pytest.raises(ConfigError, match="evil.pt: .*holds more than tensors.*system.*no code in it runs") as e:
        read_checkpoint(evil)
    # torch's own message advises loading with weights_only=False; todm must not pass that on
    assert "weights_only` set to `False`" not in str(e.value)


def test_cut_short_checkpoints_say_so(tmp_path: Path) -> None:
    whole = tmp_path / "whole.pt"
    save_checkpoint(whole, _record(Supernet(tiny_config())))
    data = whole.read_bytes()
    half, empty = tmp_path / "half.pt", tmp_path / "empty.pt"
    half.write_bytes(data[: len(data) // 2])
    empty.write_bytes(b"")
    with pytest.raises(ConfigError, match="half.pt: not a readable todm checkpoint: .*zip archive"):
        read_checkpoint(half)
    with pytest.raises(ConfigError, match="empty.pt: not a readable todm checkpoint: empty or cut short"):
        read_checkpoint(empty)


def test_weights_that_do_not_fit_the_config(tmp_path: Path) -> None:
    model = Supernet(tiny_config())
    rec = _record(model)
    rec["model_config"] = tiny_config(d_model=48, d_model_choices=[16, 48]).to_dict()
    path = tmp_path / "bad.pt"
    save_checkpoint(path, rec)
    with pytest.raises(ConfigError, match="do not fit"):
        load_checkpoint(path)
