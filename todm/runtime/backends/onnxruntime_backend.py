"""onnxruntime backend: one InferenceSession per graph file."""

from __future__ import annotations

from typing import Any

import numpy as np

from todm.bundle import Bundle
from todm.errors import BundleError, DeviceError
from todm.runtime.backends import check_inputs

_OPT_LEVELS = ("disable", "basic", "extended", "all")


def import_runtime() -> Any:
    import onnxruntime

    return onnxruntime


class OnnxRuntimeBackend:
    """Runs a bundle's ONNX graphs.

    Args:
        bundle: an ``onnx`` bundle.
        num_threads: intra-op threads per session (inter-op is 1: the graphs are sequential).
        providers: execution providers in order of preference (default CPU only).
        optimization: graph optimization level, one of ``disable|basic|extended|all``.
    """

    name = "onnxruntime"

    def __init__(self, bundle: Bundle, num_threads: int = 1, providers: list[str] | None = None,
                 optimization: str = "all") -> None:  # fmt: skip
        ort = import_runtime()
        if optimization not in _OPT_LEVELS:
            raise DeviceError(f"onnxruntime optimization {optimization!r} is not one of {_OPT_LEVELS}")
        providers = providers or ["CPUExecutionProvider"]
        missing = [p for p in providers if p not in ort.get_available_providers()]
        if missing:
            raise DeviceError(
                f"onnxruntime here has no execution provider(s) {missing}; available: "
                f"{ort.get_available_providers()}"
            )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = {
            "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[optimization]
        self._specs = bundle.graphs
        self._sessions = {}
        self._out_names: dict[str, list[str]] = {}
        for g, spec in bundle.graphs.items():
            path = bundle.file(spec.file)
            try:
                sess = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
            except Exception as e:  # noqa: BLE001 - onnxruntime raises its own types
                raise BundleError(f"{path}: onnxruntime cannot load graph {g!r} ({e})") from None
            have = {i.name for i in sess.get_inputs()}
            want = [t.name for t in spec.inputs]
            if set(want) != have:
                raise BundleError(f"{path}: inputs {sorted(have)} differ from the manifest's {want}")
            self._sessions[g] = sess
            self._out_names[g] = [t.name for t in spec.outputs]
        self._version = ort.__version__
        self.providers = providers

    def has(self, graph: str) -> bool:
        return graph in self._sessions

    def run(self, graph: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        spec = self._specs[graph]
        arrays = check_inputs(spec, graph, inputs)
        feed = {t.name: a for t, a in zip(spec.inputs, arrays)}
        outs = self._sessions[graph].run(self._out_names[graph], feed)
        return dict(zip(self._out_names[graph], outs))

    def versions(self) -> dict[str, str]:
        return {"onnxruntime": self._version}


def open_bundle(bundle: Bundle, num_threads: int = 1, **options: Any) -> OnnxRuntimeBackend:
    return OnnxRuntimeBackend(bundle, num_threads=num_threads, **options)
