"""A small random-weight ONNX bundle written with ``onnx.helper`` (no torch, no training).

It has the bundle's exact graph signatures (streaming encoder with one cache, CTC,
stateless decoder, joiner), so transport, measurement and API tests run on the real
onnxruntime without waiting for a trained model. Its words are meaningless.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from todm.bundle import GraphSpec, ModelMeta, TensorSpec, write_manifest, write_tokens

TOKENS = ["<blk>", "\u2581one", "\u2581two", "\u2581three", "\u2581four", "\u2581five", "\u2581six", "s", "<unk>"]
J, C, S, CTX = 16, 4, 4, 2
CIN = S * (C - 1) + 7


def _encoder(out_name: str, vocab: int | None, rng: np.random.Generator):
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array((rng.standard_normal((S * 80, J)) * 0.02).astype(np.float32), "W")
    nodes = [
        helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["xs"]),
        helper.make_node("Reshape", ["xs", "shape"], ["xr"]),
        helper.make_node("MatMul", ["xr", "W"], ["h"]),
        helper.make_node("Unsqueeze", ["cache", "one"], ["cu"]),
        helper.make_node("Add", ["h", "cu"], ["h2"]),
        helper.make_node("Tanh", ["h2"], ["t"]),
        helper.make_node("ReduceMean", ["t"], ["new_cache_raw"], axes=[1], keepdims=0),
        helper.make_node("Mul", ["new_cache_raw", "half"], ["new_cache"]),
    ]
    inits = [
        w,
        numpy_helper.from_array(np.array([0], np.int64), "starts"),
        numpy_helper.from_array(np.array([C * S], np.int64), "ends"),
        numpy_helper.from_array(np.array([1], np.int64), "axes"),
        numpy_helper.from_array(np.array([1, C, S * 80], np.int64), "shape"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
    ]
    width = J
    if vocab is None:
        nodes.append(helper.make_node("Identity", ["t"], [out_name]))
    else:
        width = vocab
        wc = (rng.standard_normal((J, vocab)) * 3).astype(np.float32)
        wc[:, 0] += 2.0
        inits.append(numpy_helper.from_array(wc, "Wc"))
        nodes += [helper.make_node("MatMul", ["t", "Wc"], ["z"]),
                  helper.make_node("LogSoftmax", ["z"], [out_name], axis=-1)]
    g = helper.make_graph(
        nodes, "enc",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CIN, 80]),
         helper.make_tensor_value_info("cache", TensorProto.FLOAT, [1, J])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [1, C, width]),
         helper.make_tensor_value_info("new_cache", TensorProto.FLOAT, [1, J])],
        inits,
    )  # fmt: skip
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def write_synthetic_bundle(out: Path, seed: int = 0) -> Path:
    """Write the bundle into ``out`` (created) and return it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    V = len(TOKENS)
    onnx.save(_encoder("encoder_out", None, rng), out / "encoder.onnx")
    onnx.save(_encoder("log_probs", V, rng), out / "ctc.onnx")
    emb = numpy_helper.from_array(rng.standard_normal((V, J)).astype(np.float32), "E")
    dec = helper.make_graph(
        [helper.make_node("Gather", ["E", "y"], ["e"]), helper.make_node("ReduceSum", ["e", "ax"], ["decoder_out"], keepdims=0)],
        "dec", [helper.make_tensor_value_info("y", TensorProto.INT64, ["N", CTX])],
        [helper.make_tensor_value_info("decoder_out", TensorProto.FLOAT, ["N", J])],
        [emb, numpy_helper.from_array(np.array([1], np.int64), "ax")],
    )  # fmt: skip
    onnx.save(helper.make_model(dec, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), out / "decoder.onnx")
    wo = rng.standard_normal((J, V)).astype(np.float32) * 2
    wo[:, 0] += 3.0  # blank wins often, as in a trained model
    join = helper.make_graph(
        [helper.make_node("Add", ["encoder_out", "decoder_out"], ["s"]), helper.make_node("Tanh", ["s"], ["t"]),
         helper.make_node("MatMul", ["t", "Wo"], ["logit"])],
        "join", [helper.make_tensor_value_info("encoder_out", TensorProto.FLOAT, ["N", J]),
                 helper.make_tensor_value_info("decoder_out", TensorProto.FLOAT, ["N", J])],
        [helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N", V])],
        [numpy_helper.from_array(wo, "Wo")],
    )  # fmt: skip
    onnx.save(helper.make_model(join, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), out / "joiner.onnx")
    write_tokens(out / "tokens.txt", TOKENS)
    meta = ModelMeta(model_type="transducer", vocab_size=V, blank_id=0, context_size=CTX, subsampling=S,
                     chunk_frames=C, chunk_input_frames=CIN, chunk_shift_frames=C * S, left_context_frames=16,
                     joiner_dim=J, subnet_id="synthetic")  # fmt: skip
    x = TensorSpec("x", (1, CIN, 80), "float32")
    graphs = {
        "encoder": GraphSpec("encoder.onnx", (x, TensorSpec("cache", (1, J), "float32")),
                             (TensorSpec("encoder_out", (1, C, J), "float32"), TensorSpec("new_cache", (1, J), "float32"))),
        "ctc": GraphSpec("ctc.onnx", (x, TensorSpec("cache", (1, J), "float32")),
                         (TensorSpec("log_probs", (1, C, V), "float32"), TensorSpec("new_cache", (1, J), "float32"))),
        "decoder": GraphSpec("decoder.onnx", (TensorSpec("y", (-1, CTX), "int64"),), (TensorSpec("decoder_out", (-1, J), "float32"),)),
        "joiner": GraphSpec("joiner.onnx", (TensorSpec("encoder_out", (-1, J), "float32"), TensorSpec("decoder_out", (-1, J), "float32")),
                            (TensorSpec("logit", (-1, V), "float32"),)),
    }  # fmt: skip
    write_manifest(out, format="onnx", precision="fp32", meta=meta, graphs=graphs,
                   caches=[TensorSpec("cache", (1, J), "float32")])  # fmt: skip
    return out
