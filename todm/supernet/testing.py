"""A tiny trained supernet for tests and demos (really trained, on real synthetic speech)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from todm.supernet.train import train
from todm.supernet.train_config import TrainConfig

TINY_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "tiny-digits.yaml"


def tiny_train_config(corpus_dir: Path, out_dir: Path, max_steps: int = 400) -> TrainConfig:
    """``configs/tiny-digits.yaml`` pointed at ``corpus_dir``, writing to ``out_dir``."""
    import yaml

    from todm.errors import ConfigError

    if not TINY_CONFIG.is_file():
        raise ConfigError(f"{TINY_CONFIG}: the tiny recipe ships with the repository's configs/")
    d = yaml.safe_load(TINY_CONFIG.read_text())
    d["data"]["train_manifest"] = str(Path(corpus_dir) / "train.jsonl")
    d["exp_dir"] = str(out_dir)
    d["max_steps"] = max_steps
    return TrainConfig.from_dict(d, source=str(TINY_CONFIG))


def train_tiny_supernet(corpus_dir: Path, out_dir: Path, max_steps: int = 400) -> Path:
    """Train (or reuse) a tiny supernet on a tiny corpus; returns the experiment dir.

    The run is cached: a second call with the same corpus and settings returns at once.
    """
    cfg = tiny_train_config(corpus_dir, out_dir, max_steps)
    key = hashlib.sha256(
        (cfg.to_yaml() + (Path(corpus_dir) / "corpus.json").read_text()).encode()
    ).hexdigest()[:16]
    stamp = Path(out_dir) / "trained.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("key") == key:
        return Path(out_dir)
    exp = train(cfg, resume=True, quiet=True)
    stamp.write_text(json.dumps({"key": key}) + "\n")
    return exp
