"""Seen sentences: does a supernet's subnet fit its training data as its twin does?

    .venv/bin/python benchmarks/supernet_vs_individual/seen_sentences.py --record [--steps 3000 6000 9000]

Decodes every second utterance of the training manifest (the sentences and voices both
sides trained on, without speed perturbation or SpecAugment) with the averaged
checkpoints of recipe 3's seed 2 and of its seed-2 twins, at 3,000 and 6,000 steps
("Twice the steps"; 9,000 with ``--steps``, "Three times the steps"), and sets each subnet's supernet / twin WER ratio there beside its
ratio on ``test`` (new sentences of the training voices), read from the evaluations kept
beside the same checkpoints. A gap that is as wide on the training sentences says the
subnets fit their data less than their twins (an optimization gap); one that closes there
says they fit it as well and carry it less to new sentences (a generalization gap). The
reading and its thresholds are in the benchmark README ("Seen sentences").
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from average_effect import wer_of
from readings import geo_mean, write_reading

ROOT = Path(__file__).resolve().parents[2]
SUPERNET = ROOT / "exp/svi-cpu-scale0.1-long-strat-seed2/supernet"
TWINS = ROOT / "exp/svi-cpu-scale0.1-long-twin-seed2"
TRAIN = ROOT / "corpora/open-2h/train.jsonl"
EVAL_CORPUS = ROOT / "corpora/open-2h-eval"
SUBSET = ROOT / "exp/seen-sentences/train-every2.jsonl"
JUDGED = ["L2-D96-F384x2-H4x2", "L3-D96-F288x3-H4x3", "L3-D96-F384x3-H2x3",
          "L4-D96-F192x4-H2x4", "L4-D96-F288x4-H2x4"]  # fmt: skip
BESIDE = ["L4-D64-F192x4-H2x4"]  # width 64, within seed noise of its twins: a contrast
LARGEST = "L4-D96-F384x4-H4x4"  # its twins' runs are not on this machine: the supernet side alone
LOW, HIGH = 1.03, 1.06  # the judged geometric mean on the training sentences; see the README


def training_subset() -> Path:
    """Every second utterance of the training manifest, written once (audio paths stay valid)."""
    from todm.data.manifest import read_manifest, write_manifest

    if not SUBSET.is_file():
        SUBSET.parent.mkdir(parents=True, exist_ok=True)
        write_manifest(SUBSET, read_manifest(TRAIN)[::2])
    return SUBSET


def wer(exp: Path, avg: str, subnet: str, manifest: Path, tag: str) -> float:
    cache = exp / f"eval-{avg}-{subnet}-{tag}-greedy.json"
    return wer_of(exp / "checkpoints" / f"{avg}.pt", cache, manifest, [subnet])[subnet]


def reading(steps: list[int]) -> tuple[str, dict[str, Any]]:
    """The table at each of ``steps`` (3,000 first: the judged one), each run read as the mean of
    its last five checkpoints up to the step (the ``avg-*.pt`` that ``reruns.py`` wrote)."""
    subset = training_subset()
    averaged = {step: f"avg-{step - 400}-{step}" for step in steps}
    rows: dict[str, Any] = {}
    for step, avg in averaged.items():
        for s in JUDGED + BESIDE:
            twin = TWINS / f"individual-{s}"
            sides = {"supernet": SUPERNET, "twin": twin}
            row = {side: {"train": wer(exp, avg, s, subset, "train-every2"),
                          "test": wer(exp, avg, s, EVAL_CORPUS / "test.jsonl", "open-2h-eval-test")}
                   for side, exp in sides.items()}  # fmt: skip
            row["ratio"] = {k: row["supernet"][k] / row["twin"][k] for k in ("train", "test")}
            rows.setdefault(str(step), {})[s] = row
    largest = {str(step): {k: wer(SUPERNET, avg, LARGEST, m, tag) for k, (m, tag) in
                           {"train": (subset, "train-every2"),
                            "test": (EVAL_CORPUS / "test.jsonl", "open-2h-eval-test")}.items()}
               for step, avg in averaged.items()}  # fmt: skip
    judged = {step: {k: geo_mean([r[s]["ratio"][k] for s in JUDGED]) for k in ("train", "test")}
              for step, r in rows.items()}  # fmt: skip
    g = judged["3000"]["train"]
    verdict = ("the gap is there on the training sentences too: the subnets fit their data less "
               "than their twins (an optimization gap)" if g >= HIGH else
               "the gap closes on the training sentences: the subnets fit their data as their twins "
               "do and carry it less to new sentences (a generalization gap)" if g <= LOW else
               "between the two thresholds: neither reading")  # fmt: skip
    lines = [
        "# Seen sentences: recipe 3 seed 2 against its seed-2 twins on the sentences they trained on",
        "",
        f"WER % of the mean of the last five checkpoints; `train` = every second utterance of "
        f"`corpora/open-2h/train.jsonl` ({sum(1 for _ in subset.open())} utterances), `test` = "
        "`corpora/open-2h-eval/test.jsonl`; ratio = supernet / twin; * judged (decided before decoding).",
        "",
        "| step | subnet | supernet train | twin train | ratio train | supernet test | twin test | ratio test |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for step, r in rows.items():
        for s, row in r.items():
            mark = "*" if s in JUDGED else ""
            lines.append(f"| {int(step):,} | {s}{mark} | {row['supernet']['train']:.2f} | {row['twin']['train']:.2f} | "
                         f"{row['ratio']['train']:.3f} | {row['supernet']['test']:.2f} | {row['twin']['test']:.2f} | "
                         f"{row['ratio']['test']:.3f} |")  # fmt: skip
    lines.append("")
    for step, w in largest.items():
        lines.append(f"- The supernet's largest, {LARGEST} (its twins' runs are not kept here), at {int(step):,} "
                     f"steps: train {w['train']:.2f}, test {w['test']:.2f}.")  # fmt: skip
    for step, j in judged.items():
        lines.append(f"- {int(step):,} steps, the five judged: geometric mean ratio on train {j['train']:.3f}, "
                     f"on test {j['test']:.3f}.")  # fmt: skip
    lines += ["", f"Judged (3,000 steps, train, thresholds {LOW} and {HIGH}): {g:.3f}, **{verdict}**."]
    summary = {"about": {"subset": str(subset.relative_to(ROOT)), "steps": steps, "judged": JUDGED,
                         "beside": BESIDE, "thresholds": [LOW, HIGH]},
               "rows": rows, "supernet_largest": largest, "judged": judged, "verdict": verdict}  # fmt: skip
    return "\n".join(lines), summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, nargs="+", default=[3000, 6000],
                    help="read at these steps (3,000 first; 9,000 once \"Three times the steps\" is read)")
    ap.add_argument("--record", action="store_true", help="write seen-sentences-seed2.md and .json")
    args = ap.parse_args()
    if args.steps[0] != 3000:
        ap.error("--steps: the judged reading is at 3000, so it comes first")
    text, summary = reading(args.steps)
    print(text)
    if args.record:
        write_reading("seen-sentences-seed2", text, summary)


if __name__ == "__main__":
    main()
