"""Twins' second seeds against their first, and the supernet runs against the mean of both.

    .venv/bin/python benchmarks/supernet_vs_individual/twin_seed.py [--subnet ID ...]
    .venv/bin/python benchmarks/supernet_vs_individual/twin_seed.py --record

For every twin whose second seed under ``exp/svi-cpu-twin-seed1`` is trained and decoded
(or the ``--subnet`` ones): reads the evaluations kept beside each checkpoint (run.py's reports and ``todm eval
--out`` for the second seeds, see README.md) and prints paired-bootstrap WER ratios: seed 1
against seed 0, then each supernet run, and recipe 2's two seeds together, against the
mean of the twin's two seeds.

``--record`` keeps every twin's WER by seed in ``twin-seeds.json`` beside this script, so
that the analyses which need only WERs (``seed_noise.py``) run from the repository alone:
seed 0 from ``result.json``; seeds 1 and 2 from their evaluations under ``exp/`` with each
utterance's word errors, else as the file already holds them, else (seed 1) derived from
``result-two-seed-twins.json`` (2 x the two-seed mean - seed 0): the evaluations of the
first six second seeds were lost with the machine that made them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from seeds import SPLITS, compact_json

from todm.runtime.scoring import UtteranceErrors, paired_bootstrap_ratio

HERE = Path(__file__).resolve().parent
EXP = Path("exp")
TWINS = {0: EXP / "svi-cpu-3000", 1: EXP / "svi-cpu-twin-seed1", 2: EXP / "svi-cpu-twin-seed2"}
SUPERNETS = {"recipe 2 seed 0": EXP / "svi-cpu-deps", "recipe 2 seed 1": EXP / "svi-cpu-deps-seed1",
             "recipe 3 seed 0": EXP / "svi-cpu-strat"}  # fmt: skip


STEPS = 3000  # every twin trained this long; their decodings are of this step's checkpoint


def eval_name(subnet: str, split: str, step: int = STEPS) -> str:
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


def later_seed_wer(seed: int, subnet: str, split: str, kept: dict[str, Any]) -> dict[str, Any]:
    path = TWINS[seed] / f"individual-{subnet}" / eval_name(subnet, split)
    if path.is_file():
        wer, utts = errors(path, subnet)
        return {"wer": wer, "source": str(path), "words": [u.words for u in utts],
                "word_errors": [u.word_errors for u in utts]}  # fmt: skip
    if split in kept.get(subnet, {}).get(str(seed), {}):
        return kept[subnet][str(seed)][split]
    if seed != 1:
        return {}
    two_seed = json.loads((HERE / "result-two-seed-twins.json").read_text())
    for c in next(iter(two_seed["recipes"].values()))["comparisons"]:
        if c["subnet"] == subnet and c["split"] == split and c["final"]:
            wer0 = first_seed_wers()[subnet][split]
            return {"wer": round(2 * c["twin_wer"] - wer0, 2),
                    "source": "result-two-seed-twins.json: 2 x the two-seed mean - seed 0"}  # fmt: skip
    return {}


def first_seed_wers() -> dict[str, dict[str, float]]:
    rows = json.loads((HERE / "result.json").read_text())["rows"]
    return {r["subnet"]: {split: r[f"individual_{split}_wer"] for split in SPLITS} for r in rows}


def record() -> Path:
    """Writes ``twin-seeds.json``: {"about": {steps}, "twins": {subnet: {seed: {split: {wer, source[, words,
    word_errors]}}}}}; ``run.py --twins-from`` reads it."""
    out = HERE / "twin-seeds.json"
    kept = json.loads(out.read_text())["twins"] if out.is_file() else {}
    twins: dict[str, Any] = {}
    for subnet, wers in first_seed_wers().items():
        seed0 = {split: {"wer": w, "source": "result.json"} for split, w in wers.items()}
        twins[subnet] = {"0": seed0}
        for seed in sorted(TWINS)[1:]:
            later = {split: r for split in SPLITS if (r := later_seed_wer(seed, subnet, split, kept))}
            if len(later) < len(SPLITS):
                break  # seeds are kept in order: a twin's seed 2 only after its seed 1
            twins[subnet][str(seed)] = later
    out.write_text(compact_json({"about": {"steps": STEPS}, "twins": twins}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subnet", nargs="+", help="twins to report (default: every twin with a second seed)")
    ap.add_argument("--record", action="store_true", help="write twin-seeds.json (see above) and stop")
    args = ap.parse_args()
    if args.record:
        print(f"wrote {record()}")
        return
    trained = (d.name.removeprefix("individual-") for d in TWINS[1].glob("individual-*"))
    subnets = args.subnet or sorted(s for s in trained if has_second_seed(s))
    for subnet in subnets:
        report(subnet)


if __name__ == "__main__":
    main()
