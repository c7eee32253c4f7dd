"""results.json: sorted keys, floats at 12 significant digits, so the bytes are stable.

``dumps`` gives the bytes of ``json.dumps(stable(value), sort_keys=True, indent=1,
ensure_ascii=False)`` in one pass: with an indent the json module encodes in pure Python, one
call per value, and results.json holds every Kaplan-Meier step (a million-row table: tens of
thousands of floats per curve). Lists of plain floats or plain integers, the bulk, are joined
in one go (tests/test_jsonio.py compares both on random trees and the stored outputs).
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring
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


def _float(value: float) -> str:
    """A float as ``json.dumps(stable(value))`` writes it."""
    return repr(float(f"{value:.12g}")) if math.isfinite(value) else "null"


def _encode(value: Any, out: list[str], newline: str) -> None:
    """Append the JSON text of ``stable(value)``; ``newline`` is a line break and the
    indentation of ``value``'s own line (one space per level, as ``indent=1``)."""
    kind = type(value)
    if kind is float:
        out.append(_float(value))
    elif kind is str:
        out.append(encode_basestring(value))
    elif value is None or isinstance(value, bool):
        out.append("null" if value is None else "true" if value else "false")
    elif isinstance(value, str):  # a subclass, as the json module writes it
        out.append(encode_basestring(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, dict):
        _encode_dict(value, out, newline)
    elif isinstance(value, list | tuple):
        _encode_list(value, out, newline)
    elif hasattr(value, "item"):  # numpy scalar
        _encode(value.item(), out, newline)
    else:
        raise TypeError(f"cannot write {type(value).__name__} to results.json")


def _encode_dict(value: dict[Any, Any], out: list[str], newline: str) -> None:
    items = {str(k): v for k, v in value.items()}
    if not items:
        out.append("{}")
        return
    inner = newline + " "
    out.append("{")
    separator = inner
    for key in sorted(items):
        out.append(separator)
        out.append(encode_basestring(key))
        out.append(": ")
        _encode(items[key], out, inner)
        separator = "," + inner
    out.append(newline + "}")


def _encode_list(value: list[Any] | tuple[Any, ...], out: list[str], newline: str) -> None:
    if not value:
        out.append("[]")
        return
    inner = newline + " "
    out.append("[" + inner)
    if all(type(v) is float for v in value):  # a curve: the bulk of results.json
        out.append(("," + inner).join(map(_float, value)))
    elif all(type(v) is int for v in value):  # a curve's counts (no bool: not ``int``)
        out.append(("," + inner).join(map(int.__repr__, value)))
    else:
        for index, item in enumerate(value):
            if index:
                out.append("," + inner)
            _encode(item, out, inner)
    out.append(newline + "]")


def dumps(value: Any) -> str:
    """The results.json text of ``value`` (see the module docstring)."""
    out: list[str] = []
    _encode(value, out, "\n")
    return "".join(out) + "\n"


def write_json(value: Any, path: Path) -> None:
    path.write_text(dumps(value), encoding="utf-8", newline="\n")
