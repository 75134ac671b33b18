"""Input and output tensors of each exported graph, named once for every format.

These names are the bundle's contract (``todm/bundle.py``): the runtime feeds and reads
tensors by them, whatever the backend.
"""

from __future__ import annotations

from todm.bundle import GraphSpec, TensorSpec

NEW_PREFIX = "new_"  # an output cache is its input's name with this prefix


def _cache_outputs(caches: list[TensorSpec]) -> list[TensorSpec]:
    return [TensorSpec(NEW_PREFIX + c.name, c.shape, c.dtype) for c in caches]


def streaming_graphs(model, files: dict[str, str], methods: dict[str, str] | None = None) -> dict[str, GraphSpec]:
    """GraphSpecs of the streaming graphs of a StaticModel (batch 1).

    Args:
        model: a ``todm.supernet.static.StaticModel``.
        files: graph name -> file in the bundle (``encoder``, ``decoder``, ``joiner``, ``ctc``).
        methods: graph name -> method name, for multi-method programs (.pte).
    """
    meta = model.meta
    caches = model.cache_specs(1)
    f = meta.features.num_mel_bins
    x = TensorSpec("x", (1, meta.chunk_input_frames, f), "float32")
    specs: dict[str, tuple[list[TensorSpec], list[TensorSpec]]] = {
        "encoder": (
            [x, *caches],
            [TensorSpec("encoder_out", (1, meta.chunk_frames, meta.joiner_dim), "float32"), *_cache_outputs(caches)],
        ),
        "ctc": (
            [x, *caches],
            [TensorSpec("log_probs", (1, meta.chunk_frames, meta.vocab_size), "float32"), *_cache_outputs(caches)],
        ),
        # N is dynamic (-1): beam search runs every hypothesis in one call.
        "decoder": (
            [TensorSpec("y", (-1, meta.context_size), "int64")],
            [TensorSpec("decoder_out", (-1, meta.joiner_dim), "float32")],
        ),
        "joiner": (
            [TensorSpec("encoder_out", (-1, meta.joiner_dim), "float32"),
             TensorSpec("decoder_out", (-1, meta.joiner_dim), "float32")],
            [TensorSpec("logit", (-1, meta.vocab_size), "float32")],
        ),
    }  # fmt: skip
    out = {}
    for name, file in files.items():
        inputs, outputs = specs[name]
        out[name] = GraphSpec(file=file, inputs=tuple(inputs), outputs=tuple(outputs),
                              method=(methods or {}).get(name))  # fmt: skip
    return out
