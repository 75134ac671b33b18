"""What the harness records about the machine it runs on (torch-free, Linux first).

Memory figures come from ``/proc/self/status``: ``VmRSS`` (resident now) and ``VmHWM``
(the peak resident set of this process since it started); where ``/proc`` is missing
(macOS), ``ru_maxrss`` stands in for the peak.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from pathlib import Path
from typing import Any


def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float | None:
    kb = _status_kb("VmRSS")
    return None if kb is None else round(kb / 1024, 1)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB)."""
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if sys.platform == "darwin":  # bytes there, kB on Linux
            kb //= 1024
    return round(kb / 1024, 1)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cpu_model() -> str:
    info = _read("/proc/cpuinfo") or ""
    for key in ("model name", "Hardware", "Model"):
        for line in info.splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def temperatures_c() -> dict[str, float]:
    """Thermal zones /sys exposes (a Pi's SoC, a phone's), in degrees C."""
    out = {}
    for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*")):
        t, kind = _read(str(zone / "temp")), _read(str(zone / "type"))
        if t and t.lstrip("-").isdigit():
            out[kind or zone.name] = int(t) / 1000.0
    return out


def environment(threads: int, runtime_versions: dict[str, str]) -> dict[str, Any]:
    import numpy

    from todm import __version__

    gov = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    freq = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
    return {
        "hostname": platform.node(),
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "threads": threads,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "todm": __version__,
        "runtimes": runtime_versions,
        "governor": gov,
        "cpu0_freq_mhz": int(freq) / 1000 if freq and freq.isdigit() else None,
        "temperatures_c": temperatures_c(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
