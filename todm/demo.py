"""``todm demo``: the train-once-deploy-many pipeline end to end, small enough for a laptop.

Each step is the same public function a user calls, and each writes its artifact under
the demo directory, so a re-run resumes and any artifact can be inspected afterwards.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from todm.data.synth import format_summary


@dataclass
class DemoConfig:
    out_dir: Path = Path("todm-demo")
    domain: str = "digits"
    num_utts: int = 400
    seed: int = 0
    quiet: bool = False


def _step(title: str, quiet: bool) -> float:
    if not quiet:
        print(f"\n== {title}", flush=True)
    return time.perf_counter()


def run_demo(cfg: DemoConfig) -> dict:
    """Run every stage on a small synthetic corpus; returns a summary (also demo.json)."""
    out = Path(cfg.out_dir).absolute()
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"out_dir": str(out)}

    t0 = _step("1. corpus: real speech from espeak-ng and flite", cfg.quiet)
    from todm.data.testing import make_tiny_corpus

    corpus = make_tiny_corpus(out / "corpus", domain=cfg.domain,
                              num_train=cfg.num_utts - 3 * 24, num_eval=24, seed=cfg.seed)  # fmt: skip
    corpus_summary = json.loads((corpus / "corpus.json").read_text())
    print(format_summary(corpus_summary, corpus))
    summary["corpus"] = {"dir": str(corpus), "seconds": round(time.perf_counter() - t0, 1),
                         "hours": corpus_summary["hours"]}  # fmt: skip

    (out / "demo.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
