"""results.json: sorted keys, floats at 12 significant digits, so the bytes are stable."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def stable(value: Any) -> Any:
    """``value`` with floats rounded to 12 significant digits and NaN/inf as ``None``."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return float(f"{value:.12g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): stable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return stable(value.item())
    raise TypeError(f"cannot write {type(value).__name__} to results.json")


def dumps(value: Any) -> str:
    return (
        json.dumps(stable(value), sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)
        + "\n"
    )


def write_json(value: Any, path: Path) -> None:
    path.write_text(dumps(value), encoding="utf-8", newline="\n")
