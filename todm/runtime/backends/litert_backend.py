"""LiteRT backend: ``ai_edge_litert`` (falling back to the older ``tflite_runtime``).

A ``.tflite`` file made by litert-torch holds one signature whose inputs are named
``args_0, args_1, ...`` and outputs ``output_0, ...`` in the order of the exported
module's arguments and results; they are matched to the bundle's GraphSpec by position.
Files with other signature names are matched by name.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from todm.bundle import Bundle, GraphSpec
from todm.errors import BundleError
from todm.runtime.backends import check_inputs


def import_runtime() -> Any:
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        from tflite_runtime import interpreter  # numpy<2 devices; float models only (STACK.md)
    return interpreter


def _positional(names: list[str]) -> list[str]:
    # "args_10" must come after "args_9": order by the number, not the string.
    def key(n: str) -> tuple[int, str]:
        m = re.search(r"(\d+)$", n)
        return (int(m.group(1)) if m else -1, n)

    return sorted(names, key=key)


class _Graph:
    def __init__(self, path: str, spec: GraphSpec, graph: str, num_threads: int) -> None:
        interp_mod = import_runtime()
        try:
            self.interp = interp_mod.Interpreter(model_path=path, num_threads=num_threads)
        except Exception as e:  # noqa: BLE001
            raise BundleError(f"{path}: LiteRT cannot load graph {graph!r} ({e})") from None
        sigs = self.interp.get_signature_list()
        if len(sigs) != 1:
            raise BundleError(f"{path}: expected one signature, found {sorted(sigs)}")
        key = next(iter(sigs))
        self.runner = self.interp.get_signature_runner(key)
        in_names, out_names = list(sigs[key]["inputs"]), list(sigs[key]["outputs"])
        want_in, want_out = [t.name for t in spec.inputs], [t.name for t in spec.outputs]
        if set(in_names) == set(want_in):
            self.in_map = {n: n for n in want_in}
        elif len(in_names) == len(want_in):
            self.in_map = dict(zip(want_in, _positional(in_names)))
        else:
            raise BundleError(f"{path}: signature inputs {in_names} do not match the manifest's {want_in}")
        if set(out_names) == set(want_out):
            self.out_map = {n: n for n in want_out}
        elif len(out_names) == len(want_out):
            self.out_map = dict(zip(want_out, _positional(out_names)))
        else:
            raise BundleError(f"{path}: signature outputs {out_names} do not match the manifest's {want_out}")
        details = self.runner.get_input_details()
        self.batch = {n: int(details[self.in_map[n]]["shape"][0]) for n in want_in}
        # LiteRT stores int64 inputs as int32: feed what the file declares
        self.dtype = {n: np.dtype(details[self.in_map[n]]["dtype"]) for n in want_in}
        self.spec = spec

    def run(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = next(iter(arrays.values())).shape[0]
        if all(self.batch[k] == n for k in arrays):
            res = self.runner(**{self.in_map[k]: v.astype(self.dtype[k], copy=False) for k, v in arrays.items()})
            return {k: np.asarray(res[v]) for k, v in self.out_map.items()}
        # Fixed batch-1 graphs (decoder/joiner) serve beam search one hypothesis at a time.
        rows = [self.run({k: v[i : i + 1] for k, v in arrays.items()}) for i in range(n)]
        return {k: np.concatenate([r[k] for r in rows]) for k in self.out_map}


class LiteRTBackend:
    """Runs a bundle's ``.tflite`` graphs."""

    name = "litert"

    def __init__(self, bundle: Bundle, num_threads: int = 1) -> None:
        self._graphs = {
            g: _Graph(str(bundle.file(s.file)), s, g, num_threads) for g, s in bundle.graphs.items()
        }
        mod = import_runtime()
        self._runtime = mod.__name__.split(".")[0]

    def has(self, graph: str) -> bool:
        return graph in self._graphs

    def run(self, graph: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        g = self._graphs[graph]
        arrays = check_inputs(g.spec, graph, inputs)
        return g.run({t.name: a for t, a in zip(g.spec.inputs, arrays)})

    def versions(self) -> dict[str, str]:
        from importlib.metadata import PackageNotFoundError, version

        dist = "ai-edge-litert" if self._runtime == "ai_edge_litert" else "tflite-runtime"
        try:
            return {dist: version(dist)}
        except PackageNotFoundError:
            return {dist: "unknown"}


def open_bundle(bundle: Bundle, num_threads: int = 1, **options: Any) -> LiteRTBackend:
    if options:
        raise BundleError(f"LiteRT backend takes no options {sorted(options)}")
    return LiteRTBackend(bundle, num_threads=num_threads)
