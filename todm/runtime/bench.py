"""``bench``: the public entry of ``todm bench`` (measure a bundle on a device, check its budget)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from todm.errors import DeviceError
from todm.runtime import results as R
from todm.runtime.devices import Access, DeviceProfile, check_budget, load_profile
from todm.runtime.remote import run_remote

LOCAL = DeviceProfile(name="local", cpu="this host", cores=os.cpu_count() or 1, threads=1, memory_mb=1,
                      runtimes=("onnxruntime", "litert", "executorch"), access=Access(kind="local"))  # fmt: skip


def bench(
    bundle: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    *,
    device: str | None = None,
    out: str | os.PathLike[str] | None = None,
    mode: str = "offline",
    decoding: str = "greedy",
    beam: int = 4,
    backend: str | None = None,
    threads: int | None = None,
    runs: int = 3,
    warmup: int = 1,
    feed_ms: int = 100,
    limit: int | None = None,
    progress: bool = False,
    on_record=None,
) -> dict[str, Any]:
    """Measure ``bundle`` on ``manifest`` on ``device`` (a profile name or path; default local).

    The worker runs in a fresh process (locally or on the device), so the memory figures
    are the model's. With a profile, the result carries a ``budget`` block. Results are
    written to ``out`` atomically; for remote runs each utterance is kept as it arrives.
    """
    profile = load_profile(device) if device else LOCAL
    from todm.bundle import load_bundle
    from todm.runtime.backends import DEFAULT_BACKEND

    runtime = backend or DEFAULT_BACKEND.get(load_bundle(bundle, verify=False).format)
    if runtime not in profile.runtimes:
        raise DeviceError(f"{profile.name} ({profile.source or 'built-in'}) lists runtimes {list(profile.runtimes)}; "
                          f"this bundle needs {runtime!r}: export for one of those, or add it to the profile")  # fmt: skip
    threads = threads or profile.threads
    if threads > profile.cores:
        raise DeviceError(f"--threads {threads} exceeds {profile.name}'s {profile.cores} cores")
    config = {"mode": mode, "decoding": decoding, "beam": beam, "backend": backend, "threads": threads,
              "runs": runs, "warmup": warmup, "feed_ms": feed_ms, "limit": limit, "progress": False}  # fmt: skip
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_path = Path(out) if out else Path(f"bench-{profile.name}-{stamp}.json")
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=f"bench on {profile.name}", unit="utt")

        def tick(rec: dict[str, Any]) -> None:
            bar.update(1)
            if on_record is not None:
                on_record(rec)

        cb = tick
    else:
        cb = on_record
    try:
        res = run_remote(profile, Path(bundle), Path(manifest), config, out_path, on_record=cb)
    finally:
        if progress:
            bar.close()
    if device:
        res["budget"] = check_budget(res, profile)
    if out or profile.access.kind != "local":
        R.write_results(out_path, res)
        res["written_to"] = str(out_path)
    return res
