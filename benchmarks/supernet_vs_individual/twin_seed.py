"""A second seed of one twin (L4-D96-F192x4-H2x4) against the first, and both supernet seeds against both twins.

    .venv/bin/python benchmarks/supernet_vs_individual/twin_seed.py

Reads the evaluations kept beside each checkpoint (run.py's reports and ``todm eval --out``
for the second twin, see README.md) and prints paired-bootstrap WER ratios.
"""

from __future__ import annotations

import json
from pathlib import Path

from todm.runtime.scoring import UtteranceErrors, paired_bootstrap_ratio

SUBNET = "L4-D96-F192x4-H2x4"
EXP = Path("exp")


def errors(path: Path) -> tuple[float, list[UtteranceErrors]]:
    r = json.loads(path.read_text())["subnets"][SUBNET]
    return r["wer"], [UtteranceErrors.from_dict(u) for u in r["utterances"]]


def summed(a: list[UtteranceErrors], b: list[UtteranceErrors]) -> list[UtteranceErrors]:
    """Two runs' errors on each utterance added: their mean WER, as a ratio's numerator or denominator."""
    return [UtteranceErrors(x.words, x.word_errors + y.word_errors, x.chars, x.char_errors + y.char_errors)
            for x, y in zip(a, b)]  # fmt: skip


def main() -> None:
    for split in ("test", "test-unseen-voice"):
        name = f"eval-{SUBNET}-open-2h-eval-{split}-greedy-all-step-3000.json"
        w0, twin0 = errors(EXP / "svi-cpu-3000" / f"individual-{SUBNET}" / name)
        w1, twin1 = errors(EXP / "svi-cpu-twin-seed1" / f"individual-{SUBNET}" / name)
        _, sup0 = errors(EXP / "svi-cpu-deps" / "supernet" / name)
        _, sup1 = errors(EXP / "svi-cpu-deps-seed1" / "supernet" / name)
        for label, a, b in (("twin seed 1 / twin seed 0", twin1, twin0), ("supernet seed 0 / twin seed 1", sup0, twin1),
                            ("supernet seed 1 / twin seed 1", sup1, twin1),
                            ("supernet mean / twin mean", summed(sup0, sup1), summed(twin0, twin1))):  # fmt: skip
            iv = paired_bootstrap_ratio(a, b)
            print(f"{split}: {label}: {iv.ratio:.3f} [{iv.low:.3f}, {iv.high:.3f}]")
        print(f"{split}: twin WER seed 0 {w0:.2f}, seed 1 {w1:.2f}")


if __name__ == "__main__":
    main()
