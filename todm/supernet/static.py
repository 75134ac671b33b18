"""``StaticModel``: one subnet with physically sliced weights, what export consumes.

Plain ``nn.Linear``/``nn.Conv*``/``nn.LayerNorm`` modules at the subnet's sizes; no
elastic code paths. Saved as ``{"format", "version", "config", "subnet", "state_dict"}``,
loadable with ``torch.load(weights_only=True)``.

Streaming protocol (the runtime must do exactly this to reproduce ``encode``):

* Features are raw 80-dim fbank; normalization is inside the graph.
* Chunk ``k`` is fbank frames ``[k*S*C, k*S*C + chunk_input_frames)`` with S the
  subsampling factor and C ``chunk_frames`` (``meta.chunk_shift_frames = S*C`` apart,
  overlapping by ``chunk_input_frames - S*C``).
* The caches start as ``init_caches()`` (zeros) and each call's new caches are fed to
  the next call, in ``cache_specs()`` order.
* Last chunk: frames past the end of the utterance are filled with **0.0** (raw fbank,
  before normalization) up to ``chunk_input_frames``. Run chunks until
  ``T' = subsampled_length(T)`` encoder frames are out and keep the first ``T'``; the
  whole-utterance ``encode`` pads the same way, so the frames match.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from todm.bundle import ModelMeta, TensorSpec
from todm.errors import ConfigError
from todm.supernet.checkpoint import load_weights_only
from todm.supernet.encoder import Encoder
from todm.supernet.heads import CTCHead, Joiner, LSTMPredictor, StatelessPredictor
from todm.supernet.model import build_predictor
from todm.supernet.model_config import ModelConfig
from todm.supernet.space import SubnetSpec

FORMAT = "todm.static"
VERSION = 1
_DTYPES = {torch.float32: "float32", torch.int64: "int64"}


class StaticModel(nn.Module):
    """A standalone subnet.

    Shapes: N batch, T fbank frames, T' encoder frames, C chunk frames, d width,
    J joiner width, V vocabulary.
    """

    def __init__(self, cfg: ModelConfig, spec: SubnetSpec) -> None:
        super().__init__()
        self.config = cfg
        self.spec = spec
        self.encoder = Encoder(
            cfg, spec.d_model, spec.ffn_dims, spec.heads, elastic=False, state=spec.state
        )
        self.ctc_head = CTCHead(spec.d_model, cfg.vocab_size, elastic=False)
        self.predictor = build_predictor(cfg)
        self.joiner = Joiner(spec.d_model, cfg.joiner_dim, cfg.vocab_size, elastic=False)

    @property
    def meta(self) -> ModelMeta:
        cfg, enc = self.config, self.encoder
        return ModelMeta(
            model_type="transducer",
            vocab_size=cfg.vocab_size,
            blank_id=cfg.blank_id,
            context_size=cfg.context_size if cfg.predictor == "stateless" else 1,
            subsampling=cfg.subsampling,
            chunk_frames=cfg.chunk_frames,
            chunk_input_frames=enc.chunk_input_frames,
            chunk_shift_frames=cfg.chunk_frames * cfg.subsampling,
            left_context_frames=cfg.left_context_frames,
            joiner_dim=cfg.joiner_dim,
            subnet_id=self.spec.id,
            features=cfg.feature_settings(),
        )

    # Whole utterances -----------------------------------------------------------------
    def encode(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``feats [N, T, 80]`` raw fbank, ``feat_lens [N]`` -> ``([N, T', J], lens [N])``.

        ``T' >= max(lens)``; frames at or past ``lens`` are padding.
        """
        enc, lens = self.encoder(feats, feat_lens)
        return self.joiner.enc_proj(enc), lens

    def forward(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same as :meth:`encode` (for tools that call the module itself)."""
        return self.encode(feats, feat_lens)

    def ctc(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``feats [N, T, 80]`` -> ``(log_probs [N, T', V], lens [N])``."""
        enc, lens = self.encoder(feats, feat_lens)
        return self.ctc_head(enc), lens

    # Streaming --------------------------------------------------------------------------
    def cache_specs(self, batch: int = 1) -> list[TensorSpec]:
        """The caches ``encode_chunk`` takes and returns, in order."""
        return [TensorSpec(n, tuple(s), _DTYPES[dt]) for n, s, dt in self.encoder.cache_shapes(batch)]

    def init_caches(self, batch: int = 1) -> list[torch.Tensor]:
        return self.encoder.init_caches(batch)

    def encode_chunk(self, x: torch.Tensor, *caches: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``x [N, chunk_input_frames, 80]``, caches -> ``(encoder_out [N, C, J], *new_caches)``."""
        enc, new = self.encoder.forward_chunk(x, list(caches))
        return (self.joiner.enc_proj(enc), *new)

    def ctc_chunk(self, x: torch.Tensor, *caches: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``x [N, chunk_input_frames, 80]``, caches -> ``(log_probs [N, C, V], *new_caches)``."""
        enc, new = self.encoder.forward_chunk(x, list(caches))
        return (self.ctc_head(enc), *new)

    # Predictor and joiner ---------------------------------------------------------------
    def decoder(self, y: torch.Tensor) -> torch.Tensor:
        """Stateless predictor: ``y [N, context_size]`` int64 -> ``[N, J]``."""
        if not isinstance(self.predictor, StatelessPredictor):
            raise ConfigError("decoder(y) needs predictor='stateless'; use decoder_step(token, h, c)")
        return self.predictor.step(y)

    def decoder_step(
        self, token: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """LSTM predictor: ``token [N, 1]``, ``h, c [layers, N, H]`` -> ``([N, J], h', c')``."""
        if not isinstance(self.predictor, LSTMPredictor):
            raise ConfigError("decoder_step needs predictor='lstm'; use decoder(y)")
        return self.predictor.step(token, h, c)

    # joiner(enc [N, J], dec [N, J]) -> [N, V] is the ``joiner`` submodule itself.

    # Files ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically (temp file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT,
            "version": VERSION,
            "config": self.config.to_dict(),
            "subnet": self.spec.to_dict(),
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()},
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            torch.save(payload, tmp)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StaticModel:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such static model file")
        payload: Any = load_weights_only(path, "static model")
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ConfigError(f"{path}: not a todm static model (format is not {FORMAT!r})")
        if payload.get("version") != VERSION:
            raise ConfigError(f"{path}: static model version {payload.get('version')!r}, expected {VERSION}")
        cfg = ModelConfig.from_dict(payload["config"], source=f"{path}: config")
        spec = SubnetSpec.from_dict(payload["subnet"])
        model = cls(cfg, spec)
        try:
            model.load_state_dict(payload["state_dict"])
        except RuntimeError as e:
            raise ConfigError(f"{path}: weights do not match its config ({e})") from None
        return model.eval()


class EncoderChunkGraph(nn.Module):
    """``encode_chunk`` as a module's ``forward``, for exporters."""

    def __init__(self, model: StaticModel, ctc: bool = False) -> None:
        super().__init__()
        self.model = model
        self.ctc = ctc

    def forward(self, x: torch.Tensor, *caches: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.model.ctc_chunk(x, *caches) if self.ctc else self.model.encode_chunk(x, *caches)


class OfflineEncoderGraph(nn.Module):
    """``encode(x [N, T, 80], x_lens [N]) -> (encoder_out [N, T', J], encoder_out_lens [N])``,
    the form sherpa-onnx's offline transducer runs; exports with a dynamic ``T``
    (``torch.export``; ONNX: either exporter for conformer, ``dynamo=True`` for ssm, whose
    whole-sequence convolution kernel is as long as the input)."""

    def __init__(self, model: StaticModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, x_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.encode(x, x_lens)


class DecoderGraph(nn.Module):
    """``decoder(y [N, ctx]) -> [N, J]`` as a module."""

    def __init__(self, model: StaticModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.model.decoder(y)


def example_inputs(model: StaticModel, graph: str, batch: int = 1) -> tuple[torch.Tensor, ...]:
    """Example inputs of ``graph`` (a ``graph_modules`` name) for tracing."""
    cfg = model.config
    if graph == "offline_encoder":
        t = 4 * model.encoder.chunk_input_frames
        return (torch.zeros(batch, t, cfg.num_mel_bins), torch.full((batch,), t, dtype=torch.long))
    if graph in ("encoder", "ctc"):
        x = torch.zeros(batch, model.encoder.chunk_input_frames, cfg.num_mel_bins)
        return (x, *model.init_caches(batch))
    if graph == "decoder":
        return (torch.full((batch, cfg.context_size), cfg.blank_id, dtype=torch.long),)
    if graph == "joiner":
        return (torch.zeros(batch, cfg.joiner_dim), torch.zeros(batch, cfg.joiner_dim))
    raise ValueError(
        f"unknown graph {graph!r}; expected encoder, ctc, offline_encoder, decoder or joiner"
    )


def graph_modules(model: StaticModel) -> dict[str, nn.Module]:
    """The exportable graphs of a stateless-predictor model, as modules, by name.

    "encoder" and "ctc" are streaming (one chunk + caches); "offline_encoder" takes
    whole utterances and exports with a dynamic time axis.
    """
    graphs: dict[str, nn.Module] = {
        "encoder": EncoderChunkGraph(model),
        "ctc": EncoderChunkGraph(model, ctc=True),
        "offline_encoder": OfflineEncoderGraph(model),
        "decoder": DecoderGraph(model),
        "joiner": model.joiner,
    }
    return {name: g.eval() for name, g in graphs.items()}


__all__ = ["StaticModel", "CTCHead", "example_inputs", "graph_modules"]
