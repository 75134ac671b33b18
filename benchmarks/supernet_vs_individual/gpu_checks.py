"""Checks of the code paths that only a GPU takes, run by ``gpu_run.sh`` before it trains.

    python gpu_checks.py --out gpu-checks.json

``todm.supernet.rnnt_loss`` hands CUDA logits to torchaudio's RNN-T kernel when torchaudio
is importable (the GPU image has it; this project's CPU venv cannot), so that path is
compared here with todm's own loss on the same CUDA tensors: values and gradients, on
random lattices of several shapes with ragged lengths. Without a GPU or torchaudio it
says so and checks nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from todm.supernet import rnnt_loss as loss_module
from todm.supernet.rnnt_loss_lean import rnnt_loss_lean

SHAPES = [(1, 5, 3, 7), (4, 40, 12, 30), (8, 150, 40, 33)]  # B, T, U, V


def compare_losses(device: str = "cuda", seed: int = 0) -> list[dict[str, Any]]:
    """The two losses side by side; on "cpu" both are todm's (a check of this code alone)."""
    rows = []
    gen = torch.Generator(device=device).manual_seed(seed)
    for bsz, t_max, u_max, vocab in SHAPES:
        logits = torch.randn(bsz, t_max, u_max + 1, vocab, device=device, generator=gen)
        targets = torch.randint(1, vocab, (bsz, u_max), device=device, generator=gen)
        logit_lens = torch.randint(max(t_max // 2, 1), t_max + 1, (bsz,), device=device, generator=gen)
        target_lens = torch.randint(0, u_max + 1, (bsz,), device=device, generator=gen)
        logit_lens[0], target_lens[0] = t_max, u_max  # one utterance fills the padded lattice
        got = {}
        for name, fn in (("torchaudio", loss_module.rnnt_loss), ("todm", rnnt_loss_lean)):
            x = logits.clone().requires_grad_(True)
            loss = fn(x, targets, logit_lens, target_lens, 0, reduction="none")
            loss.sum().backward()
            got[name] = (loss.detach(), x.grad)
        (la, ga), (lb, gb) = got["torchaudio"], got["todm"]
        rows.append({"shape": [bsz, t_max, u_max, vocab],
                     "max_loss_diff": float((la - lb).abs().max()),
                     "max_relative_loss_diff": float(((la - lb).abs() / lb.abs().clamp_min(1e-6)).max()),
                     "max_grad_diff": float((ga - gb).abs().max())})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    result: dict[str, Any] = {"cuda": torch.cuda.is_available(),
                              "torchaudio_loss": loss_module._TA_LOSS is not None}  # fmt: skip
    if result["cuda"] and result["torchaudio_loss"]:
        rows = compare_losses()
        result["rnnt_loss_torchaudio_vs_todm"] = rows
        # float32 over a few hundred lattice steps: agreement to 1e-3 relative is the same loss
        result["rnnt_loss_agrees"] = all(r["max_relative_loss_diff"] < 1e-3 and r["max_grad_diff"] < 1e-3 for r in rows)
    else:
        result["skipped"] = "needs CUDA and torchaudio"
    text = json.dumps(result, indent=2) + "\n"
    args.out.write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
