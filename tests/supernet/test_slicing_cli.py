"""``todm slice`` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from todm.cli import main


def test_cli_reports_a_missing_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["slice", "--checkpoint", str(tmp_path / "none.pt"), "--subnet", "largest",
               "--out", str(tmp_path / "m.pt")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "todm slice: error:" in err and "none.pt" in err and "not found" in err
    assert not (tmp_path / "m.pt").exists()


def test_cli_slices_a_training_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from todm.supernet.checkpoint import save_checkpoint
    from todm.supernet.model import Supernet, tiny_config
    from todm.supernet.static import StaticModel

    torch.manual_seed(0)
    net = Supernet(tiny_config())
    path = tmp_path / "checkpoints" / "last.pt"
    save_checkpoint(path, {"model_config": net.config.to_dict(), "model": net.state_dict()})
    out = tmp_path / "small.pt"
    assert main(["slice", "--checkpoint", str(path), "--subnet", "smallest", "--out", str(out)]) == 0
    assert "L1-D16-F32x1-H1x1" in capsys.readouterr().out
    static = StaticModel.load(out)
    net.eval().set_active_subnet("smallest")
    feats, lens = torch.randn(1, 40, 80), torch.tensor([40])
    with torch.no_grad():
        want = net.encoder_proj(net(feats, lens)[0])
        assert torch.allclose(static.encode(feats, lens)[0], want, atol=1e-5)
    rc = main(["slice", "--checkpoint", str(path), "--subnet", "L9-D16-F32x9-H1x9", "--out", str(out)])
    assert rc == 2 and "depth=9" in capsys.readouterr().err
