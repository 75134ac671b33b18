"""The ``todm`` command: one subcommand per stage.

Each stage's arguments live in ``todm/cli/<stage>.py`` (a ``register(subparsers)``
function); handlers import their stage lazily, so ``todm bench`` runs on a device
without torch, and ``todm --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from todm import __version__

# Order is the order of the pipeline, which is also the order `todm --help` lists them.
STAGE_MODULES = ["demo", "data", "train", "slice", "export", "bench"]


class CLIError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="todm",
        description=(
            "Train once, deploy many: one supernet speech recognizer, trained once, "
            "sliced into subnets sized for each device, exported and measured on it."
        ),
    )
    parser.add_argument("--version", action="version", version=f"todm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in STAGE_MODULES:
        importlib.import_module(f"todm.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - user-facing errors of any stage
        from todm.errors import TodmError

        if isinstance(e, (TodmError, CLIError)):
            print(f"todm {args.command}: error: {e}", file=sys.stderr)
            return 2
        raise
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
