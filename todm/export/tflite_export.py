"""LiteRT: ``encoder.tflite`` (one chunk + caches), ``decoder.tflite``, ``joiner.tflite``.

litert_torch converts with fixed shapes (batch 1); a .tflite holds one signature whose
inputs/outputs are ``args_i``/``output_i`` in argument order, which the runtime matches
to the manifest by position. int8: ai_edge_quantizer's ``dynamic_wi8_afp32`` recipe
(int8 weights, float activations), which needs no calibration data. The model metadata
travels in the bundle manifest (LiteRT files have no free-form key/value store that
both runtimes read).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from todm.bundle import GraphSpec, TensorSpec
from todm.export.signatures import streaming_graphs

FILES = {"encoder": "encoder.tflite", "ctc": "ctc.tflite", "decoder": "decoder.tflite", "joiner": "joiner.tflite"}


def _quantize(path: Path) -> None:
    from ai_edge_quantizer import quantizer, recipe

    q = quantizer.Quantizer(str(path))
    q.load_quantization_recipe(recipe.dynamic_wi8_afp32())
    tmp = path.with_name(f".{path.name}.int8")
    q.quantize().export_model(str(tmp), overwrite=True)
    os.replace(tmp, path)


def export_tflite(model, out_dir: Path, precision: str = "fp32") -> dict[str, GraphSpec]:
    """Write the ``.tflite`` graphs into ``out_dir``; returns the bundle's GraphSpecs.

    Args:
        model: a ``todm.supernet.static.StaticModel`` in eval mode.
        precision: ``fp32`` or ``int8`` (dynamic-range: int8 weights, float activations).
    """
    import litert_torch

    from todm.supernet.static import example_inputs, graph_modules

    modules = graph_modules(model)
    names = [n for n in FILES if n in modules]
    for name in names:
        path = Path(out_dir) / FILES[name]
        tmp = path.with_name(f".{path.name}.tmp")
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            logging.getLogger("absl").setLevel(logging.ERROR)
            litert_torch.convert(modules[name], example_inputs(model, name)).export(str(tmp))
        os.replace(tmp, path)
        if precision == "int8":
            _quantize(path)
    specs = streaming_graphs(model, {n: FILES[n] for n in names})
    return {n: _as_converted(Path(out_dir) / s.file, s) for n, s in specs.items()}


def _as_converted(path: Path, spec: GraphSpec) -> GraphSpec:
    """The spec with the file's real batch (1) and dtypes: the converter turns int64
    inputs (the decoder's token ids) into int32, and the runtime casts to the manifest's."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    (key,) = interp.get_signature_list()
    runner = interp.get_signature_runner(key)

    def fix(ts: tuple[TensorSpec, ...], details: dict) -> tuple[TensorSpec, ...]:
        ordered = [details[k] for k in sorted(details, key=lambda k: int(k.rsplit("_", 1)[1]))]
        return tuple(TensorSpec(t.name, (1, *t.shape[1:]), np.dtype(d["dtype"]).name) for t, d in zip(ts, ordered))

    return GraphSpec(spec.file, fix(spec.inputs, runner.get_input_details()),
                     fix(spec.outputs, runner.get_output_details()), spec.method)  # fmt: skip
