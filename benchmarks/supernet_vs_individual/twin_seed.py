"""Twins' second seeds against their first, and the supernet runs against the mean of both.

    .venv/bin/python benchmarks/supernet_vs_individual/twin_seed.py [--subnet ID ...]

For every twin whose second seed under ``exp/svi-cpu-twin-seed1`` is trained and decoded
(or the ``--subnet`` ones): reads the evaluations kept beside each checkpoint (run.py's reports and ``todm eval
--out`` for the second seeds, see README.md) and prints paired-bootstrap WER ratios: seed 1
against seed 0, then each supernet run, and recipe 2's two seeds together, against the
mean of the twin's two seeds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seeds import SPLITS

from todm.runtime.scoring import UtteranceErrors, paired_bootstrap_ratio

EXP = Path("exp")
TWINS = {0: EXP / "svi-cpu-3000", 1: EXP / "svi-cpu-twin-seed1"}
SUPERNETS = {"recipe 2 seed 0": EXP / "svi-cpu-deps", "recipe 2 seed 1": EXP / "svi-cpu-deps-seed1",
             "recipe 3 seed 0": EXP / "svi-cpu-strat"}  # fmt: skip


def eval_name(subnet: str, split: str, step: int = 3000) -> str:
    """The file ``todm eval --out`` (README.md) and run.py's report keep a decoding in."""
    return f"eval-{subnet}-open-2h-eval-{split}-greedy-all-step-{step}.json"


def has_second_seed(subnet: str) -> bool:
    """Whether the twin's second seed is trained and decoded on both splits."""
    return all((TWINS[1] / f"individual-{subnet}" / eval_name(subnet, s)).is_file() for s in SPLITS)


def errors(path: Path, subnet: str) -> tuple[float, list[UtteranceErrors]]:
    try:
        r = json.loads(path.read_text())["subnets"][subnet]
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise SystemExit(f"{path}: no evaluation of {subnet} ({e}); decode it first (README.md)") from e
    return r["wer"], [UtteranceErrors.from_dict(u) for u in r["utterances"]]


def summed(a: list[UtteranceErrors], b: list[UtteranceErrors]) -> list[UtteranceErrors]:
    """Two runs' errors on each utterance added: their mean WER, as a ratio's numerator or denominator."""
    return [UtteranceErrors(x.words, x.word_errors + y.word_errors, x.chars, x.char_errors + y.char_errors)
            for x, y in zip(a, b)]  # fmt: skip


def report(subnet: str) -> None:
    for split in SPLITS:
        name = eval_name(subnet, split)
        w0, twin0 = errors(TWINS[0] / f"individual-{subnet}" / name, subnet)
        w1, twin1 = errors(TWINS[1] / f"individual-{subnet}" / name, subnet)
        sups = {label: errors(exp / "supernet" / name, subnet)[1] for label, exp in SUPERNETS.items()}
        twins = summed(twin0, twin1)
        pairs = [("twin seed 1 / twin seed 0", twin1, twin0)]
        # one run's errors counted twice against the two twins' summed: its WER over their mean
        pairs += [(f"supernet {label} / twin mean", summed(errs, errs), twins) for label, errs in sups.items()]
        pairs.append(("supernet recipe 2 mean / twin mean", summed(sups["recipe 2 seed 0"], sups["recipe 2 seed 1"]),
                      twins))  # fmt: skip
        print(f"{subnet} {split}: twin WER seed 0 {w0:.2f}, seed 1 {w1:.2f}")
        for label, a, b in pairs:
            iv = paired_bootstrap_ratio(a, b)
            print(f"{subnet} {split}: {label}: {iv.ratio:.3f} [{iv.low:.3f}, {iv.high:.3f}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subnet", nargs="+", help="twins to report (default: every twin with a second seed)")
    args = ap.parse_args()
    trained = (d.name.removeprefix("individual-") for d in TWINS[1].glob("individual-*"))
    subnets = args.subnet or sorted(s for s in trained if has_second_seed(s))
    for subnet in subnets:
        report(subnet)


if __name__ == "__main__":
    main()
