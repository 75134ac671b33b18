"""Backends: one small protocol over onnxruntime, LiteRT and ExecuTorch.

A backend loads a bundle's graphs and runs one by name with named numpy inputs, returning
named numpy outputs (names from the bundle's ``GraphSpec``). Nothing here imports a
runtime at module level: each backend imports its runtime when it is chosen, so a device
needs only the one it uses.
"""

from __future__ import annotations

import importlib
from typing import Protocol

import numpy as np

from todm.bundle import Bundle, GraphSpec
from todm.errors import BundleError, DeviceError

# bundle format -> backend module (under todm.runtime.backends) and the pip package it needs
BACKENDS: dict[str, tuple[str, str]] = {
    "onnxruntime": ("onnxruntime_backend", "onnxruntime==1.31.1"),
    "litert": ("litert_backend", "ai-edge-litert==2.3.0"),
    "executorch": ("executorch_backend", "executorch==1.5.1 (with torch 2.13)"),
}
DEFAULT_BACKEND = {"onnx": "onnxruntime", "tflite": "litert", "executorch": "executorch"}
FORMAT_OF = {"onnxruntime": "onnx", "litert": "tflite", "executorch": "executorch"}


class Backend(Protocol):
    """What the recognizer needs from a runtime."""

    name: str

    def run(self, graph: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run graph ``graph`` (``encoder``, ``decoder``, ``joiner``, ``ctc``) by tensor name."""
        ...

    def has(self, graph: str) -> bool: ...

    def versions(self) -> dict[str, str]:
        """Runtime name -> version, for the results' environment record."""
        ...


def check_inputs(spec: GraphSpec, graph: str, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Order ``inputs`` as the graph takes them, checking names and fixed dimensions."""
    out = []
    for t in spec.inputs:
        if t.name not in inputs:
            raise BundleError(f"graph {graph!r}: input {t.name!r} not given (have {sorted(inputs)})")
        a = inputs[t.name]
        if a.dtype != np.dtype(t.dtype):
            a = a.astype(t.dtype)
        # dim 0 is the batch: a graph fixed at batch 1 serves beam search row by row
        if len(a.shape) != len(t.shape) or any(s != -1 and s != d for s, d in zip(t.shape[1:], a.shape[1:])):
            raise BundleError(f"graph {graph!r}: input {t.name!r} has shape {a.shape}, expected {t.shape}")
        out.append(np.ascontiguousarray(a))
    return out


def load_backend(bundle: Bundle, name: str | None = None, num_threads: int = 1, **options) -> Backend:
    """Open ``bundle`` with backend ``name`` (default: the one its format needs).

    Raises:
        DeviceError: the runtime is not installed here (the message gives the pip command).
        BundleError: the backend cannot run this bundle's format.
    """
    name = name or DEFAULT_BACKEND.get(bundle.format)
    if name not in BACKENDS:
        raise BundleError(f"backend {name!r} is not one of {sorted(BACKENDS)}")
    if FORMAT_OF[name] != bundle.format:
        raise BundleError(
            f"{bundle.path}: a {bundle.format!r} bundle cannot run on backend {name!r} "
            f"(use {DEFAULT_BACKEND.get(bundle.format)!r})"
        )
    module, pip = BACKENDS[name]
    mod = importlib.import_module(f"todm.runtime.backends.{module}")
    try:
        mod.import_runtime()
    except ImportError as e:
        raise DeviceError(f"backend {name!r} needs its runtime ({e}); install it with: pip install {pip}") from None
    return mod.open_bundle(bundle, num_threads=num_threads, **options)


def open_graph(bundle: Bundle, name: str, backend: str | None = None, num_threads: int = 1):
    """Graph ``name`` of ``bundle`` as ``Graph.run(*inputs) -> [outputs]`` in GraphSpec order."""
    from todm.runtime.backends.base import BoundGraph

    if name not in bundle.graphs:
        raise BundleError(f"{bundle.path}: no graph {name!r} (has {sorted(bundle.graphs)})")
    return BoundGraph(bundle.graphs[name], name, load_backend(bundle, backend, num_threads))
