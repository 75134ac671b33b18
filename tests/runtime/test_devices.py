"""Device profiles: the shipped ones validate; every error is reported at once; budgets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from todm.errors import DeviceError
from todm.runtime.devices import DEFAULT_DIR, check_budget, load_profile, parse_profile

SHIPPED = ["rpi4", "rpi5", "android-arm64-midrange", "laptop-x86_64", "local"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_validate(name):
    p = load_profile(name)
    assert p.name == name and p.threads <= p.cores and p.runtimes
    assert Path(p.source).parent == DEFAULT_DIR or Path(p.source).parent.name == "devices"
    assert p.budget.max_rtf is not None


def test_every_error_reported_at_once_with_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({
        "name": "bad", "cpu": "x", "cores": 2, "threads": 4, "memory_mb": "lots",
        "runtimes": ["onnxruntime", "tensorflow"], "budget": {"max_rtf": -1, "max_fps": 3},
        "access": {"kind": "ssh", "host": "h", "port": 70000, "colour": "red"},
    }))  # fmt: skip
    with pytest.raises(DeviceError) as e:
        load_profile(str(bad))
    msg = str(e.value)
    for frag in ["bad.yaml.memory_mb: expected int", "runtimes: 'tensorflow'", "budget.max_rtf: must be > 0",
                 "budget.max_fps: unknown field", "access.colour: unknown field", "access.user: required",
                 "access.known_hosts: required", "access.port: 70000", "threads: 4 threads on 2 cores"]:  # fmt: skip
        assert frag in msg, frag
    assert "9 problem(s)" in msg


def test_unknown_device_lists_known_ones():
    with pytest.raises(DeviceError, match="known devices: .*rpi5"):
        load_profile("toaster")


def test_relative_key_paths_resolve_against_the_profile(tmp_path):
    d = {"name": "x", "cpu": "c", "cores": 1, "threads": 1, "memory_mb": 1, "runtimes": ["litert"],
         "access": {"kind": "ssh", "host": "h", "user": "u", "key": "keys/id", "known_hosts": "kh"}}  # fmt: skip
    p = parse_profile(d, str(tmp_path / "x.yaml"))
    assert p.access.key == str(tmp_path / "keys" / "id") and p.access.known_hosts == str(tmp_path / "kh")


def _results(rtf, p90, mb, rss):
    return {"aggregate": {"rtf": rtf, "chunk_latency_ms": {"p90": p90}, "first_partial_latency_ms": {"p50": 100}}, "bundle": {"model_bytes": mb * 1e6},
            "memory": {"peak_rss_mb": rss}}  # fmt: skip


def test_budget_check():
    p = load_profile("rpi5")
    ok = check_budget(_results(0.1, 50, 10, 300), p)
    assert ok["fits"] and all(c["ok"] for c in ok["checks"])
    bad = check_budget(_results(0.9, 50, 500, 300), p)
    assert not bad["fits"]
    assert {c["name"] for c in bad["checks"] if c["ok"] is False} == {"max_rtf", "max_model_mb"}
    # a figure the run could not measure is "n/a", not a pass or a fail
    na = check_budget(_results(0.1, None, 10, None), p)
    assert na["fits"] and [c["ok"] for c in na["checks"] if c["name"] == "max_peak_rss_mb"] == [None]


def test_cli_check_budget_exit_code(synthetic_bundle, small_corpus, tmp_path, capsys):
    from todm.cli import main

    prof = yaml.safe_load((DEFAULT_DIR / "local.yaml").read_text())
    prof["budget"] = {"max_model_mb": 0.001}
    path = tmp_path / "tiny-device.yaml"
    path.write_text(yaml.safe_dump(prof))
    args = ["bench", str(synthetic_bundle), "--audio", str(small_corpus / "test.jsonl"), "--device", str(path),
            "--runs", "1", "--warmup", "0", "--limit", "1", "--quiet"]  # fmt: skip
    assert main(args + ["--check-budget"]) == 1
    assert "does not fit local: max_model_mb" in capsys.readouterr().err
    assert main(args) == 0
    assert main(["devices"]) == 0
    assert "rpi5" in capsys.readouterr().out


def test_bundle_runtime_must_be_on_the_device(synthetic_bundle, small_corpus, tmp_path):
    from todm.runtime.bench import bench

    prof = yaml.safe_load((DEFAULT_DIR / "local.yaml").read_text())
    prof["runtimes"] = ["litert"]
    path = tmp_path / "tflite-only.yaml"
    path.write_text(yaml.safe_dump(prof))
    with pytest.raises(DeviceError, match="this bundle needs 'onnxruntime'"):
        bench(synthetic_bundle, small_corpus / "test.jsonl", device=str(path), runs=1)
