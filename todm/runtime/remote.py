"""Running the worker on a device: in a fresh local process, over SSH, or over adb.

Every transport does the same: stage the harness (the torch-free part of todm), the
bundle and the audio on the device, make sure the runtime is there, start
``todm.runtime.worker`` and read its line protocol. Each utterance's record is appended
to ``<out>.partial.jsonl`` as it arrives, so a connection that drops mid-run loses
nothing already measured: the results so far are written to ``out`` with status
``partial`` and a ``DeviceError`` names the host.

SSH goes through OpenSSH's ``ssh`` with an argument list (no local shell). The remote
command line is one string the remote shell parses, so every value in it is
``shlex.quote``-d. Host keys are checked against the profile's ``known_hosts`` with
``StrictHostKeyChecking=yes`` (``accept-new`` only with ``trust_on_first_use: true``).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from todm.bundle import load_bundle
from todm.data.manifest import read_manifest
from todm.errors import DeviceError
from todm.runtime import results as R
from todm.runtime import worker as W
from todm.runtime.devices import Access, DeviceProfile

PKG_ROOT = Path(__file__).resolve().parents[1]  # .../todm
MANIFEST_ON_DEVICE = "audio/manifest.jsonl"


def _module_file(name: str) -> Path | None:
    rel = Path(*name.split(".")[1:])
    for cand in (PKG_ROOT / rel.with_suffix(".py"), PKG_ROOT / rel / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def harness_files() -> list[Path]:
    """``todm/runtime`` and every todm module it imports, transitively (paths under todm/).

    Found from the import statements, so the device copy follows the code as it changes.
    """
    todo = list((PKG_ROOT / "runtime").rglob("*.py")) + [PKG_ROOT / "__init__.py"]
    seen: set[Path] = set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for n in names:
                if n == "todm" or n.startswith("todm."):
                    parts = n.split(".")
                    for i in range(1, len(parts) + 1):  # packages' __init__ too
                        m = _module_file(".".join(parts[:i])) if i > 1 else PKG_ROOT / "__init__.py"
                        if m is not None:
                            todo.append(m)
    return sorted(p.relative_to(PKG_ROOT) for p in seen)


def build_payload(bundle_dir: Path, manifest: Path, limit: int | None = None) -> bytes:
    """A gzip tar of ``harness/todm/...``, ``bundle/...`` and ``audio/`` (with a manifest)."""
    buf = io.BytesIO()
    utts = read_manifest(manifest)[:limit]
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel in harness_files():
            tar.add(PKG_ROOT / rel, arcname=f"harness/todm/{rel.as_posix()}")
        for p in sorted(Path(bundle_dir).rglob("*")):
            if p.is_file():
                tar.add(p, arcname=f"bundle/{p.relative_to(bundle_dir).as_posix()}")
        lines = []
        for i, u in enumerate(utts):
            name = f"audio/{i:06d}{Path(u.audio).suffix}"
            tar.add(u.audio, arcname=name)
            d = u.to_dict(relative_to=Path(manifest).parent)
            d["audio"] = Path(name).name
            lines.append(json.dumps(d, ensure_ascii=False) + "\n")
        data = "".join(lines).encode()
        info = tarfile.TarInfo(MANIFEST_ON_DEVICE)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def worker_command(access: Access, config: dict[str, Any], check_format: str | None = None) -> str:
    """The shell command that runs the worker in ``remote_dir``; every value quoted."""
    d = access.remote_dir.rstrip("/") or "/"
    py = shlex.quote(access.runner or access.python) if access.kind == "adb" else shlex.quote(access.python)
    env = f"PYTHONPATH={shlex.quote(d + '/harness')}"
    if check_format:
        args = f"--check {shlex.quote(check_format)}"
    else:
        args = " ".join(shlex.quote(a) for a in ("bundle", MANIFEST_ON_DEVICE, json.dumps(config)))
    return f"cd {shlex.quote(d)} && {env} {py} -m todm.runtime.worker {args}"


def unpack_command(access: Access) -> str:
    d = shlex.quote(access.remote_dir.rstrip("/") or "/")
    return f"rm -rf {d} && mkdir -p {d} && tar -xzf - -C {d}"


class SSHTransport:
    """OpenSSH client with the profile's key, port and known_hosts; no user ssh config."""

    def __init__(self, profile: DeviceProfile) -> None:
        self.profile, self.a = profile, profile.access
        self.where = f"{self.a.user}@{self.a.host}:{self.a.port}"
        src = profile.source or "the profile"
        if self.a.key and not os.path.isfile(self.a.key):
            raise DeviceError(f"{src}: access.key {self.a.key} does not exist (create it with ssh-keygen "
                              "and install its .pub on the device)")  # fmt: skip
        if self.a.known_hosts and not os.path.isfile(self.a.known_hosts) and not self.a.trust_on_first_use:
            raise DeviceError(f"{src}: access.known_hosts {self.a.known_hosts} does not exist; add the "
                              f"device's host key there (ssh-keyscan on a trusted network) or set "
                              "trust_on_first_use: true")  # fmt: skip

    def ssh_argv(self, command: str) -> list[str]:
        a = self.a
        known = a.known_hosts or os.path.expanduser("~/.ssh/known_hosts")
        argv = ["ssh", "-F", "none", "-p", str(a.port), "-l", str(a.user),
                "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={known}",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", f"StrictHostKeyChecking={'accept-new' if a.trust_on_first_use else 'yes'}",
                "-o", f"ConnectTimeout={a.connect_timeout_s}",
                "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR"]  # fmt: skip
        if a.key:
            argv += ["-i", a.key, "-o", "IdentitiesOnly=yes"]
        return argv + ["--", str(a.host), command]

    def _fail(self, what: str, stderr: str) -> DeviceError:
        hint = ""
        if "Host key verification failed" in stderr or "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
            hint = (f" The host key of {self.a.host} is not the one in {self.a.known_hosts}: refusing to "
                    "connect (add the right key there, or set trust_on_first_use for a new device).")  # fmt: skip
        return DeviceError(f"{self.profile.name} ({self.where}): {what} failed: {stderr.strip()[-400:]}{hint}")

    def call(self, command: str, data: bytes | None = None, timeout: float = 600) -> str:
        try:
            p = subprocess.run(self.ssh_argv(command), input=data, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"{self.profile.name} ({self.where}): {command[:60]!r} timed out") from None
        if p.returncode != 0:
            raise self._fail(f"running {command[:80]!r}", p.stderr.decode(errors="replace"))
        return p.stdout.decode(errors="replace")

    def upload(self, payload: bytes) -> None:
        self.call(unpack_command(self.a), data=payload)

    def start(self, command: str) -> subprocess.Popen:
        return _popen(self.ssh_argv(command))


class LocalTransport:
    """The worker in a fresh local process (clean memory figures), on the local files."""

    where = "localhost"

    def __init__(self, profile: DeviceProfile | None) -> None:
        self.profile = profile

    def start_worker(self, bundle: Path, manifest: Path, config: dict[str, Any]) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=str(PKG_ROOT.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        argv = [sys.executable, "-m", "todm.runtime.worker", str(bundle), str(manifest), json.dumps(config)]
        return _popen(argv, env)


def _popen(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    # stderr goes to a file, not a pipe: a chatty runtime must not fill it and stall the worker
    err = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115 - lives as long as the process; read in collect
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True,
                            bufsize=1, env=env)  # fmt: skip
    proc._todm_stderr = err  # type: ignore[attr-defined]
    return proc


def _stderr_text(proc) -> str:
    f = getattr(proc, "_todm_stderr", None) or proc.stderr
    if f is None:
        return ""
    with contextlib.suppress(OSError, AttributeError):  # adb's stand-in has no seekable stderr
        f.seek(0)
    data = f.read()
    return data.decode(errors="replace") if isinstance(data, bytes) else str(data)


def _lines(proc: subprocess.Popen) -> Iterator[str]:
    yield from proc.stdout or ()


def collect(proc: subprocess.Popen, out: Path, where: str, n_expected: int, header: dict[str, Any],
            on_record: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Read the worker's lines; keep each utterance in ``<out>.partial.jsonl`` as it arrives.

    ``header`` holds the blocks a partial results file carries (bundle, config, device).
    """
    partial = out.with_name(out.name + ".partial.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    result = error = None
    with open(partial, "w", encoding="utf-8") as keep:
        for line in _lines(proc):
            if line.startswith(W.PREFIX_UTT):
                rec = json.loads(line[len(W.PREFIX_UTT) :])
                keep.write(json.dumps(rec) + "\n")
                keep.flush()
                os.fsync(keep.fileno())
                records.append(rec)
                if on_record is not None:
                    on_record(rec)
            elif line.startswith(W.PREFIX_RESULT):
                result = json.loads(line[len(W.PREFIX_RESULT) :])
            elif line.startswith(W.PREFIX_ERROR):
                error = line[len(W.PREFIX_ERROR) :].strip()
    rc = proc.wait()
    stderr = _stderr_text(proc)
    if result is not None and rc == 0:
        partial.unlink()
        return result
    if error is not None:
        msg = f"{where}: the benchmark failed on the device after {len(records)} of {n_expected} utterances: {error}"
    else:
        msg = f"{where}: the connection or the worker ended after {len(records)} of {n_expected} utterances (exit {rc})"
        msg += f". {stderr.strip()[-400:]}"
    if records:
        runs = len(records[0]["compute_s"])
        kept = R.new_results(status="partial", **header, utterances=records, aggregate=R.aggregate(records, runs))
        R.write_results(out, kept)
        msg += f" The {len(records)} measured are kept in {out} (status: partial)."
    partial.unlink()
    raise DeviceError(msg)


def ensure_runtime(t: SSHTransport, fmt: str) -> None:
    """Check the device has what the worker needs; pip install it if the profile allows."""
    out = t.call(worker_command(t.a, {}, check_format=fmt))
    line = next((ln for ln in out.splitlines() if ln.startswith(W.PREFIX_MISSING)), None)
    if line is None:
        raise DeviceError(f"{t.profile.name} ({t.where}): {t.a.python} could not run the harness: {out[-300:]}")
    missing = json.loads(line[len(W.PREFIX_MISSING) :])
    if not missing:
        return
    pip = " ".join(shlex.quote(m) for m in missing)
    if not t.a.install:
        raise DeviceError(f"{t.profile.name} ({t.where}) lacks {missing}; install them on the device with: "
                          f"{t.a.python} -m pip install {pip}  (or set access.install: true in {t.profile.source})")  # fmt: skip
    t.call(f"{shlex.quote(t.a.python)} -m pip install --user {pip}", timeout=1800)


def run_remote(profile: DeviceProfile, bundle: Path, manifest: Path, config: dict[str, Any], out: Path,
               on_record: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Stage, run and collect on the profile's device; returns the results dict."""
    b = load_bundle(bundle)
    n = len(read_manifest(manifest)[: config.get("limit")])
    kind = profile.access.kind
    device = {"name": profile.name, "transport": kind, "host": profile.access.host}
    model_bytes = sum((b.path / f).stat().st_size for f in {g.file for g in b.graphs.values()})
    header = {"device": device, "config": {**config, "manifest": str(manifest)},
              "bundle": {"path": str(bundle), "format": b.format, "precision": b.precision,
                         "subnet_id": b.subnet_id, "model_bytes": model_bytes}}  # fmt: skip
    if kind == "local":
        proc = LocalTransport(profile).start_worker(bundle, manifest, config)
        res = collect(proc, out, f"{profile.name} (local)", n, header, on_record)
    elif kind == "ssh":
        t = SSHTransport(profile)
        t.upload(build_payload(bundle, manifest, config.get("limit")))
        ensure_runtime(t, b.format)
        cfg = {k: v for k, v in config.items() if k != "limit"}
        proc = t.start(worker_command(profile.access, cfg))
        res = collect(proc, out, f"{profile.name} ({t.where})", n, header, on_record)
    else:
        from todm.runtime.adb import run_adb

        res = run_adb(profile, bundle, manifest, config, out, header, on_record)
    res["bundle"]["path"] = str(bundle)
    res["config"]["manifest"] = str(manifest)
    res["device"] = device
    return res
