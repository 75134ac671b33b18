"""Whether a value read from YAML (or ``--set``) fits a dataclass field's annotation.

Config readers share this so that a wrong type is reported as such, naming the field,
instead of surfacing later as a comparison error or, worse, as a truthy string
(``--set recipe.random_per_width=maybe``). Annotations are the strings that
``from __future__ import annotations`` leaves; forms not handled here pass unchecked.
"""

from __future__ import annotations

from typing import Any

_SCALARS: dict[str, Any] = {"float": (int, float), "int": int, "bool": bool, "str": str}


def type_mismatch(annotation: str, value: Any) -> bool:
    """True when ``value`` cannot be the value of a field annotated ``annotation``."""
    t = annotation.strip()
    if t.endswith("| None"):
        if value is None:
            return False
        t = t[: -len("| None")].strip()
    if t.startswith("list[") and t.endswith("]"):
        return not isinstance(value, list) or any(type_mismatch(t[5:-1], v) for v in value)
    want = _SCALARS.get(t)
    if want is None:
        return False
    # YAML's true/false are ints to isinstance; a bool is never a number here
    return not isinstance(value, want) or (t != "bool" and isinstance(value, bool))
