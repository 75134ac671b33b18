"""``todm bench`` (measure a bundle on a device) and ``todm devices`` (list/validate profiles).

Torch-free: the handlers import ``todm.runtime`` only, so both run on a Raspberry Pi.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench", help="measure a bundle's latency, memory and WER on a device",
                              description="Measure a bundle on audio: RTF, chunk latency, memory, WER/CER.")  # fmt: skip
    p.add_argument("bundle", help="bundle directory (todm export)")
    p.add_argument("--audio", required=True, help="JSONL manifest of the audio (text = reference)")
    p.add_argument("--device", help="device profile name (devices/NAME.yaml) or path; default: this host")
    p.add_argument("--mode", choices=["offline", "streaming"], default="offline")
    p.add_argument("--decoding", choices=["greedy", "beam", "ctc"], default="greedy")
    p.add_argument("--beam", type=int, default=4)
    p.add_argument("--backend", choices=["onnxruntime", "litert", "executorch"], help="default: the bundle's")
    p.add_argument("--threads", type=int, help="default: the profile's threads (1 locally)")
    p.add_argument("--runs", type=int, default=3, help="measured runs per utterance")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured runs per utterance first")
    p.add_argument("--feed-ms", type=int, default=100, help="streaming: audio arrives in pieces of this size")
    p.add_argument("--limit", type=int, help="measure only the first N utterances")
    p.add_argument("--out", help="results JSON (default for remote devices: bench-DEVICE-TIME.json)")
    p.add_argument("--check-budget", action="store_true", help="exit 1 when the model does not fit the device")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    p.set_defaults(func=_bench)

    d = subparsers.add_parser("devices", help="list and validate device profiles (devices/*.yaml)")
    d.add_argument("names", nargs="*", help="profile names or paths (default: all found)")
    d.set_defaults(func=_devices)


def _bench(args: argparse.Namespace) -> int:
    import sys

    from todm.runtime.bench import bench
    from todm.runtime.results import format_table

    res = bench(args.bundle, args.audio, device=args.device, out=args.out, mode=args.mode,
                decoding=args.decoding, beam=args.beam, backend=args.backend, threads=args.threads,
                runs=args.runs, warmup=args.warmup, feed_ms=args.feed_ms, limit=args.limit,
                progress=not args.quiet)  # fmt: skip
    if not args.quiet:
        print(format_table(res))
        if "written_to" in res:
            print(f"\nresults: {res['written_to']}")
    budget = res.get("budget")
    if budget and not budget["fits"]:
        failed = [f"{c['name']} {c['value']} > {c['limit']}" for c in budget["checks"] if c["ok"] is False]
        print(f"todm bench: the model does not fit {budget['device']}: {'; '.join(failed)}", file=sys.stderr)
        return 1 if args.check_budget else 0
    return 0


def _devices(args: argparse.Namespace) -> int:
    from todm.errors import DeviceError
    from todm.runtime.devices import list_profiles, load_profile

    paths = args.names or [str(p) for p in list_profiles()]
    bad = 0
    for n in paths:
        try:
            p = load_profile(n)
        except DeviceError as e:
            bad += 1
            print(f"INVALID {n}: {e}")
            continue
        b = p.budget
        print(f"{p.name:<24} {p.access.kind:<5} {p.cores} cores/{p.threads} thr  {p.memory_mb} MB  "
              f"runtimes={','.join(p.runtimes)}  rtf<={b.max_rtf} p90<={b.max_chunk_p90_ms}ms "
              f"model<={b.max_model_mb}MB rss<={b.max_peak_rss_mb}MB")  # fmt: skip
    return 2 if bad else 0
