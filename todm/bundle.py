"""The device bundle: one directory that holds everything a device needs to run a model.

This module is the single definition of the bundle format and of the model metadata
that travels with every artifact (bundle manifest, ONNX metadata, ExecuTorch constant
methods). ``todm.export`` writes bundles, ``todm.runtime`` reads them; both go through
this module. It is torch-free.

Layout::

    bundle/
      manifest.json      # schema, model metadata, graphs, caches, files with sha256
      tokens.txt         # "<token> <id>" per line, the format sherpa-onnx reads
      <model files>      # encoder.onnx, decoder.onnx, ... | model.pte | *.tflite
      sherpa-onnx/, sherpa-onnx-streaming/   # ONNX only: the sets sherpa-onnx loads unchanged

A streaming encoder graph takes one fixed-size chunk of raw fbank frames plus its caches
and returns the encoder frames plus the new caches (see ``ModelMeta`` for the sizes).
Normalization happens inside the encoder graph, so the front end feeds raw fbank.

Graph signatures (tensor names; N is the batch, 1 for streaming):

    encoder:  x [N, chunk_input_frames, num_mel_bins] f32, *caches
              -> encoder_out [N, chunk_frames, joiner_dim] f32, *new_caches
    decoder:  y [N, context_size] i64 -> decoder_out [N, joiner_dim] f32
    joiner:   encoder_out [N, joiner_dim], decoder_out [N, joiner_dim] -> logit [N, vocab_size]
    ctc:      x and caches as the encoder -> log_probs [N, chunk_frames, vocab_size], *new_caches

Cache inputs and outputs are listed in ``manifest.json`` ("caches") in the order the
graph takes them; a runtime starts them at zero and feeds each output back as input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from todm.errors import BundleError

SCHEMA_NAME = "todm.bundle"
SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
TOKENS_NAME = "tokens.txt"

MODEL_TYPES = ("transducer", "ctc")
FORMATS = ("onnx", "executorch", "tflite")


@dataclass(frozen=True)
class FeatureSettings:
    """Kaldi-compatible fbank settings: sherpa-onnx's front-end defaults, on Kaldi's sample scale."""

    sample_rate: int = 16000
    num_mel_bins: int = 80
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    dither: float = 0.0
    preemphasis: float = 0.97
    window: str = "povey"
    remove_dc_offset: bool = True
    low_freq: float = 20.0
    high_freq: float = -400.0
    snip_edges: bool = False
    # Samples are scaled to the int16 range before analysis, as Kaldi does; sherpa-onnx
    # analyses them in [-1, 1], which its exports make up for (todm/export/sherpa_export.py).
    input_scale: float = 32768.0


@dataclass(frozen=True)
class ModelMeta:
    """What a runtime must know about a model; written into every artifact.

    Frame arithmetic: the encoder consumes ``chunk_input_frames`` fbank frames per step
    and advances by ``chunk_shift_frames`` (= chunk_frames * subsampling); the extra
    ``chunk_input_frames - chunk_shift_frames`` frames overlap with the next chunk and
    feed the subsampling convolutions' right context.
    """

    model_type: str
    vocab_size: int
    blank_id: int
    context_size: int
    subsampling: int
    chunk_frames: int
    chunk_input_frames: int
    chunk_shift_frames: int
    left_context_frames: int
    joiner_dim: int
    subnet_id: str
    features: FeatureSettings = field(default_factory=FeatureSettings)

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise BundleError(f"model_type {self.model_type!r} is not one of {MODEL_TYPES}")
        if self.chunk_shift_frames != self.chunk_frames * self.subsampling:
            raise BundleError(
                f"chunk_shift_frames={self.chunk_shift_frames} must equal chunk_frames * "
                f"subsampling = {self.chunk_frames * self.subsampling}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "metadata") -> ModelMeta:
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in d and n != "features"]
        if missing:
            raise BundleError(f"{source}: missing model metadata key(s) {missing}")
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise BundleError(f"{source}: unknown model metadata key(s) {unknown}")
        kwargs = {n: d[n] for n in names if n in d}
        feats = d.get("features", {})
        try:
            kwargs["features"] = FeatureSettings(**feats)
        except TypeError as e:
            raise BundleError(f"{source}: bad 'features': {e}") from None
        return cls(**kwargs)

    def to_flat_strings(self) -> dict[str, str]:
        """Flat string key/values, for ONNX metadata_props and similar stores."""
        out: dict[str, str] = {}
        for k, v in self.to_dict().items():
            if k == "features":
                for fk, fv in v.items():
                    out[f"feature_{fk}"] = str(fv)
            else:
                out[k] = str(v)
        out["todm_schema_version"] = str(SCHEMA_VERSION)
        return out

    @classmethod
    def from_flat_strings(cls, d: dict[str, str], source: str = "metadata") -> ModelMeta:
        ints = {f.name for f in dataclasses.fields(cls) if f.type in ("int", int)}
        flat: dict[str, Any] = {}
        feats: dict[str, Any] = {}
        ftypes = {f.name: f.type for f in dataclasses.fields(FeatureSettings)}
        for k, v in d.items():
            if k == "todm_schema_version":
                continue
            if k.startswith("feature_"):
                name = k[len("feature_") :]
                t = ftypes.get(name)
                if t in ("bool", bool):
                    feats[name] = v == "True"
                elif t in ("int", int):
                    feats[name] = int(v)
                elif t in ("float", float):
                    feats[name] = float(v)
                else:
                    feats[name] = v
            elif k in ints:
                flat[k] = int(v)
            else:
                flat[k] = v
        flat["features"] = feats
        known = {f.name for f in dataclasses.fields(cls)}
        return cls.from_dict({k: v for k, v in flat.items() if k in known}, source)


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output: name, shape (ints; -1 for a dynamic axis), dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: "float32", "int64", ...

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TensorSpec:
        return cls(name=d["name"], shape=tuple(int(s) for s in d["shape"]), dtype=d["dtype"])


@dataclass(frozen=True)
class GraphSpec:
    """Where a graph lives: a file, and for multi-method programs (.pte) a method name."""

    file: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    method: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "method": self.method,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GraphSpec:
        return cls(
            file=d["file"],
            method=d.get("method"),
            inputs=tuple(TensorSpec.from_dict(t) for t in d["inputs"]),
            outputs=tuple(TensorSpec.from_dict(t) for t in d["outputs"]),
        )


@dataclass(frozen=True)
class Bundle:
    """A verified bundle, as loaded from disk."""

    path: Path
    format: str
    precision: str
    meta: ModelMeta
    graphs: dict[str, GraphSpec]
    caches: tuple[TensorSpec, ...]
    tokens: tuple[str, ...]
    manifest: dict[str, Any]

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def subnet_id(self) -> str:
        return self.meta.subnet_id


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary name beside ``path``, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_tokens(path: Path, tokens: list[str] | tuple[str, ...]) -> None:
    """Write ``tokens.txt`` as sherpa-onnx reads it: ``<token> <id>`` per line."""
    for i, t in enumerate(tokens):
        if not t or any(c.isspace() for c in t):
            raise BundleError(f"token {i} ({t!r}) is empty or contains whitespace")
    atomic_write_text(Path(path), "".join(f"{t} {i}\n" for i, t in enumerate(tokens)))


def read_tokens(path: Path) -> tuple[str, ...]:
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"{path}: tokens file is missing")
    tokens: dict[int, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.rsplit(" ", 1)
        if len(parts) != 2 or not parts[1].isdigit():
            raise BundleError(f"{path}:{lineno}: expected '<token> <id>', got {line!r}")
        tokens[int(parts[1])] = parts[0]
    if sorted(tokens) != list(range(len(tokens))):
        raise BundleError(f"{path}: token ids are not 0..{len(tokens) - 1} without gaps")
    return tuple(tokens[i] for i in range(len(tokens)))


def write_manifest(
    bundle_dir: Path,
    *,
    format: str,
    precision: str,
    meta: ModelMeta,
    graphs: dict[str, GraphSpec],
    caches: list[TensorSpec] | tuple[TensorSpec, ...],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Hash every file in ``bundle_dir`` and write ``manifest.json`` atomically.

    ``extra`` holds the free-form records (subnet config, provenance and versions,
    parity report, normalization statistics); it cannot override the schema keys.
    """
    bundle_dir = Path(bundle_dir)
    if format not in FORMATS:
        raise BundleError(f"format {format!r} is not one of {FORMATS}")
    for name, g in graphs.items():
        if not (bundle_dir / g.file).is_file():
            raise BundleError(f"{bundle_dir}: graph {name!r} names {g.file!r}, which is missing")
    if not (bundle_dir / TOKENS_NAME).is_file():
        raise BundleError(f"{bundle_dir}: {TOKENS_NAME} is missing")
    files = {}
    for p in sorted(bundle_dir.rglob("*")):
        if p.is_file() and p.name != MANIFEST_NAME and not p.name.startswith("."):
            rel = p.relative_to(bundle_dir).as_posix()
            files[rel] = {"sha256": sha256_file(p), "bytes": p.stat().st_size}
    manifest: dict[str, Any] = dict(extra or {})
    manifest.update(
        {
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "format": format,
            "precision": precision,
            "model": meta.to_dict(),
            "graphs": {k: g.to_dict() for k, g in graphs.items()},
            "caches": [c.to_dict() for c in caches],
            "files": files,
        }
    )
    atomic_write_text(bundle_dir / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_bundle(bundle_dir: str | os.PathLike[str], verify: bool = True) -> Bundle:
    """Read and verify a bundle; raises ``BundleError`` naming the file and the problem."""
    bundle_dir = Path(bundle_dir)
    mpath = bundle_dir / MANIFEST_NAME
    if not mpath.is_file():
        raise BundleError(f"{mpath}: no bundle manifest here (is {bundle_dir} a todm bundle?)")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleError(f"{mpath}: not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA_NAME:
        raise BundleError(f"{mpath}: 'schema' is not {SCHEMA_NAME!r}")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BundleError(
            f"{mpath}: bundle format version {version!r} is not one this todm reads "
            f"({SCHEMA_VERSION}); re-export the bundle with this todm version"
        )
    for key in ("format", "precision", "model", "graphs", "caches", "files"):
        if key not in manifest:
            raise BundleError(f"{mpath}: missing key {key!r}")
    if verify:
        verify_files(bundle_dir, manifest["files"])
    meta = ModelMeta.from_dict(manifest["model"], source=str(mpath))
    graphs = {k: GraphSpec.from_dict(g) for k, g in manifest["graphs"].items()}
    caches = tuple(TensorSpec.from_dict(c) for c in manifest["caches"])
    tokens = read_tokens(bundle_dir / TOKENS_NAME)
    if len(tokens) != meta.vocab_size:
        raise BundleError(
            f"{bundle_dir / TOKENS_NAME}: {len(tokens)} tokens, but the model's "
            f"vocab_size is {meta.vocab_size}"
        )
    return Bundle(
        path=bundle_dir,
        format=manifest["format"],
        precision=manifest["precision"],
        meta=meta,
        graphs=graphs,
        caches=caches,
        tokens=tokens,
        manifest=manifest,
    )


def verify_files(bundle_dir: Path, files: dict[str, dict[str, Any]]) -> None:
    """Check each listed file's size and sha256; name the first one that differs."""
    if not files:
        raise BundleError(f"{bundle_dir / MANIFEST_NAME}: lists no files")
    for rel, rec in files.items():
        p = bundle_dir / rel
        if not p.is_file():
            raise BundleError(f"{p}: listed in the bundle manifest but missing")
        if p.stat().st_size != rec["bytes"] or sha256_file(p) != rec["sha256"]:
            raise BundleError(
                f"{p}: sha256 does not match the bundle manifest; the file was modified or "
                "corrupted after export. Re-export the bundle or restore the file."
            )
