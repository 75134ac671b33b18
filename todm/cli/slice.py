"""``todm slice``: cut one subnet out of a trained supernet into a standalone model file."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "slice", help="cut a subnet out of a supernet checkpoint (static .pt)",
        description="Copy one subnet's weights out of a supernet checkpoint into a standalone "
        "model (loadable with torch.load(weights_only=True)); its outputs equal the "
        "supernet's for that subnet. Example: todm slice --checkpoint exp/checkpoints/"
        "last.pt --subnet L4-D192-F512x4-H2x4 --out l4.pt",
    )
    p.add_argument("--checkpoint", type=Path, required=True, help="supernet training checkpoint")
    p.add_argument("--subnet", required=True,
                   help="subnet id (e.g. L6-D256-F1024x6-H4x6), 'largest' or 'smallest'")
    p.add_argument("--out", type=Path, required=True, help="model file to write (.pt)")
    p.set_defaults(func=_slice)


def _slice(args: argparse.Namespace) -> int:
    from todm.supernet.slicing import slice_to_file

    static = slice_to_file(args.checkpoint, args.subnet, args.out)
    n = sum(p.numel() for p in static.parameters())
    print(f"{static.spec.id}: {n:,} parameters -> {args.out}")
    return 0
