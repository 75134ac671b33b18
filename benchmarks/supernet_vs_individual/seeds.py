"""Side by side: the same supernet recipe trained with different seeds, against the same twins.

    .venv/bin/python benchmarks/supernet_vs_individual/seeds.py \
        benchmarks/supernet_vs_individual/result.json benchmarks/supernet_vs_individual/result-seed1.json

Each record is a ``run.py`` report (``results.json``). One supernet run's ratios carry the
luck of its seed (initial weights, data order, subnet draws) on top of the luck of the test
sentences that their bootstrap intervals show; two seeds show how far that first kind goes.
The last column compares the supernet subnets' WER averaged over the seeds with the twin's:
the expected ratio of the recipe, as far as two seeds can tell. The records' WERs are
rounded to 0.01, so a mean ratio within 0.0001 of the target is settled by the error
counts in the evaluations kept beside the checkpoints, not by this table. Only the supernet's seed
varies, so the records must share their twins (same WER for every twin), else this stops.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SPLITS = ("test", "test-unseen-voice")


def load(paths: list[Path]) -> list[dict[str, Any]]:
    records = []
    for path in paths:
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise SystemExit(f"{path}: not a readable run.py record: {e}") from e
    return records


def compact_json(obj: dict[str, Any]) -> str:
    """JSON with one line per entry two levels down: long per-utterance lists stay diffable and small."""
    def level(d: dict[str, Any], pad: str) -> str:
        return "{\n" + ",\n".join(f"{pad}{json.dumps(k)}: {json.dumps(v)}" for k, v in d.items()) + "\n" + pad[:-1] + "}"

    return "{\n" + ",\n".join(f" {json.dumps(k)}: {level(v, '  ')}" for k, v in obj.items()) + "\n}\n"


def rows_by_subnet(paths: list[Path], records: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The subnets the records compare, and each record's rows by subnet; stops unless every
    record compares the same subnets."""
    by_subnet = [{row["subnet"]: row for row in rec["rows"]} for rec in records]
    subnets = list(by_subnet[0])
    for path, rows in zip(paths[1:], by_subnet[1:]):
        if list(rows) != subnets:
            raise SystemExit(f"{path}: its subnets {list(rows)} differ from {paths[0]}'s {subnets}")
    return subnets, by_subnet


def table(paths: list[Path], records: list[dict[str, Any]]) -> list[str]:
    target = records[0]["targets"]["wer_ratio_max"]
    subnets, by_subnet = rows_by_subnet(paths, records)
    recipe = records[0]["runs"][0].get("recipe")
    for path, rec in zip(paths[1:], records[1:]):
        if rec["runs"][0].get("recipe") != recipe:
            raise SystemExit(f"{path}: its supernet recipe differs from {paths[0]}'s: this compares seeds of one recipe")
    names = [p.stem for p in paths]
    head = ["subnet", "split", "twin WER", *(f"{n}: WER, ratio" for n in names), "mean WER", "ratio of mean"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * 2 + " ---: |" * (len(head) - 2)]
    met = 0
    for subnet in subnets:
        for split in SPLITS:
            twins = {rows[subnet][f"individual_{split}_wer"] for rows in by_subnet}
            if len(twins) != 1:
                raise SystemExit(f"{subnet} {split}: the records' twins differ ({sorted(twins)}): compare one set of twins")
            (twin,) = twins
            wers = [rows[subnet][f"supernet_{split}_wer"] for rows in by_subnet]
            cells = []
            for rows, wer in zip(by_subnet, wers):
                iv = rows[subnet][f"{split}_wer_ratio"]
                cells.append(f"{wer:.1f}, {iv['ratio']:.3f} [{iv['low']:.2f}, {iv['high']:.2f}]")
            mean = sum(wers) / len(wers)
            ratio = mean / twin
            met += ratio <= target
            lines.append(f"| {subnet} | {split} | {twin:.1f} | " + " | ".join(cells) + f" | {mean:.1f} | {ratio:.3f} |")
    total = len(subnets) * len(SPLITS)
    summary = [
        f"Supernet seeds {', '.join(str(r['runs'][0].get('seed', '?')) for r in records)} ({', '.join(names)}); "
        f"ratio of the mean WER over the seeds at most {target}: {met} of {total}. Per seed: "
        + ", ".join(f"{n} {r['targets']['wer_ratios_met']} of {r['targets']['wer_ratios_total']}"
                    for n, r in zip(names, records))  # fmt: skip
        + ".",
        "",
    ]
    return summary + lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records", nargs="+", type=Path, help="run.py results.json files, one per supernet seed")
    ap.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    args = ap.parse_args()
    lines = table(args.records, load(args.records))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
