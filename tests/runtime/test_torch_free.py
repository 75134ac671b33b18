"""todm.runtime and the todm CLI import and run a benchmark with torch made unimportable."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_without_torch(synthetic_bundle, small_corpus, tmp_path):
    out = tmp_path / "res.json"
    code = textwrap.dedent(f"""
        import sys
        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked in this test")
        sys.meta_path.insert(0, NoTorch())
        import todm.runtime, todm.runtime.recognizer, todm.runtime.measure, todm.runtime.remote
        import todm.runtime.devices, todm.runtime.adb, todm.runtime.bench, todm.runtime.scoring
        from todm.cli import main
        rc = main(["bench", {str(synthetic_bundle)!r}, "--audio", {str(small_corpus / "test.jsonl")!r},
                   "--runs", "1", "--warmup", "0", "--out", {str(out)!r}, "--quiet", "--device", "local"])
        assert "torch" not in sys.modules, "torch was imported"
        from todm.runtime.measure import run_benchmark
        r = run_benchmark({str(synthetic_bundle)!r}, {str(small_corpus / "test.jsonl")!r}, runs=1, warmup=0,
                          mode="streaming", decoding="beam")
        assert "torch" not in sys.modules
        sys.exit(rc)
    """)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    res = json.loads(out.read_text())
    assert res["status"] == "complete" and len(res["utterances"]) == 3


def test_runtime_sources_have_no_module_level_torch_import():
    for py in (ROOT / "todm" / "runtime").rglob("*.py"):
        for line in py.read_text().splitlines():
            if line.startswith(("import torch", "from torch")):
                raise AssertionError(f"{py}: module-level {line!r}")
