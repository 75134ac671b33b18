"""The process that measures on the device: ``python -m todm.runtime.worker BUNDLE MANIFEST CONFIG``.

It speaks a line protocol on stdout so that the host gets each utterance as soon as it
is measured (and keeps it if the connection drops):

    TODM-UTT {json}       one per utterance (the results' ``utterances`` records)
    TODM-RESULT {json}    the whole results dict, last
    TODM-ERROR {message}  a user-facing error; exit status 2
    TODM-MISSING {json}   with ``--check FORMAT``: pip requirements missing here

CONFIG is a JSON object of ``run_benchmark`` keyword arguments. Running in a fresh
process makes the peak-memory figure the model's run and not the host tool's.
"""

from __future__ import annotations

import importlib.util
import json
import sys

PREFIX_UTT, PREFIX_RESULT, PREFIX_ERROR, PREFIX_MISSING = "TODM-UTT ", "TODM-RESULT ", "TODM-ERROR ", "TODM-MISSING "

# bundle format -> (import name, pip requirement) the device needs for it
REQUIREMENTS = {
    "common": [("numpy", "numpy>=2,<3"), ("soundfile", "soundfile==0.14.0"), ("jiwer", "jiwer==4.0.0")],
    "onnx": [("onnxruntime", "onnxruntime==1.31.1")],
    "tflite": [("ai_edge_litert", "ai-edge-litert==2.3.0")],
    "executorch": [("executorch", "executorch==1.5.1"), ("torch", "torch==2.13.0")],
}


def missing_requirements(fmt: str) -> list[str]:
    need = REQUIREMENTS["common"] + REQUIREMENTS.get(fmt, [])
    missing = [pip for mod, pip in need if importlib.util.find_spec(mod) is None]
    if fmt == "tflite" and missing == ["ai-edge-litert==2.3.0"] and importlib.util.find_spec("tflite_runtime"):
        return []
    return missing


def _emit(prefix: str, payload: str) -> None:
    sys.stdout.write(prefix + payload + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--check":
        _emit(PREFIX_MISSING, json.dumps(missing_requirements(argv[1])))
        return 0
    if len(argv) != 3:
        print("usage: python -m todm.runtime.worker BUNDLE MANIFEST CONFIG_JSON | --check FORMAT", file=sys.stderr)
        return 64
    from todm.errors import TodmError

    try:
        from todm.runtime.measure import run_benchmark

        cfg = json.loads(argv[2])
        res = run_benchmark(argv[0], argv[1], on_utterance=lambda u: _emit(PREFIX_UTT, json.dumps(u)), **cfg)
    except TodmError as e:
        _emit(PREFIX_ERROR, str(e).replace("\n", " | "))
        return 2
    _emit(PREFIX_RESULT, json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
