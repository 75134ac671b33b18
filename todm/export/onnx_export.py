"""ONNX: streaming graphs for the todm runtime, and the sets sherpa-onnx loads (``sherpa_export``).

Opset 17: LayerNormalization is a native op from 17 on (one node instead of a
decomposition), and every runtime we target (onnxruntime >= 1.13, sherpa-onnx) reads it.
The TorchScript exporter is used: it keeps the fixed chunk shapes exactly and names
inputs and outputs as given; the offline encoder gets dynamic N and T axes.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from todm.bundle import GraphSpec, ModelMeta
from todm.errors import BundleError
from todm.export.signatures import streaming_graphs

OPSET = 17


def export_graph(module: torch.nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
            dynamic_axes: dict | None = None) -> None:  # fmt: skip
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)  # fmt: skip


def add_metadata(path: Path, meta: dict[str, str]) -> None:
    """Store key/values in the model's metadata_props (what sherpa-onnx reads) and check it."""
    import onnx

    model = onnx.load(str(path))
    del model.metadata_props[:]
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, str(v)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def quantize_int8(path: Path) -> None:
    """Dynamic int8 weights (onnxruntime.quantization), in place; metadata kept."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    tmp = path.with_suffix(".int8.tmp.onnx")
    quantize_dynamic(str(path), str(tmp), weight_type=QuantType.QInt8)
    tmp.replace(path)
    add_metadata(path, meta)


def export_onnx(model, out_dir: Path, precision: str = "fp32") -> dict[str, GraphSpec]:
    """Write ``encoder.onnx`` (or ``ctc.onnx``), ``decoder.onnx``, ``joiner.onnx`` and the
    sherpa-onnx sets (``sherpa-onnx/``, ``sherpa-onnx-streaming/``); returns the streaming GraphSpecs."""
    from todm.supernet.static import example_inputs, graph_modules

    meta: ModelMeta = model.meta
    flat = meta.to_flat_strings()
    graphs = graph_modules(model)
    files = {"encoder": "encoder.onnx", "ctc": "ctc.onnx", "decoder": "decoder.onnx", "joiner": "joiner.onnx"}
    specs = streaming_graphs(model, files)
    for name, spec in specs.items():
        path = out_dir / spec.file
        ins = [t.name for t in spec.inputs]
        outs = [t.name for t in spec.outputs]
        dyn = None
        if name in ("decoder", "joiner"):
            dyn = {n: {0: "N"} for n in ins + outs}
        export_graph(graphs[name], example_inputs(model, name), path, ins, outs, dyn)
        add_metadata(path, {**flat, "graph": name})
        if precision == "int8":
            quantize_int8(path)
    from todm.export.sherpa_export import export_sherpa

    export_sherpa(model, out_dir, flat, precision)
    return specs


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata_props of an ONNX file (torch-free: onnxruntime only)."""
    import onnxruntime as ort

    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001
        raise BundleError(f"{path}: onnxruntime cannot load it ({e})") from None
    return dict(sess.get_modelmeta().custom_metadata_map)
