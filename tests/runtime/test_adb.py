"""The adb path as far as it goes without a phone: profile, quoting, and no-server errors."""

from __future__ import annotations

import shlex

import pytest

from todm.errors import DeviceError
from todm.runtime.devices import load_profile, parse_profile
from todm.runtime.remote import unpack_command, worker_command


def _profile(**access):
    d = {"name": "phone", "cpu": "a78", "cores": 8, "threads": 2, "memory_mb": 4096, "runtimes": ["onnxruntime"],
         "access": {"kind": "adb", "runner": "/data/data/com.termux/files/usr/bin/python3", **access}}  # fmt: skip
    return parse_profile(d, "phone.yaml")


def test_adb_profile_needs_a_runner():
    with pytest.raises(DeviceError, match="access.runner: required for kind adb"):
        parse_profile({"name": "p", "cpu": "c", "cores": 1, "threads": 1, "memory_mb": 1,
                       "runtimes": ["litert"], "access": {"kind": "adb"}}, "p.yaml")  # fmt: skip
    assert load_profile("android-arm64-midrange").access.kind == "adb"


def test_commands_quote_every_value():
    p = _profile(remote_dir="/sdcard/my bench; rm -rf ~", runner="/data/my python")
    cmd = worker_command(p.access, {"mode": "streaming", "note": "it's; $(x)"})
    words = shlex.split(cmd)
    assert words[:3] == ["cd", "/sdcard/my bench; rm -rf ~", "&&"]
    assert words[3] == "PYTHONPATH=/sdcard/my bench; rm -rf ~/harness"
    assert words[4] == "/data/my python" and words[5:7] == ["-m", "todm.runtime.worker"]
    assert words[-1] == '{"mode": "streaming", "note": "it\'s; $(x)"}'
    un = shlex.split(unpack_command(p.access))
    assert un == ["rm", "-rf", "/sdcard/my bench; rm -rf ~", "&&", "mkdir", "-p", "/sdcard/my bench; rm -rf ~",
                  "&&", "tar", "-xzf", "-", "-C", "/sdcard/my bench; rm -rf ~"]  # fmt: skip


def test_no_adb_server_is_a_clear_error(synthetic_bundle, small_corpus, tmp_path):
    from conftest import free_port

    from todm.runtime.remote import run_remote

    p = _profile(adb_port=free_port())
    with pytest.raises(DeviceError, match=r"no adb server listening on 127\.0\.0\.1:\d+; start it with `adb start-server`"):
        run_remote(p, synthetic_bundle, small_corpus / "test.jsonl", {"runs": 1}, tmp_path / "r.json")
