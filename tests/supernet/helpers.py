"""Helpers shared by the supernet tests."""

from __future__ import annotations

import torch

from todm.supernet.model import Supernet


def strong_position_bias(net: Supernet) -> None:
    """Make the (small at init) relative-position biases matter, so errors in them show."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("pos_bias"):
                p.normal_()
