"""One graph of a bundle as a positional callable, for tools that drive graphs directly
(export parity checks): ``open_graph(bundle, "encoder").run(x, *caches) -> [out, *new_caches]``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from todm.bundle import GraphSpec
from todm.errors import BundleError


@dataclass
class Graph:
    """One opened graph. ``run`` takes inputs in GraphSpec order and returns outputs so.

    ``seconds`` accumulates the time spent inside the runtime's own call, which is what
    the harness reports as compute (and subtracts to measure its own overhead).
    """

    spec: GraphSpec
    backend: str = ""
    version: str = ""
    seconds: float = field(default=0.0)
    calls: int = field(default=0)

    def _run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        if len(inputs) != len(self.spec.inputs):
            raise BundleError(
                f"graph {self.spec.file}: {len(inputs)} inputs given, {len(self.spec.inputs)} expected"
            )
        arrays = [np.ascontiguousarray(x, dtype=t.dtype) for x, t in zip(inputs, self.spec.inputs)]
        t0 = time.perf_counter()
        out = self._run(arrays)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return out


class BoundGraph(Graph):
    """A graph served by an open backend."""

    def __init__(self, spec: GraphSpec, name: str, backend) -> None:
        super().__init__(spec=spec, backend=backend.name, version=",".join(backend.versions().values()))
        self._name, self._backend = name, backend

    def _run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        out = self._backend.run(self._name, {t.name: a for t, a in zip(self.spec.inputs, inputs)})
        return [out[t.name] for t in self.spec.outputs]
