"""``export_bundle``: one self-describing directory per target, written atomically."""

from __future__ import annotations

import contextlib
import json
import platform
import shutil
import sys
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from todm import __version__
from todm.bundle import FORMATS, sha256_file, write_manifest, write_tokens
from todm.errors import ConfigError

PRECISIONS = ("fp32", "int8")
_VERSIONED = ("torch", "onnx", "onnxruntime", "executorch", "litert-torch", "ai-edge-litert", "numpy")


def _versions() -> dict[str, str]:
    out = {"todm": __version__, "python": platform.python_version()}
    for pkg in _VERSIONED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def export_bundle(
    model,
    target: str,
    out_dir: Path,
    tokens: Sequence[str],
    precision: str = "fp32",
    parity_audio: list[tuple[str, np.ndarray]] | None = None,
    parity_manifest: Path | None = None,
    parity_utterances: int = 8,
    allow_parity_failure: bool = False,
    source: Path | None = None,
    feature_stats: dict[str, Any] | None = None,
    delegate: bool = True,
) -> Path:
    """Export a ``StaticModel`` for ``target`` (onnx | executorch | tflite) into ``out_dir``.

    Args:
        tokens: the token strings (``tokens.txt``), id order.
        parity_audio: [(reference text, samples)] checked against eager PyTorch; a failed
            check raises BundleError unless ``allow_parity_failure`` (then it is recorded).
        parity_manifest: a JSONL manifest whose first ``parity_utterances`` utterances
            are read (``todm.data.audio.load_audio``) and added to ``parity_audio``.
        source: the checkpoint or sliced model the export came from (its sha256 is kept).
        delegate: ExecuTorch only: lower to XNNPACK (else portable kernels).

    Returns:
        ``out_dir``. Nothing is left half-written: the bundle is built in a temporary
        directory and moved into place at the end.
    """
    if target not in FORMATS:
        raise ConfigError(f"target {target!r} is not one of {FORMATS}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision {precision!r} is not one of {PRECISIONS}")
    predictor = getattr(getattr(model, "config", None), "predictor", "stateless")
    if predictor != "stateless":
        what = f"{source} ({model.meta.subnet_id})" if source else model.meta.subnet_id
        raise ConfigError(
            f"{what} has an {predictor!r} predictor; exports carry the stateless predictor only "
            "(the form sherpa-onnx and todm's runtime run): train with model.predictor=stateless to deploy"
        )
    if len(tokens) != model.meta.vocab_size:
        raise ConfigError(f"{len(tokens)} tokens given, the model has vocab_size {model.meta.vocab_size}")
    if parity_manifest is not None:
        from todm.export.parity import read_parity_audio

        parity_audio = list(parity_audio or []) + read_parity_audio(Path(parity_manifest), parity_utterances)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model = model.eval()
        if target == "onnx":
            from todm.export.onnx_export import export_onnx

            graphs = export_onnx(model, tmp, precision)
        elif target == "executorch":
            from todm.export.executorch_export import export_executorch

            graphs = export_executorch(model, tmp, precision, delegate)
        else:
            from todm.export.tflite_export import export_tflite

            graphs = export_tflite(model, tmp, precision)
        write_tokens(tmp / "tokens.txt", list(tokens))
        extra: dict[str, Any] = {
            "subnet": {"id": model.spec.id, **model.spec.to_dict()},
            "model_config": model.config.to_dict(),
            "normalization": {"in_graph": True, **(feature_stats or {})},
            "provenance": {
                "versions": _versions(),
                "command": " ".join(sys.argv),
                "source": str(source) if source else None,
                "source_sha256": sha256_file(Path(source)) if source and Path(source).is_file() else None,
            },
            "parity": None,
        }
        write_manifest(tmp, format=target, precision=precision, meta=model.meta, graphs=graphs,
                       caches=model.cache_specs(1), extra=extra)  # fmt: skip
        if parity_audio:
            from todm.export.parity import check_parity, raise_if_failed

            report = check_parity(model, tmp, parity_audio, precision)
            extra["parity"] = report.to_dict()
            write_manifest(tmp, format=target, precision=precision, meta=model.meta, graphs=graphs,
                           caches=model.cache_specs(1), extra=extra)  # fmt: skip
            if not allow_parity_failure:
                raise_if_failed(report, out_dir)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def summary(bundle_dir: Path) -> dict[str, Any]:
    m = json.loads((Path(bundle_dir) / "manifest.json").read_text())
    size = sum(f["bytes"] for f in m["files"].values())
    return {"format": m["format"], "precision": m["precision"], "subnet": m["model"]["subnet_id"],
            "bytes": size, "parity": m.get("parity")}  # fmt: skip
