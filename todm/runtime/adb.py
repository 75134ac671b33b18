"""Android over adb (adbutils): push the payload, run the worker with the profile's runner
(Termux's python, or a native runner the user names), read its lines, as over SSH.

The adb server must already run on this host's loopback (``adb start-server``); it is
never started implicitly, so a missing server or device is a clear error and not a
stray daemon.
"""

from __future__ import annotations

import shlex
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from todm.data.manifest import read_manifest
from todm.errors import DeviceError
from todm.runtime import worker as W
from todm.runtime.devices import DeviceProfile
from todm.runtime.remote import build_payload, worker_command

ADB_HOST = "127.0.0.1"
PUSH_NAME = "todm-payload.tar.gz"


def adb_device(profile: DeviceProfile):
    """Connect to the adb server and pick the profile's device (or the only one attached)."""
    a = profile.access
    try:
        socket.create_connection((ADB_HOST, a.adb_port), timeout=3).close()
    except OSError:
        raise DeviceError(
            f"{profile.name}: no adb server listening on {ADB_HOST}:{a.adb_port}; start it with "
            "`adb start-server`, attach the phone (USB debugging on) and check `adb devices`"
        ) from None
    import adbutils

    client = adbutils.AdbClient(host=ADB_HOST, port=a.adb_port, socket_timeout=30)
    try:
        serials = [d.serial for d in client.device_list()]
    except (adbutils.AdbError, OSError) as e:
        raise DeviceError(f"{profile.name}: adb server on {ADB_HOST}:{a.adb_port} did not answer ({e})") from None
    if a.serial:
        if a.serial not in serials:
            raise DeviceError(f"{profile.name}: adb device {a.serial!r} is not attached (attached: {serials})")
        return client.device(serial=a.serial)
    if len(serials) != 1:
        raise DeviceError(f"{profile.name}: {len(serials)} adb devices attached ({serials}); set access.serial "
                          f"in {profile.source}")  # fmt: skip
    return client.device(serial=serials[0])


def shell_lines(device, command: str) -> Iterator[str]:
    conn = device.shell(command, stream=True)
    buf = b""
    try:
        while True:
            chunk = conn.read(4096)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line.decode(errors="replace") + "\n"
    finally:
        conn.close()
    if buf:
        yield buf.decode(errors="replace")


class _ShellProc:
    """The slice of ``subprocess.Popen`` that ``remote.collect`` reads, over an adb shell."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.stdout, self.stderr = lines, None

    def wait(self) -> int:
        return 0  # adb shell v1 has no exit status; completeness is judged by TODM-RESULT


def run_adb(profile: DeviceProfile, bundle: Path, manifest: Path, config: dict[str, Any], out: Path,
            header: dict[str, Any], on_record: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:  # fmt: skip
    from todm.runtime.remote import collect, unpack_command

    a = profile.access
    device = adb_device(profile)
    d = a.remote_dir.rstrip("/")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / PUSH_NAME
        local.write_bytes(build_payload(bundle, manifest, config.get("limit")))
        device.sync.push(str(local), f"{d}.tar.gz")
    unpack = unpack_command(a).replace("tar -xzf - ", f"tar -xzf {shlex.quote(d + '.tar.gz')} ")
    device.shell(unpack)
    check = device.shell(worker_command(a, {}, check_format=header["bundle"]["format"]))
    line = next((ln for ln in check.splitlines() if ln.startswith(W.PREFIX_MISSING)), None)
    if line is None:
        raise DeviceError(f"{profile.name}: the runner {a.runner!r} could not run the harness: {check[-300:]}")
    if line[len(W.PREFIX_MISSING) :].strip() != "[]":
        raise DeviceError(f"{profile.name}: the device lacks {line[len(W.PREFIX_MISSING):].strip()}; "
                          f"install them in Termux with: {a.runner} -m pip install ...")  # fmt: skip
    cfg = {k: v for k, v in config.items() if k != "limit"}
    n = len(read_manifest(manifest)[: config.get("limit")])
    proc = _ShellProc(shell_lines(device, worker_command(a, cfg)))
    return collect(proc, out, f"{profile.name} (adb {device.serial})", n, header, on_record)  # type: ignore[arg-type]
