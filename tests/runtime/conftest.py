"""Runtime test fixtures: a random-weight ONNX bundle, a few real utterances, a real sshd."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import write_synthetic_bundle  # noqa: E402

SSHD = "/usr/sbin/sshd"


@pytest.fixture(scope="session")
def synthetic_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_bundle(tmp_path_factory.mktemp("synthetic") / "bundle")


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few utterances of synthesized digits (espeak-ng/flite): test.jsonl has 3."""
    from todm.data.testing import make_tiny_corpus

    return make_tiny_corpus(tmp_path_factory.mktemp("small_corpus"), num_train=2, num_eval=3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SSHServer:
    port: int
    user: str
    client_key: Path
    known_hosts: Path
    host_pub: str
    proc: subprocess.Popen
    dir: Path

    def session_pids(self) -> list[int]:
        """Per-connection sshd processes (children of the listener)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    """A real OpenSSH server on a free loopback port, with its own host and client keys."""
    if not os.access(SSHD, os.X_OK) or shutil.which("ssh") is None:
        pytest.skip(f"{SSHD} or the ssh client is not installed")
    d = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    os.chmod(d / "authorized_keys", 0o600)
    port = free_port()
    cfg = d / "sshd_config"
    cfg.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
        "StrictModes no\nUsePAM no\nLogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    with open(d / "sshd.log", "w") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(cfg)], stderr=log)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail(f"sshd did not start: {(d / 'sshd.log').read_text()}")
    host_pub = " ".join((d / "host_key.pub").read_text().split()[:2])
    kh = d / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    yield SSHServer(port, getpass.getuser(), d / "client_key", kh, host_pub, proc, d)
    proc.terminate()
    proc.wait(timeout=10)


def ssh_profile_dict(server: SSHServer, remote_dir: Path, **access) -> dict:
    return {
        "name": "loopback", "cpu": "host", "cores": 2, "threads": 1, "memory_mb": 1024,
        "runtimes": ["onnxruntime"], "budget": {"max_rtf": 5.0},
        "access": {"kind": "ssh", "host": "127.0.0.1", "port": server.port, "user": server.user,
                   "key": str(server.client_key), "known_hosts": str(server.known_hosts),
                   "remote_dir": str(remote_dir), "python": sys.executable, **access},
    }  # fmt: skip
