"""What every backend provides: run one graph on numpy arrays, and say what it is."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from todm.bundle import GraphSpec
from todm.errors import BundleError


@dataclass(frozen=True)
class RuntimeOptions:
    """Knobs common to the runtimes.

    Attributes:
        num_threads: intra-op threads (1 is the honest figure for a small core).
        providers: onnxruntime execution providers, in order of preference.
        graph_optimization: onnxruntime graph optimization level ("all", "extended",
            "basic", "disable").
    """

    num_threads: int = 1
    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    graph_optimization: str = "all"


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
