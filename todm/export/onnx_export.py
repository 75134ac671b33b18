"""ONNX: streaming graphs for the todm runtime, and the offline set sherpa-onnx loads.

Opset 17: LayerNormalization is a native op from 17 on (one node instead of a
decomposition), and every runtime we target (onnxruntime >= 1.13, sherpa-onnx) reads it.
The TorchScript exporter is used: it keeps the fixed chunk shapes exactly and names
inputs and outputs as given; the offline encoder gets dynamic N and T axes.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

import torch

from todm.bundle import GraphSpec, ModelMeta
from todm.errors import BundleError
from todm.export.signatures import streaming_graphs

OPSET = 17
SHERPA_DIR = "sherpa-onnx"


def _export(module: torch.nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
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
    sherpa-onnx offline set under ``sherpa-onnx/``; returns the streaming GraphSpecs."""
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
        _export(graphs[name], example_inputs(model, name), path, ins, outs, dyn)
        add_metadata(path, {**flat, "graph": name})
        if precision == "int8":
            quantize_int8(path)
    _export_sherpa(model, graphs, out_dir / SHERPA_DIR, flat, precision)
    return specs


class SherpaEncoderGraph(torch.nn.Module):
    """The offline encoder on sherpa-onnx's fbank: ``x [N, T, 80]``, ``x_lens [N]`` ->
    ``(encoder_out [N, T', J], encoder_out_lens [N])``.

    sherpa-onnx hands kaldi-native-fbank samples in [-1, 1], while our front end scales
    them by ``input_scale`` (32768) first, as Kaldi does. Every step before the log is
    linear in the samples, so the two log-mel energies differ by ``2 ln(input_scale)``
    per bin; adding it back makes sherpa's features ours.
    """

    def __init__(self, model, input_scale: float) -> None:
        super().__init__()
        self.model = model
        self.offset = 2.0 * math.log(input_scale)

    def forward(self, x: torch.Tensor, x_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.encode(x + self.offset, x_lens)


class SherpaDecoderGraph(torch.nn.Module):
    """The decoder as sherpa-onnx calls it: ``y [N, context_size]`` int64 -> ``[N, J]``.

    sherpa-onnx (like icefall) starts each hypothesis with the context
    ``[-1, ..., -1, blank]``; our models start from all-blank contexts, so ids below 0 are
    read as blank. Without this, ONNX's Gather wraps -1 to the last token's embedding.
    """

    def __init__(self, model, blank_id: int) -> None:
        super().__init__()
        self.model = model
        self.blank_id = blank_id

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.model.decoder(torch.where(y < 0, torch.full_like(y, self.blank_id), y))


def _export_sherpa(model, graphs: dict, out: Path, flat: dict[str, str], precision: str) -> None:
    """sherpa-onnx's offline transducer form: whole-utterance encoder with lengths."""
    from todm.supernet.static import example_inputs

    out.mkdir(parents=True, exist_ok=True)
    enc = SherpaEncoderGraph(model, model.meta.features.input_scale).eval()
    _export(enc, example_inputs(model, "offline_encoder"), out / "encoder.onnx",
            ["x", "x_lens"], ["encoder_out", "encoder_out_lens"],
            {"x": {0: "N", 1: "T"}, "x_lens": {0: "N"}, "encoder_out": {0: "N", 1: "T_out"},
             "encoder_out_lens": {0: "N"}})  # fmt: skip
    _export(SherpaDecoderGraph(model, model.meta.blank_id).eval(), example_inputs(model, "decoder"),
            out / "decoder.onnx", ["y"],
            ["decoder_out"], {"y": {0: "N"}, "decoder_out": {0: "N"}})  # fmt: skip
    _export(graphs["joiner"], example_inputs(model, "joiner"), out / "joiner.onnx",
            ["encoder_out", "decoder_out"], ["logit"],
            {"encoder_out": {0: "N"}, "decoder_out": {0: "N"}, "logit": {0: "N"}})  # fmt: skip
    # sherpa-onnx reads vocab_size and context_size from the decoder; the rest documents.
    sherpa_meta = {**flat, "model_type": "todm-conformer-transducer", "model_author": "todm",
                   "comment": "non-streaming export for sherpa-onnx OfflineRecognizer.from_transducer"}  # fmt: skip
    for name in ("encoder", "decoder", "joiner"):
        add_metadata(out / f"{name}.onnx", sherpa_meta)
        if precision == "int8":
            quantize_int8(out / f"{name}.onnx")


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata_props of an ONNX file (torch-free: onnxruntime only)."""
    import onnxruntime as ort

    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001
        raise BundleError(f"{path}: onnxruntime cannot load it ({e})") from None
    return dict(sess.get_modelmeta().custom_metadata_map)
