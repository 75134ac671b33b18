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
    train_steps: int = 400
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

    t0 = _step("2. train once: a tiny supernet (sandwich rule, in-place KD, adaptive dropout)", cfg.quiet)
    from todm.supernet.testing import train_tiny_supernet

    exp = train_tiny_supernet(corpus, out / "exp", max_steps=cfg.train_steps)
    ckpt = exp / "checkpoints" / "last.pt"
    summary["train"] = {"exp_dir": str(exp), "seconds": round(time.perf_counter() - t0, 1)}
    if not cfg.quiet:
        print(f"trained {cfg.train_steps} steps: {ckpt}")

    t0 = _step("3. evaluate subnets of the one checkpoint (greedy RNN-T)", cfg.quiet)
    from todm.supernet.evaluate import evaluate, format_results

    results = evaluate(ckpt, corpus / "test.jsonl", ["largest", "smallest"], "greedy")
    print(format_results(results))
    summary["eval"] = {sid: {"wer": r["wer"], "params": r["params"]} for sid, r in results["subnets"].items()}

    t0 = _step("4. deploy many: slice each subnet and export an ONNX bundle with parity checks", cfg.quiet)
    from todm.data.audio import load_audio
    from todm.data.manifest import read_manifest
    from todm.data.tokenizer import Tokenizer
    from todm.export import export_bundle
    from todm.supernet.slicing import slice_subnet

    tok = Tokenizer.load(exp / "tokenizer")
    parity_audio = [(u.text, load_audio(u.audio)) for u in read_manifest(corpus / "test.jsonl")[:4]]
    bundles = {}
    for name in ("largest", "smallest"):
        static = slice_subnet(ckpt, name)
        b = export_bundle(static, "onnx", out / "bundles" / f"{name}-onnx", tok.tokens,
                          parity_audio=parity_audio, source=ckpt)  # fmt: skip
        bundles[name] = b
        m = json.loads((b / "manifest.json").read_text())
        size = sum(f["bytes"] for f in m["files"].values())
        print(f"{name:<9} {static.spec.id:<28} {b}  {size / 1e6:.2f} MB  "
              f"parity max|diff| {max(m['parity']['max_abs_diff'].values()):.1e}, "
              f"word mismatches {m['parity']['word_mismatches']}")  # fmt: skip
    summary["bundles"] = {k: str(v) for k, v in bundles.items()}
    summary["export_seconds"] = round(time.perf_counter() - t0, 1)

    t0 = _step("5. measure each bundle with the torch-free harness, against the local budget", cfg.quiet)
    from todm.runtime.bench import bench
    from todm.runtime.results import format_table

    summary["bench"] = {}
    for name, b in bundles.items():
        res = bench(b, corpus / "test-unseen-voice.jsonl", device="local", runs=1, warmup=1,
                    out=out / "results" / f"{name}.json")  # fmt: skip
        print(f"-- {name}")
        print(format_table(res))
        summary["bench"][name] = str(out / "results" / f"{name}.json")

    (out / "demo.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
