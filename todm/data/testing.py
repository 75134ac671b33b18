"""Small real corpora for tests and demos (shipped in the library, as lhotse does)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from todm.data.synth import SynthConfig, synthesize_corpus

# Few voices keep a tiny model's task learnable in a minute; two are held out.
TINY_VOICES = (
    "espeak-ng:en-us+m3",
    "espeak-ng:en-gb+f2",
    "espeak-ng:en-gb-scotland+m1",
    "espeak-ng:en-us-nyc+f4",
    "flite:kal16",
    "flite:slt",
    "espeak-ng:en-029+m2",  # held out
    "flite:awb",  # held out
)


def make_tiny_corpus(
    out_dir: Path,
    domain: str = "digits",
    num_train: int = 320,
    num_eval: int = 24,
    seed: int = 0,
    workers: int | None = None,
) -> Path:
    """Synthesize (or reuse) a small corpus with espeak-ng and flite; returns its directory.

    ``num_eval`` utterances go to each of dev, test and test-unseen-voice. A second call
    with the same arguments returns at once.
    """
    out_dir = Path(out_dir)
    total = num_train + 3 * num_eval
    frac = num_eval / total
    summary = out_dir / "corpus.json"
    if summary.is_file():
        cfg = json.loads(summary.read_text())["config"]
        made = (cfg["domain"], cfg["num_utts"], cfg["seed"], cfg["dev_fraction"])
        if made == (domain, total, seed, frac):
            return out_dir
    synthesize_corpus(
        SynthConfig(
            out_dir=out_dir,
            domain=domain,
            num_utts=total,
            seed=seed,
            voices=TINY_VOICES,
            dev_fraction=frac,
            test_fraction=frac,
            unseen_fraction=frac,
            workers=workers or min(2, os.cpu_count() or 1),
            quiet=True,
        )
    )
    return out_dir
