"""The file sets sherpa-onnx loads unchanged: offline (``sherpa-onnx/``) and streaming
(``sherpa-onnx-streaming/``), each an encoder, a decoder and a joiner.

Both read sherpa-onnx's own fbank (samples in [-1, 1]) and start hypotheses from its
``[-1, ..., -1, blank]`` context. The streaming encoder speaks the signature of
sherpa-onnx's ``OnlineConformerTransducerModel`` (model_type ``conformer``): per call
``T`` feature frames, ``decode_chunk_len`` apart, two stacked state tensors
``[layers, left_context, N, encoder_dim]`` and ``[layers, cnn_module_kernel - 1, N,
encoder_dim]``, and the count of feature frames processed before the call. Our per-layer
caches (keys and values of the last ``left_context`` frames, each ``[N, H, L, Dh]``, and
the convolution's last ``K - 1`` inputs ``[N, d, K-1]``) are packed into those two:
keys then values along the last axis of the first, the convolution cache in the second,
both zero-padded to ``encoder_dim`` (the widest of them), since sherpa-onnx sizes both
by that one number.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from todm.errors import ConfigError

OFFLINE_DIR = "sherpa-onnx"
STREAMING_DIR = "sherpa-onnx-streaming"


class SherpaFeatures(nn.Module):
    """Turns sherpa-onnx's log-mel frames into the model's, inside the exported encoder.

    sherpa-onnx hands kaldi-native-fbank samples in [-1, 1]. A model trained with
    ``input_scale`` 1.0 (the small-cpu and paper configs) reads exactly that, and the
    offset here is 0. A model trained on Kaldi's int16 scale (``input_scale`` 32768, the
    default for older checkpoints) gets ``2 ln(input_scale)`` added: every step before the
    log is linear in the samples, so that is exact except where a mel energy falls under
    the float epsilon both front ends floor it at. In near-silent and digitally silent
    frames sherpa's bins then read ``ln(eps) + offset`` (4.85) where the model's read down
    to ``ln(eps)`` (-15.9); no mapping recovers what the floor erased
    (``benchmarks/sherpa_onnx_agreement`` measures what it costs).
    """

    def __init__(self, model) -> None:
        super().__init__()
        self.offset = 2.0 * math.log(model.meta.features.input_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.offset


class SherpaEncoderGraph(nn.Module):
    """The offline encoder on sherpa-onnx's fbank: ``x [N, T, 80]``, ``x_lens [N]`` ->
    ``(encoder_out [N, T', J], encoder_out_lens [N])``."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model
        self.features = SherpaFeatures(model)

    def forward(self, x: torch.Tensor, x_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.encode(self.features(x), x_lens)


class SherpaDecoderGraph(nn.Module):
    """The decoder as sherpa-onnx calls it: ``y [N, context_size]`` int64 -> ``[N, J]``.

    sherpa-onnx (like icefall) starts each hypothesis with the context
    ``[-1, ..., -1, blank]``; our models start from all-blank contexts, so ids below 0 are
    read as blank. Without this, ONNX's Gather wraps -1 to the last token's embedding.
    """

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model
        self.blank_id = model.meta.blank_id

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.model.decoder(torch.where(y < 0, torch.full_like(y, self.blank_id), y))


class SherpaStreamingEncoderGraph(nn.Module):
    """One chunk in sherpa-onnx's streaming conformer signature:
    ``x [N, T, 80]``, ``cached_attn [layers, L, N, W]``, ``cached_conv [layers, K-1, N, W]``,
    ``processed_frames [N]`` int64 (feature frames before this chunk) ->
    ``(encoder_out [N, C, J], new_cached_attn, new_cached_conv)``."""

    def __init__(self, model) -> None:
        super().__init__()
        names = [c.name for c in model.cache_specs(1)]
        depth = model.encoder.depth
        expected = [f"cache_{kind}_{i}" for i in range(depth) for kind in ("key", "value", "conv")]
        if names != [*expected, "processed_frames"]:
            raise ConfigError(
                "sherpa-onnx's streaming conformer has state for attention and convolution only; "
                f"this subnet's encoder caches {names[:-1]} (an SSM encoder?) have no place in it"
            )
        shapes = {c.name: c.shape for c in model.cache_specs(1)}
        self.model = model
        self.features = SherpaFeatures(model)
        self.factor = model.meta.subsampling
        self.left = model.meta.left_context_frames
        # per layer: (heads, head dim, model width, conv cache length)
        self.layout = [(shapes[f"cache_key_{i}"][1], shapes[f"cache_key_{i}"][3],
                        shapes[f"cache_conv_{i}"][1], shapes[f"cache_conv_{i}"][2]) for i in range(depth)]  # fmt: skip
        self.kernel_cache = self.layout[0][3]
        self.width = max(max(2 * h * dh, d) for h, dh, d, _ in self.layout)

    def init_states(self, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The zero states sherpa-onnx makes from the encoder's metadata."""
        depth = len(self.layout)
        return (torch.zeros(depth, self.left, batch, self.width),
                torch.zeros(depth, self.kernel_cache, batch, self.width))  # fmt: skip

    def _pad(self, t: torch.Tensor) -> torch.Tensor:
        return F.pad(t, (0, self.width - t.shape[-1]))

    def forward(
        self, x: torch.Tensor, cached_attn: torch.Tensor, cached_conv: torch.Tensor, processed_frames: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        caches: list[torch.Tensor] = []
        for i, (h, dh, d, _) in enumerate(self.layout):
            attn = cached_attn[i]  # [L, N, W]
            for part in range(2):  # keys, then values
                flat = attn[:, :, part * h * dh : (part + 1) * h * dh]
                caches.append(flat.reshape(self.left, -1, h, dh).permute(1, 2, 0, 3))
            caches.append(cached_conv[i][:, :, :d].permute(1, 2, 0))
        seen = torch.clamp(torch.div(processed_frames, self.factor, rounding_mode="floor"), max=self.left)
        out = self.model.encode_chunk(self.features(x), *caches, seen.to(torch.float32))
        new_attn, new_conv = [], []
        for i, (h, dh, _, _) in enumerate(self.layout):
            key, value, conv = out[1 + 3 * i : 4 + 3 * i]
            kv = [t.permute(2, 0, 1, 3).reshape(self.left, -1, h * dh) for t in (key, value)]
            new_attn.append(self._pad(torch.cat(kv, dim=2)))
            new_conv.append(self._pad(conv.permute(2, 0, 1)))
        return out[0], torch.stack(new_attn), torch.stack(new_conv)

    def metadata(self) -> dict[str, str]:
        """What sherpa-onnx reads from the streaming encoder (as strings)."""
        meta = self.model.meta
        return {
            "model_type": "conformer",
            "num_encoder_layers": str(len(self.layout)),
            "T": str(meta.chunk_input_frames),
            "decode_chunk_len": str(meta.chunk_shift_frames),
            "pad_length": str(meta.chunk_input_frames - meta.chunk_shift_frames),
            "left_context": str(self.left),
            "encoder_dim": str(self.width),
            "cnn_module_kernel": str(self.kernel_cache + 1),
        }


def export_sherpa(model, out_dir: Path, flat: dict[str, str], precision: str) -> None:
    """Write ``sherpa-onnx/`` (offline) and, where the encoder has a layout for it,
    ``sherpa-onnx-streaming/`` under ``out_dir``; ``flat`` is the model's metadata as strings."""
    from todm.export.onnx_export import add_metadata, export_graph, quantize_int8
    from todm.supernet.static import example_inputs

    export = export_graph

    decoder = SherpaDecoderGraph(model).eval()
    joiner = model.joiner.eval()

    def heads(out: Path) -> None:
        export(decoder, example_inputs(model, "decoder"), out / "decoder.onnx", ["y"], ["decoder_out"],
               {"y": {0: "N"}, "decoder_out": {0: "N"}})  # fmt: skip
        export(joiner, example_inputs(model, "joiner"), out / "joiner.onnx", ["encoder_out", "decoder_out"], ["logit"],
               {"encoder_out": {0: "N"}, "decoder_out": {0: "N"}, "logit": {0: "N"}})  # fmt: skip

    def finish(out: Path, meta: dict[str, str], encoder_meta: dict[str, str]) -> None:
        # sherpa-onnx reads vocab_size and context_size from the decoder; the rest documents.
        for name in ("encoder", "decoder", "joiner"):
            add_metadata(out / f"{name}.onnx", {**meta, **(encoder_meta if name == "encoder" else {})})
            if precision == "int8":
                quantize_int8(out / f"{name}.onnx")

    out = out_dir / OFFLINE_DIR
    out.mkdir(parents=True, exist_ok=True)
    export(SherpaEncoderGraph(model).eval(), example_inputs(model, "offline_encoder"), out / "encoder.onnx",
           ["x", "x_lens"], ["encoder_out", "encoder_out_lens"],
           {"x": {0: "N", 1: "T"}, "x_lens": {0: "N"}, "encoder_out": {0: "N", 1: "T_out"},
            "encoder_out_lens": {0: "N"}})  # fmt: skip
    heads(out)
    finish(out, {**flat, "model_type": "todm-conformer-transducer", "model_author": "todm",
                 "comment": "non-streaming export for sherpa-onnx OfflineRecognizer.from_transducer"}, {})  # fmt: skip

    try:
        streaming = SherpaStreamingEncoderGraph(model).eval()
    except ConfigError:
        return  # an SSM encoder: the offline set only (the bundle's own streaming graphs serve it)
    out = out_dir / STREAMING_DIR
    out.mkdir(parents=True, exist_ok=True)
    t = model.meta.chunk_input_frames
    x = torch.zeros(1, t, model.meta.features.num_mel_bins)
    attn, conv = streaming.init_states(1)
    export(streaming, (x, attn, conv, torch.zeros(1, dtype=torch.long)), out / "encoder.onnx",
           ["x", "cached_attn", "cached_conv", "processed_frames"], ["encoder_out", "new_cached_attn", "new_cached_conv"],
           {"x": {0: "N"}, "cached_attn": {2: "N"}, "cached_conv": {2: "N"}, "processed_frames": {0: "N"},
            "encoder_out": {0: "N"}, "new_cached_attn": {2: "N"}, "new_cached_conv": {2: "N"}})  # fmt: skip
    heads(out)
    finish(out, {**flat, "model_author": "todm",
                 "comment": "streaming export for sherpa-onnx OnlineRecognizer.from_transducer"},
           streaming.metadata())  # fmt: skip
