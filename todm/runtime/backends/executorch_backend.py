"""ExecuTorch backend: one ``.pte`` program whose methods are the graphs.

ExecuTorch's Python runtime links libtorch, so torch is imported here, lazily, only when
this backend is chosen; the rest of ``todm.runtime`` stays torch-free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from todm.bundle import Bundle
from todm.errors import BundleError
from todm.runtime.backends import check_inputs


def import_runtime() -> Any:
    from executorch.runtime import Runtime

    return Runtime


class ExecuTorchBackend:
    """Runs a bundle's ``.pte`` methods (``GraphSpec.method``, default the graph's name)."""

    name = "executorch"

    def __init__(self, bundle: Bundle, num_threads: int = 1) -> None:
        import torch  # noqa: F401 - ExecuTorch's runtime needs it loaded (STACK.md)

        runtime = import_runtime().get()
        self._torch = torch
        torch.set_num_threads(num_threads)
        self._specs = bundle.graphs
        self._methods = {}
        programs: dict[str, Any] = {}
        for g, spec in bundle.graphs.items():
            path = bundle.file(spec.file)
            try:
                if spec.file not in programs:
                    programs[spec.file] = runtime.load_program(str(path))
                self._methods[g] = programs[spec.file].load_method(spec.method or g)
            except Exception as e:  # noqa: BLE001
                raise BundleError(f"{path}: ExecuTorch cannot load method {spec.method or g!r} ({e})") from None
        self._programs = programs

    def has(self, graph: str) -> bool:
        return graph in self._methods

    def run(self, graph: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        spec = self._specs[graph]
        arrays = check_inputs(spec, graph, inputs)
        fixed_n = spec.inputs[0].shape[0]
        n = arrays[0].shape[0]
        if fixed_n == -1 or fixed_n == n:
            outs = self._methods[graph].execute([self._torch.from_numpy(a) for a in arrays])
            return {t.name: o.numpy() for t, o in zip(spec.outputs, outs)}
        rows = [self.run(graph, {t.name: a[i : i + 1] for t, a in zip(spec.inputs, arrays)}) for i in range(n)]
        return {t.name: np.concatenate([r[t.name] for r in rows]) for t in spec.outputs}

    def versions(self) -> dict[str, str]:
        from importlib.metadata import version

        return {"executorch": version("executorch"), "torch": self._torch.__version__}


def open_bundle(bundle: Bundle, num_threads: int = 1, **options: Any) -> ExecuTorchBackend:
    if options:
        raise BundleError(f"ExecuTorch backend takes no options {sorted(options)}")
    return ExecuTorchBackend(bundle, num_threads=num_threads)
