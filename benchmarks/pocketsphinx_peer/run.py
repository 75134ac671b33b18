"""PocketSphinx (its bundled en-us model) against todm's smallest deployable subnet, side by side.

    .venv/bin/python benchmarks/pocketsphinx_peer/run.py --bundle BUNDLE --manifest CORPUS/test.jsonl
    .venv/bin/python benchmarks/pocketsphinx_peer/run.py --checkpoint EXP/checkpoints/last.pt \
        --tokens EXP/tokenizer/tokens.txt --manifest CORPUS/test.jsonl --out results.json

PocketSphinx runs twice: with its general en-us language model, and with a digits JSGF
grammar (the task's vocabulary, which is the fair setting against a model trained on
digits). todm runs the ONNX bundle of the smallest subnet (exported here from
``--checkpoint`` when no ``--bundle`` is given) through ``todm.runtime``, greedy, offline.
Every utterance is decoded by each system in turn, ``--runs`` times; RTF is the sum of
per-utterance median compute over the audio duration, one thread, model loading excluded.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--manifest", required=True)
    p.add_argument("--bundle")
    p.add_argument("--checkpoint")
    p.add_argument("--tokens")
    p.add_argument("--spec", default="smallest")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--limit", type=int)
    p.add_argument("--out")
    args = p.parse_args()

    import jiwer
    import numpy as np
    from pocketsphinx import Decoder

    from todm.data.audio import load_audio
    from todm.data.manifest import read_manifest
    from todm.runtime.recognizer import Recognizer

    work = Path(tempfile.mkdtemp(prefix="todm-ps-"))
    bundle = args.bundle
    if bundle is None:
        if not (args.checkpoint and args.tokens):
            p.error("give --bundle, or --checkpoint and --tokens to export one")
        from todm.bundle import read_tokens
        from todm.export.bundle_writer import export_bundle
        from todm.supernet.slicing import slice_subnet

        model = slice_subnet(args.checkpoint, args.spec)
        bundle = export_bundle(model, "onnx", work / "bundle", list(read_tokens(Path(args.tokens))))
    gram = work / "digits.gram"
    gram.write_text("#JSGF V1.0;\ngrammar digits;\npublic <utt> = ( " + " | ".join(DIGITS) + " )+ ;\n")
    systems = {}
    t0 = time.perf_counter()
    ps_lm = Decoder(samprate=16000)
    systems["pocketsphinx-en-us-lm"] = (ps_lm, time.perf_counter() - t0)
    t0 = time.perf_counter()
    ps_g = Decoder(samprate=16000, jsgf=str(gram))
    systems["pocketsphinx-digits-jsgf"] = (ps_g, time.perf_counter() - t0)
    t0 = time.perf_counter()
    ours = Recognizer.from_bundle(bundle, num_threads=1)
    systems["todm-" + ours.meta.subnet_id] = (ours, time.perf_counter() - t0)

    def decode(sys_obj, x):
        if isinstance(sys_obj, Recognizer):
            return sys_obj.transcribe(x).text
        pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes()
        sys_obj.start_utt()
        sys_obj.process_raw(pcm, full_utt=True)
        sys_obj.end_utt()
        h = sys_obj.hyp()
        # the general LM writes words its own way ("oh"); normalize case only
        return (h.hypstr if h else "").lower()

    utts = read_manifest(args.manifest)[: args.limit]
    refs, hyps = [], {k: [] for k in systems}
    compute = {k: 0.0 for k in systems}
    audio_s = 0.0
    for u in utts:
        x = load_audio(u.audio)
        audio_s += len(x) / 16000
        refs.append(u.text)
        for name, (obj, _) in systems.items():
            decode(obj, x)  # warm-up
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                h = decode(obj, x)
                times.append(time.perf_counter() - t)
            compute[name] += statistics.median(times)
            hyps[name].append(h)
    res = {"manifest": args.manifest, "utterances": len(utts), "audio_s": round(audio_s, 2), "runs": args.runs,
           "pocketsphinx": importlib.metadata.version("pocketsphinx"),
           "systems": {}}  # fmt: skip
    for name, (_, load) in systems.items():
        res["systems"][name] = {
            "rtf": round(compute[name] / audio_s, 4),
            "load_s": round(load, 3),
            "wer": round(float(jiwer.wer(refs, hyps[name])), 4),
            "cer": round(float(jiwer.cer(refs, hyps[name])), 4),
            "examples": [{"ref": r, "hyp": h} for r, h in list(zip(refs, hyps[name]))[:3]],
        }
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
