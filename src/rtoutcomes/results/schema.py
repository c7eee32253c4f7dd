"""The JSON Schema of results.json, generated from the TypedDicts of ``rtoutcomes.results.model``.

``python -m rtoutcomes.results.schema`` prints it; docs/results.schema.json is that output, and
tests/test_results_schema.py fails when the two differ. Each TypedDict becomes a ``$defs`` entry
(``additionalProperties: false``, its required keys listed), its docstring the description, and a
string just below a key (an attribute docstring) that key's description.
"""

from __future__ import annotations

import ast
import inspect
import json
import types
import typing
from typing import Any

from rtoutcomes.results import model

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
}


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def _key_docs() -> dict[str, dict[str, str]]:
    """Attribute docstrings of the model's classes: {class: {key: text}}."""
    tree = ast.parse(inspect.getsource(model))
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        docs = found.setdefault(node.name, {})
        for prev, item in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(prev, ast.AnnAssign)
                and isinstance(prev.target, ast.Name)
                and isinstance(item, ast.Expr)
                and isinstance(item.value, ast.Constant)
                and isinstance(item.value.value, str)
            ):
                docs[prev.target.id] = inspect.cleandoc(item.value.value)
    return found


class _Builder:
    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.key_docs = _key_docs()

    def type_schema(self, tp: Any) -> dict[str, Any]:
        origin = typing.get_origin(tp)
        if origin in (typing.NotRequired, typing.Required):
            return self.type_schema(typing.get_args(tp)[0])
        if tp in _SCALARS:
            return dict(_SCALARS[tp])
        if _is_typeddict(tp):
            self.define(tp)
            return {"$ref": f"#/$defs/{tp.__name__}"}
        if origin in (types.UnionType, typing.Union):
            options = [self.type_schema(a) for a in typing.get_args(tp)]
            if all(set(o) == {"type"} for o in options):
                return {"type": [o["type"] for o in options]}
            return {"anyOf": options}
        if origin is list:
            return {"type": "array", "items": self.type_schema(typing.get_args(tp)[0])}
        if origin is dict:
            key, value = typing.get_args(tp)
            if key is not str:
                raise TypeError(f"results.json keys are text, not {key}")
            return {"type": "object", "additionalProperties": self.type_schema(value)}
        raise TypeError(f"no JSON Schema for {tp!r}")

    def define(self, cls: type) -> None:
        name = cls.__name__
        if name in self.defs:
            return
        self.defs[name] = {}  # placeholder: a class may refer to itself
        hints = typing.get_type_hints(cls, include_extras=True)
        docs: dict[str, str] = {}
        for base in reversed(cls.__mro__):  # inherited keys keep their base class's docs
            docs.update(self.key_docs.get(base.__name__, {}))
        properties = {}
        for key in sorted(hints):
            prop = self.type_schema(hints[key])
            if key in docs:
                prop = {"description": docs[key], **prop}
            properties[key] = prop
        entry: dict[str, Any] = {"type": "object"}
        if cls.__doc__:
            entry["description"] = inspect.cleandoc(cls.__doc__)
        entry["properties"] = properties
        entry["required"] = sorted(cls.__required_keys__)  # type: ignore[attr-defined]
        entry["additionalProperties"] = False
        self.defs[name] = entry


def results_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of results.json at ``model.SCHEMA_VERSION``."""
    builder = _Builder()
    root = builder.type_schema(model.ResultsFile)
    top = builder.defs.pop("ResultsFile")
    del root
    top["properties"]["schema_version"] = {
        "description": "The version of this schema the file follows.",
        "const": model.SCHEMA_VERSION,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://rtoutcomes.org/schema/results.schema.json",
        "title": f"rtoutcomes results.json, schema version {model.SCHEMA_VERSION}",
        **top,
        "$defs": dict(sorted(builder.defs.items())),
    }


def schema_text() -> str:
    """The schema as docs/results.schema.json holds it (sorted keys, one trailing newline)."""
    return json.dumps(results_schema(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - the command writes what the test compares
    print(schema_text(), end="")
