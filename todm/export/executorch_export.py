"""ExecuTorch: one ``model.pte`` whose methods are the graphs, constants as methods.

Layout follows ExecuTorch's own transducer examples: methods ``encoder`` (one chunk +
caches), ``decoder_step``, ``joint`` (and ``ctc``), plus constant methods holding what a
runner needs (``blank_id``, ``context_size``, ``vocab_size``, chunk and feature sizes,
the cache shapes, ``subnet_id`` ...), so a C++ runner reads them with ``execute``.

All shapes are fixed (batch 1): the streaming graphs are fixed-size by design, and a
fixed decoder/joiner batch avoids ExecuTorch's bounded dynamic shapes, which fail at
run time when a bound is exceeded (STACK.md); the runtime loops over hypotheses.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from todm.bundle import GraphSpec, TensorSpec
from todm.errors import BundleError
from todm.export.signatures import streaming_graphs

PTE_NAME = "model.pte"
# bundle graph name -> .pte method name (ExecuTorch's transducer runner's names)
METHODS = {"encoder": "encoder", "ctc": "ctc", "decoder": "decoder_step", "joiner": "joint"}


def constant_methods(model) -> dict[str, object]:
    """The model's constants, as ExecuTorch constant methods (ints, floats, strings)."""
    meta = model.meta
    out: dict[str, object] = {}
    for k, v in meta.to_flat_strings().items():
        if k == "model_type":
            out[k] = v
            continue
        raw = getattr(meta, k, None)
        if raw is None and k.startswith("feature_"):
            raw = getattr(meta.features, k[len("feature_") :])
        if isinstance(raw, bool):
            out[k] = int(raw)
        elif isinstance(raw, (int, float)):
            out[k] = raw
        else:
            out[k] = v if raw is None else str(raw)
    out["num_caches"] = len(model.cache_specs(1))
    for i, c in enumerate(model.cache_specs(1)):
        # One method per cache: its shape as a 1-D int64 tensor, so a runner can allocate it.
        out[f"cache_{i}_shape"] = torch.tensor(c.shape, dtype=torch.int64)
    return out


def _quantize(model):
    """int8 weights (per output channel) with dynamic int8 activations on every Linear,
    torchao's form that XNNPACK lowers to its quantized kernels; returns a copy.

    pt2e (prepare/convert with XNNPACKQuantizer) was tried first: its prepared graph
    mis-types the constant relative-position index of the attention bias and fails.
    """
    import copy

    from torchao.quantization import Int8DynamicActivationIntxWeightConfig, quantize_
    from torchao.quantization.granularity import PerAxis

    q = copy.deepcopy(model).eval()
    quantize_(q, Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int8, weight_granularity=PerAxis(0)))
    return q


def export_executorch(model, out_dir: Path, precision: str = "fp32", delegate: bool = True) -> dict[str, GraphSpec]:
    """Write ``model.pte`` into ``out_dir``; returns the bundle's GraphSpecs.

    Args:
        model: a ``todm.supernet.static.StaticModel`` in eval mode.
        precision: ``fp32`` or ``int8`` (torchao int8 weights, dynamic int8 activations; needs ``delegate``).
        delegate: lower to XNNPACK; ``False`` keeps portable kernels (any CPU, slower).
    """
    if precision == "int8" and not delegate:
        raise BundleError("ExecuTorch int8 runs through XNNPACK's quantized kernels: drop --no-delegate")
    # The exporter calls the flatc console script that ships beside the interpreter.
    bindir = os.path.dirname(os.path.realpath(os.sys.executable))
    if shutil.which("flatc") is None and os.path.exists(os.path.join(bindir, "flatc")):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    from executorch.exir import EdgeCompileConfig, to_edge_transform_and_lower

    from todm.supernet.static import example_inputs, graph_modules

    if precision == "int8":
        model = _quantize(model)
    modules = graph_modules(model)
    names = [n for n in METHODS if n in modules]
    programs = {}
    with torch.no_grad():
        for name in names:
            args = example_inputs(model, name)
            programs[METHODS[name]] = torch.export.export(modules[name], args, strict=False)
    partitioner = []
    if delegate:
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner

        partitioner = [XnnpackPartitioner()]
    edge = to_edge_transform_and_lower(
        programs,
        partitioner=partitioner,
        constant_methods=constant_methods(model),
        compile_config=EdgeCompileConfig(_check_ir_validity=False),
    )
    et = edge.to_executorch()
    path = Path(out_dir) / PTE_NAME
    tmp = path.with_name(f".{PTE_NAME}.tmp")
    tmp.write_bytes(et.buffer)
    tmp.replace(path)
    files = {n: PTE_NAME for n in names}
    specs = streaming_graphs(model, files, methods={n: METHODS[n] for n in names})
    # Fixed batch 1 for decoder/joiner (see module docstring).
    return {n: _batch1(s) if n in ("decoder", "joiner") else s for n, s in specs.items()}


def _batch1(spec: GraphSpec) -> GraphSpec:
    def fix(ts: tuple[TensorSpec, ...]) -> tuple[TensorSpec, ...]:
        return tuple(TensorSpec(t.name, (1, *t.shape[1:]), t.dtype) for t in ts)

    return GraphSpec(file=spec.file, inputs=fix(spec.inputs), outputs=fix(spec.outputs), method=spec.method)
