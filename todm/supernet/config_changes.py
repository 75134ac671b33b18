"""What changed between a config a checkpoint recorded and another one.

Checkpoints record their configs as plain dicts. A todm version newer than the run that
wrote them may have added settings since; every new setting defaults to the behaviour
before it existed, so a key a record lacks reads as its default, not as a change.
"""

from __future__ import annotations

from typing import Any

from todm.supernet.model_config import ModelConfig


def with_defaults(saved: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``saved`` with every key it lacks taken from ``defaults``, at any depth."""
    out = dict(saved)
    for key, value in defaults.items():
        if key not in out:
            out[key] = value
        elif isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = with_defaults(out[key], value)
    return out


def changed_settings(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """``key: old -> new`` for every leaf that differs between two nested configs."""
    out = []
    for key in [*before, *(k for k in after if k not in before)]:
        a, b = before.get(key), after.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += changed_settings(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return out


def model_changes(saved: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """What differs between a checkpoint's recorded model config and ``current``, a setting
    the record lacks read as its default."""
    return changed_settings(with_defaults(saved or {}, ModelConfig().to_dict()), current)
