"""``slice_subnet``: copy one subnet out of a supernet into a ``StaticModel``.

Every elastic weight's active part is its leading slice in every dimension (see
``elastic.py``), and the static model mirrors the supernet's module names, so slicing is:
for each static tensor, take the same-named supernet tensor's leading block, the static
model's encoder layer ``j`` coming from the subnet's ``j``-th active layer. With
``private_norms`` a norm's source is the pair of that layer's variant in the subnet.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from todm.errors import ConfigError
from todm.supernet.elastic import PrivateLayerNorm
from todm.supernet.model import Supernet
from todm.supernet.space import SubnetSpec, active_layers
from todm.supernet.static import StaticModel

_LAYER = re.compile(r"^(encoder\.layers\.)(\d+)(\..*)$")


def load_supernet(path: str | os.PathLike[str]) -> Supernet:
    """Load a training checkpoint through ``todm.supernet.checkpoint.load_checkpoint``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: checkpoint file not found")
    try:
        from todm.supernet.checkpoint import load_checkpoint
    except ImportError as e:
        raise ConfigError(f"{path}: cannot load checkpoints ({e})") from None
    loaded: Any = load_checkpoint(path)
    model = loaded if isinstance(loaded, Supernet) else getattr(loaded, "model", None)
    if not isinstance(model, Supernet):
        raise ConfigError(f"{path}: load_checkpoint did not give a Supernet")
    return model


def _source_name(static_name: str, layer_ids: tuple[int, ...]) -> str:
    m = _LAYER.match(static_name)
    if m is None:
        return static_name
    return f"{m.group(1)}{layer_ids[int(m.group(2))]}{m.group(3)}"


def _private_norm_tensors(supernet: Supernet, spec: SubnetSpec, ids: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """``private_norms``: each norm of a layer the subnet runs, under the plain name
    (``...norm.weight``), as the pair of that layer's variant in ``spec``."""
    out: dict[str, torch.Tensor] = {}
    for j, i in enumerate(ids):
        variant = supernet.space.layer_variant(spec, j)
        for name, module in supernet.encoder.layers[i].named_modules():
            if isinstance(module, PrivateLayerNorm):
                prefix = f"encoder.layers.{i}.{name}"
                out[f"{prefix}.weight"] = module.weights[variant]
                out[f"{prefix}.bias"] = module.biases[variant]
    return out


def slice_subnet(
    model_or_checkpoint: Supernet | str | os.PathLike[str],
    spec: SubnetSpec | str | dict[str, Any],
) -> StaticModel:
    """Cut ``spec`` out of a supernet.

    Args:
        model_or_checkpoint: a Supernet (left unchanged) or a checkpoint path.
        spec: a SubnetSpec, its id, "largest"/"smallest", or its dict form; validated
            against the supernet's search space.

    Returns:
        A StaticModel in eval mode whose outputs equal the supernet's for ``spec``.
    """
    supernet = (
        model_or_checkpoint if isinstance(model_or_checkpoint, Supernet)
        else load_supernet(model_or_checkpoint)
    )
    spec = supernet.space.resolve(spec)
    static = StaticModel(supernet.config, spec)
    source = supernet.state_dict()
    ids = active_layers(spec.depth, supernet.config.max_depth, supernet.config.elastic_depth)
    source.update(_private_norm_tensors(supernet, spec, ids))
    sliced = {}
    for name, target in static.state_dict().items():
        name_in_source = _source_name(name, ids)
        if name_in_source not in source:
            raise RuntimeError(f"static tensor {name!r} has no supernet counterpart")
        full = source[name_in_source]
        if full.dim() != target.dim() or any(t > f for t, f in zip(target.shape, full.shape)):
            raise RuntimeError(
                f"{name}: static shape {tuple(target.shape)} is not a leading block of "
                f"{tuple(full.shape)}"
            )
        sliced[name] = full[tuple(slice(0, n) for n in target.shape)].detach().clone()
    static.load_state_dict(sliced)
    return static.eval()


def slice_to_file(
    checkpoint: str | os.PathLike[str], spec: SubnetSpec | str, out: str | os.PathLike[str]
) -> StaticModel:
    """Slice and save (what ``todm slice`` runs)."""
    with torch.no_grad():
        static = slice_subnet(checkpoint, spec)
    static.save(out)
    return static
