"""Remote benchmarks through a real sshd on loopback: end to end, dropped connection, host keys, quoting."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

import pytest
import yaml
from conftest import ssh_profile_dict

from todm.errors import DeviceError
from todm.runtime.bench import bench
from todm.runtime.results import read_results


def _write_profile(tmp_path, d) -> str:
    p = tmp_path / "loopback.yaml"
    p.write_text(yaml.safe_dump(d))
    return str(p)


def test_remote_bench_end_to_end_with_hostile_remote_dir(sshd, synthetic_bundle, small_corpus, tmp_path):
    # spaces and a shell separator in a profile value must reach the device as one path
    remote = tmp_path / "remote home" / "bench dir; touch PWNED"
    prof = _write_profile(tmp_path, ssh_profile_dict(sshd, remote))
    out = tmp_path / "res.json"
    res = bench(synthetic_bundle, small_corpus / "test.jsonl", device=prof, out=out, runs=1, warmup=0)
    assert res["status"] == "complete"
    assert res["device"] == {"name": "loopback", "transport": "ssh", "host": "127.0.0.1"}
    assert len(res["utterances"]) == 3 and res["aggregate"]["rtf"] > 0
    assert res["budget"]["fits"] is True
    assert read_results(out)["utterances"] == res["utterances"]
    assert (remote / "harness" / "todm" / "runtime" / "worker.py").is_file()
    assert (remote / "bundle" / "manifest.json").is_file()
    assert not (tmp_path / "remote home" / "PWNED").exists() and not (remote.parent / "PWNED").exists()
    assert not os.path.exists(os.path.expanduser("~/PWNED"))
    # the harness copy on the device has no torch-importing module
    for py in (remote / "harness").rglob("*.py"):
        if py.name != "executorch_backend.py":
            assert not re.search(r"^\s*(import torch|from torch)", py.read_text(), re.M), py


def test_dropped_connection_keeps_measured_utterances(sshd, synthetic_bundle, small_corpus, tmp_path):
    prof = _write_profile(tmp_path, ssh_profile_dict(sshd, tmp_path / "remote"))
    out = tmp_path / "res.json"
    seen = []

    def kill_session(rec):
        seen.append(rec["id"])
        if len(seen) == 1:
            for pid in sshd.session_pids():
                os.kill(pid, signal.SIGKILL)

    # enough runs per utterance that the worker is still busy when the session dies
    with pytest.raises(DeviceError) as e:
        bench(synthetic_bundle, small_corpus / "dev.jsonl", device=prof, out=out, runs=40, warmup=0,
              mode="streaming", feed_ms=20, on_record=kill_session)  # fmt: skip
    msg = str(e.value)
    assert "127.0.0.1" in msg and "kept in" in msg
    kept = read_results(out)
    assert kept["status"] == "partial"
    assert 1 <= len(kept["utterances"]) < 3
    assert kept["utterances"][0]["id"] == seen[0]
    assert kept["device"]["host"] == "127.0.0.1" and kept["aggregate"]["rtf"] > 0
    assert not (tmp_path / "res.json.partial.jsonl").exists()


def test_host_key_mismatch_is_refused(sshd, synthetic_bundle, small_corpus, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other = " ".join((tmp_path / "other.pub").read_text().split()[:2])
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{sshd.port} {other}\n")
    d = ssh_profile_dict(sshd, tmp_path / "remote")
    d["access"]["known_hosts"] = str(kh)
    prof = _write_profile(tmp_path, d)
    with pytest.raises(DeviceError, match="host key of 127.0.0.1 is not the one"):
        bench(synthetic_bundle, small_corpus / "test.jsonl", device=prof, out=tmp_path / "r.json", runs=1)
    assert not (tmp_path / "remote").exists()
    assert kh.read_text() == f"[127.0.0.1]:{sshd.port} {other}\n"  # nothing trusted silently


def test_unknown_host_needs_trust_on_first_use(sshd, synthetic_bundle, small_corpus, tmp_path):
    kh = tmp_path / "empty_known_hosts"
    kh.write_text("")
    d = ssh_profile_dict(sshd, tmp_path / "remote")
    d["access"]["known_hosts"] = str(kh)
    with pytest.raises(DeviceError, match="Host key verification failed"):
        bench(synthetic_bundle, small_corpus / "test.jsonl", device=_write_profile(tmp_path, d),
              out=tmp_path / "r.json", runs=1, warmup=0, limit=1)  # fmt: skip
    d["access"]["trust_on_first_use"] = True
    res = bench(synthetic_bundle, small_corpus / "test.jsonl", device=_write_profile(tmp_path, d),
                out=tmp_path / "r.json", runs=1, warmup=0, limit=1)  # fmt: skip
    assert len(res["utterances"]) == 1
    assert sshd.host_pub.split()[1] in kh.read_text()


def test_missing_runtime_names_the_pip_command(sshd, synthetic_bundle, small_corpus, tmp_path):
    # a python without onnxruntime: the system interpreter, isolated from the venv
    sys_py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else None
    if sys_py is None:
        pytest.skip("no system python3 without the venv's packages")
    probe = subprocess.run([sys_py, "-c", "import onnxruntime"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("the system python3 has onnxruntime")
    d = ssh_profile_dict(sshd, tmp_path / "remote", python=sys_py)
    with pytest.raises(DeviceError, match=r"-m pip install .*onnxruntime==1\.31\.1"):
        bench(synthetic_bundle, small_corpus / "test.jsonl", device=_write_profile(tmp_path, d),
              out=tmp_path / "r.json", runs=1)  # fmt: skip
    assert json.loads("[]") == []


def test_missing_key_or_known_hosts_fails_before_connecting(sshd, synthetic_bundle, small_corpus, tmp_path):
    d = ssh_profile_dict(sshd, tmp_path / "remote", key=str(tmp_path / "no_key"))
    with pytest.raises(DeviceError, match="access.key .*no_key does not exist"):
        bench(synthetic_bundle, small_corpus / "test.jsonl", device=_write_profile(tmp_path, d), runs=1)
    d = ssh_profile_dict(sshd, tmp_path / "remote", known_hosts=str(tmp_path / "no_kh"))
    with pytest.raises(DeviceError, match="known_hosts .*no_kh does not exist"):
        bench(synthetic_bundle, small_corpus / "test.jsonl", device=_write_profile(tmp_path, d), runs=1)
