"""Static models export: torch.export for every graph, ONNX for the streaming encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from todm.supernet.model import Supernet, tiny_config
from todm.supernet.slicing import slice_subnet
from todm.supernet.static import StaticModel, example_inputs, graph_modules

torch.set_num_threads(1)


def _static(encoder: str = "conformer") -> StaticModel:
    torch.manual_seed(0)
    net = Supernet(tiny_config(encoder=encoder)).eval()
    net.set_feature_stats(torch.randn(80), torch.rand(80) + 0.5)
    return slice_subnet(net, "L2-D24-F48_32-H2_4")


def _flat(out: object) -> list[torch.Tensor]:
    return list(out) if isinstance(out, (tuple, list)) else [out]  # type: ignore[arg-type]


@pytest.mark.parametrize("encoder", ["conformer", "ssm"])
def test_torch_export_of_every_graph(encoder: str) -> None:
    static = _static(encoder)
    for name, module in graph_modules(static).items():
        args = example_inputs(static, name)
        if name in ("encoder", "ctc"):
            args = (torch.randn_like(args[0]), *args[1:])
        ep = torch.export.export(module, args)
        got, want = _flat(ep.module()(*args)), _flat(module(*args))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert torch.allclose(g, w, atol=1e-6), name


@pytest.mark.parametrize("encoder", ["conformer", "ssm"])
def test_onnx_encoder_chunk_runs_in_onnxruntime(encoder: str, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    static = _static(encoder)
    module = graph_modules(static)["encoder"]
    specs = static.cache_specs()
    in_names = ["x", *[s.name for s in specs]]
    out_names = ["encoder_out", *[f"new_{s.name}" for s in specs]]
    path = tmp_path / "encoder.onnx"
    args = example_inputs(static, "encoder")
    torch.onnx.export(module, args, str(path), input_names=in_names, output_names=out_names,
                      dynamo=False, opset_version=17)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    caches_t = static.init_caches(1)
    caches_np = [c.numpy() for c in caches_t]
    torch.manual_seed(1)
    for _ in range(4):  # several chunks, so cache hand-over is exercised
        x = torch.randn(1, static.meta.chunk_input_frames, 80)
        want = static.encode_chunk(x, *caches_t)
        got = sess.run(out_names, {"x": x.numpy(), **dict(zip(in_names[1:], caches_np))})
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w.detach().numpy(), atol=1e-5)
        caches_t, caches_np = list(want[1:]), got[1:]
    assert {s.dtype for s in specs} == {"float32"}


@pytest.mark.parametrize("encoder", ["conformer", "ssm"])
def test_offline_encoder_exports_with_dynamic_time(encoder: str, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    static = _static(encoder)
    module = graph_modules(static)["offline_encoder"]
    args = example_inputs(static, "offline_encoder", batch=2)
    t = torch.export.Dim("T", min=8, max=4000)
    ep = torch.export.export(module, args, dynamic_shapes=({1: t}, None))
    path = tmp_path / "offline.onnx"
    names = {"input_names": ["x", "x_lens"], "output_names": ["encoder_out", "encoder_out_lens"]}
    if encoder == "ssm":
        # Its whole-sequence convolution has a kernel as long as the input: only the dynamo
        # exporter handles a kernel of unknown length.
        torch.onnx.export(module, args, str(path), dynamo=True, dynamic_shapes=({1: t}, None),
                          verbose=False, **names)
    else:
        torch.onnx.export(module, args, str(path), dynamo=False, opset_version=17,
                          dynamic_axes={"x": {0: "N", 1: "T"}, "x_lens": {0: "N"}}, **names)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    torch.manual_seed(2)
    for t_len in (9, 131, 250):  # none of them the traced length
        x, lens = torch.randn(2, t_len, 80), torch.tensor([t_len, max(t_len - 40, 1)])
        want, want_lens = static.encode(x, lens)
        got, got_lens = ep.module()(x, lens)
        assert torch.equal(got_lens, want_lens) and torch.allclose(got, want, atol=1e-5)
        o, o_lens = sess.run(None, {"x": x.numpy(), "x_lens": lens.numpy()})
        np.testing.assert_array_equal(o_lens, want_lens.numpy())
        np.testing.assert_allclose(o, want.detach().numpy(), atol=1e-4)


def test_new_caches_are_contiguous_and_match_specs() -> None:
    static = _static()
    out = static.encode_chunk(*example_inputs(static, "encoder"))
    specs = static.cache_specs()
    assert len(out) == 1 + len(specs)
    for spec, t in zip(specs, out[1:]):
        assert t.is_contiguous(), spec.name  # ExecuTorch rejects strided inputs
        assert tuple(t.shape) == spec.shape and str(t.dtype).endswith(spec.dtype)


@pytest.mark.slow
@pytest.mark.parametrize("encoder", ["conformer", "ssm"])
def test_executorch_xnnpack_program_streams(encoder: str, tmp_path: Path) -> None:
    """About 15 s per encoder: lowering to XNNPACK and running the .pte chunk by chunk."""
    pytest.importorskip("executorch")
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    from executorch.runtime import Runtime

    static = _static(encoder)
    graphs = graph_modules(static)
    progs = {
        n: torch.export.export(graphs[n], example_inputs(static, n))
        for n in ("encoder", "decoder", "joiner")
    }
    et = to_edge_transform_and_lower(progs, partitioner=[XnnpackPartitioner()]).to_executorch()
    path = tmp_path / "model.pte"
    path.write_bytes(et.buffer)
    method = Runtime.get().load_program(str(path)).load_method("encoder")
    caches = static.init_caches(1)
    torch.manual_seed(3)
    for _ in range(3):
        x = torch.randn(1, static.meta.chunk_input_frames, 80)
        got = method.execute([x, *caches])
        want = static.encode_chunk(x, *caches)
        for g, w in zip(got, want):
            assert torch.allclose(g, w, atol=1e-5)
        caches = list(got[1:])


@pytest.mark.slow
@pytest.mark.parametrize("encoder", ["conformer", "ssm"])
def test_litert_conversion_of_encoder_chunk(encoder: str, tmp_path: Path) -> None:
    """About 12 s per encoder: the streaming encoder converts to .tflite and matches."""
    litert_torch = pytest.importorskip("litert_torch")
    static = _static(encoder)
    module = graph_modules(static)["encoder"]
    edge = litert_torch.convert(module, example_inputs(static, "encoder"))
    edge.export(str(tmp_path / "encoder.tflite"))
    caches = static.init_caches(1)
    torch.manual_seed(4)
    for _ in range(2):
        x = torch.randn(1, static.meta.chunk_input_frames, 80)
        got = edge(x, *caches)
        with torch.no_grad():
            want = static.encode_chunk(x, *caches)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w.detach().numpy(), atol=1e-5)
        caches = list(want[1:])
