"""Device profiles (``devices/*.yaml``): what a device is, its budgets, and how to reach it.

A profile looks like (``devices/rpi5.yaml``)::

    name: rpi5
    cpu: Cortex-A76
    cores: 4
    threads: 4                      # threads the benchmark uses
    memory_mb: 8192
    runtimes: [onnxruntime, litert]
    budget: {max_rtf: 0.5, max_chunk_p90_ms: 120, max_model_mb: 40, max_peak_rss_mb: 400}
    access:
      kind: ssh                     # local | ssh | adb
      host: rpi5.local
      user: pi
      known_hosts: ~/.ssh/known_hosts
      remote_dir: /home/pi/todm-bench
      python: python3

``load_profile`` validates everything at once and raises one ``DeviceError`` listing every
problem with its file and field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from todm.errors import DeviceError
from todm.fields import type_mismatch

KINDS = ("local", "ssh", "adb")
RUNTIMES = ("onnxruntime", "litert", "executorch")
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "devices"


@dataclass(frozen=True)
class Budget:
    """Limits a model must meet on the device; ``None`` means no limit."""

    max_rtf: float | None = None
    max_chunk_p90_ms: float | None = None
    max_first_partial_ms: float | None = None
    max_model_mb: float | None = None
    max_peak_rss_mb: float | None = None


@dataclass(frozen=True)
class Access:
    """How to reach the device. Paths are absolute once loaded."""

    kind: str = "local"
    host: str | None = None
    user: str | None = None
    port: int = 22
    key: str | None = None  # private key file (ssh)
    known_hosts: str | None = None  # file the host key is checked against (ssh)
    trust_on_first_use: bool = False  # accept and record an unknown host key (ssh)
    remote_dir: str = "todm-bench"
    python: str = "python3"
    install: bool = False  # pip install the runtime on the device when missing
    serial: str | None = None  # adb device serial (default: the only one attached)
    runner: str | None = None  # adb: command that runs Python on the device (Termux python)
    adb_port: int = 5037  # adb server on this host (loopback); never started implicitly
    connect_timeout_s: int = 10


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    cpu: str
    cores: int
    threads: int
    memory_mb: int
    runtimes: tuple[str, ...]
    budget: Budget = field(default_factory=Budget)
    access: Access = field(default_factory=Access)
    description: str = ""
    source: str = ""  # file it came from


def _check_fields(cls: type, d: Any, where: str, errors: list[str]) -> dict[str, Any]:
    if not isinstance(d, dict):
        errors.append(f"{where}: expected a mapping, got {type(d).__name__}")
        return {}
    known = {f.name: f for f in fields(cls)}
    out = {}
    for k, v in d.items():
        if k not in known or k == "source":
            errors.append(f"{where}.{k}: unknown field (known: {sorted(n for n in known if n != 'source')})")
            continue
        if type_mismatch(str(known[k].type), v):
            errors.append(f"{where}.{k}: expected {str(known[k].type).replace(' | None', '')}, got {v!r}")
            continue
        out[k] = v
    return out


def _resolve(p: str | None, base: Path) -> str | None:
    if p is None:
        return None
    q = Path(os.path.expanduser(p))
    return str(q if q.is_absolute() else (base / q).resolve())


def parse_profile(d: Any, source: str) -> DeviceProfile:
    """Validate a profile dict; every problem is reported in one DeviceError."""
    errors: list[str] = []
    if not isinstance(d, dict):
        raise DeviceError(f"{source}: expected a mapping at the top level")
    top = _check_fields(DeviceProfile, {k: v for k, v in d.items() if k not in ("budget", "access", "runtimes")}, source, errors)
    for req in ("name", "cpu", "cores", "threads", "memory_mb", "runtimes"):
        if req not in d:
            errors.append(f"{source}.{req}: required field missing")
    runtimes = d.get("runtimes", [])
    if not isinstance(runtimes, list) or not runtimes:
        errors.append(f"{source}.runtimes: expected a non-empty list of {RUNTIMES}")
        runtimes = []
    for r in runtimes:
        if r not in RUNTIMES:
            errors.append(f"{source}.runtimes: {r!r} is not one of {RUNTIMES}")
    budget = _check_fields(Budget, d.get("budget", {}), f"{source}.budget", errors)
    for k, v in budget.items():
        if v is not None and v <= 0:
            errors.append(f"{source}.budget.{k}: must be > 0, got {v}")
    access = _check_fields(Access, d.get("access", {}), f"{source}.access", errors)
    kind = access.get("kind", "local")
    if kind not in KINDS:
        errors.append(f"{source}.access.kind: {kind!r} is not one of {KINDS}")
    if kind == "ssh":
        for req in ("host", "user"):
            if not access.get(req):
                errors.append(f"{source}.access.{req}: required for kind ssh")
        if not access.get("known_hosts") and not access.get("trust_on_first_use"):
            errors.append(f"{source}.access.known_hosts: required for kind ssh (host keys are checked), "
                          "or set trust_on_first_use: true")  # fmt: skip
        port = access.get("port", 22)
        if isinstance(port, int) and not 0 < port < 65536:
            errors.append(f"{source}.access.port: {port} is not a TCP port")
    if kind == "adb" and not access.get("runner"):
        errors.append(f"{source}.access.runner: required for kind adb (e.g. Termux's "
                      "'/data/data/com.termux/files/usr/bin/python3')")  # fmt: skip
    for k in ("cores", "threads", "memory_mb"):
        v = top.get(k)
        if isinstance(v, int) and v < 1:
            errors.append(f"{source}.{k}: must be >= 1, got {v}")
    if isinstance(top.get("threads"), int) and isinstance(top.get("cores"), int) and top["threads"] > top["cores"]:
        errors.append(f"{source}.threads: {top['threads']} threads on {top['cores']} cores oversubscribes the CPU")
    if errors:
        raise DeviceError(f"invalid device profile ({len(errors)} problem(s)):\n  " + "\n  ".join(errors))
    base = Path(source).parent
    for k in ("key", "known_hosts"):
        access[k] = _resolve(access.get(k), base)
    return DeviceProfile(**top, runtimes=tuple(runtimes), budget=Budget(**budget), access=Access(**access),
                         source=source)  # fmt: skip


def profile_dirs() -> list[Path]:
    env = os.environ.get("TODM_DEVICES_DIR")
    dirs = [Path(env)] if env else []
    return dirs + [Path.cwd() / "devices", DEFAULT_DIR]


def find_profile(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or os.sep in name_or_path:
        if not p.is_file():
            raise DeviceError(f"{p}: device profile not found")
        return p
    for d in profile_dirs():
        cand = d / f"{name_or_path}.yaml"
        if cand.is_file():
            return cand
    known = sorted({q.stem for d in profile_dirs() if d.is_dir() for q in d.glob("*.yaml")})
    raise DeviceError(f"device {name_or_path!r}: no profile {name_or_path}.yaml in "
                      f"{[str(d) for d in profile_dirs()]}; known devices: {known}")  # fmt: skip


def load_profile(name_or_path: str) -> DeviceProfile:
    """Load and validate a profile by name (``rpi5``) or path."""
    import yaml

    path = find_profile(name_or_path)
    try:
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DeviceError(f"{path}: not valid YAML ({e})") from None
    return parse_profile(d, str(path))


def list_profiles() -> list[Path]:
    seen: dict[str, Path] = {}
    for d in profile_dirs():
        if d.is_dir():
            for q in sorted(d.glob("*.yaml")):
                seen.setdefault(q.stem, q)
    return [seen[k] for k in sorted(seen)]


def check_budget(results: dict[str, Any], profile: DeviceProfile) -> dict[str, Any]:
    """Compare a results dict with the profile's budget; returns the ``budget`` block."""
    a, b = results["aggregate"], profile.budget
    fp = a.get("first_partial_latency_ms", {}).get("p50")
    values = {
        "max_rtf": a.get("rtf"),
        "max_chunk_p90_ms": a["chunk_latency_ms"].get("p90"),
        "max_first_partial_ms": fp,
        "max_model_mb": results["bundle"]["model_bytes"] / 1e6,
        "max_peak_rss_mb": results.get("memory", {}).get("peak_rss_mb"),
    }
    checks = []
    for name, value in values.items():
        limit = getattr(b, name)
        if limit is None:
            continue
        ok = None if value is None else bool(value <= limit)
        checks.append({"name": name, "value": None if value is None else round(float(value), 4),
                       "limit": limit, "ok": ok})  # fmt: skip
    return {"device": profile.name, "fits": all(c["ok"] is not False for c in checks), "checks": checks}
