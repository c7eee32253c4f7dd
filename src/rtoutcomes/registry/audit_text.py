"""The canonical JSON texts of the audit trail's values and rows (``audit.py``), in a module of
their own without the database layer: a forked process that reads part of a registry's files
writes those tables' rows' texts too (``validation.validate_files``), before SQLAlchemy is
loaded there.

Canonical JSON: keys sorted, no spaces, UTF-8 (not ``\\u`` escapes); values typed by column kind:
dates ``"YYYY-MM-DD"``, numbers as floats, integers as integers, yes/no as booleans.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence

from rtoutcomes.registry.spec import TABLE_BY_NAME, ColumnSpec

_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)  # made once: an import encodes two texts a row
encode_basestring = json.encoder.encode_basestring  # the string writer _CANONICAL uses


def canonical_json(value: object) -> str:
    """The one JSON text of ``value`` hashed and stored (sorted keys, no spaces, UTF-8)."""
    return _CANONICAL.encode(value)


def json_string(value: str | None) -> str:
    """A text as canonical JSON writes it (``null`` for ``None``)."""
    return "null" if value is None else encode_basestring(value)


def _value_writer(column: ColumnSpec) -> Callable[[object], str]:
    """The canonical JSON text of ``encode_value(value, column)`` for a non-missing value,
    written directly (``canonical_json(encode_row(...))`` per row costs several times more on
    a whole-registry import); ``tests/registry/test_audit_text.py`` checks it equals that."""
    if column.kind == "date":
        return lambda v: encode_basestring(v.isoformat() if isinstance(v, dt.date) else str(v))
    if column.kind == "number":

        def number(value: object) -> str:
            number = float(value)  # type: ignore[arg-type]
            return float.__repr__(number) if math.isfinite(number) else canonical_json(number)

        return number
    if column.kind == "integer":
        return lambda v: int.__repr__(int(v))  # type: ignore[call-overload]
    if column.kind == "yes/no":
        return lambda v: "true" if v else "false"
    return lambda v: encode_basestring(str(v))


def _column_texts(column: ColumnSpec, values: Sequence[object]) -> list[str]:
    """``_value_writer(column)`` of each value (``null`` for ``None``), a column at a time:
    each distinct value written once (codes, dates and numbers repeat down a column), the
    first of equal values standing for them all. Equal values have one text in every kind but
    numbers, where 0.0 == -0.0: a number column holding a zero is written value by value."""
    write = _value_writer(column)
    distinct = dict.fromkeys(values)
    if column.kind == "number" and 0 in distinct:
        return ["null" if v is None else write(v) for v in values]
    texts = {v: "null" if v is None else write(v) for v in distinct}
    return list(map(texts.__getitem__, values))


def row_texts(table: str, rows: Sequence[Sequence[object]]) -> list[str]:
    """``canonical_json(encode_row(table, row))`` of each row given as a tuple in the table's
    column order (``spec.column_names``), written a column at a time (a whole-registry import
    writes tens of thousands); ``tests/registry/test_audit_text.py`` checks it equals that."""
    if not rows:
        return []
    columns = TABLE_BY_NAME[table].columns
    values = list(zip(*rows, strict=True))
    order = sorted(range(len(columns)), key=lambda i: columns[i].name)
    # the object's text around its values, written once: one formatting per row
    names = (canonical_json(columns[i].name).replace("%", "%%") for i in order)
    template = "{" + ",".join(f"{name}:%s" for name in names) + "}"
    texts = [_column_texts(columns[i], values[i]) for i in order]
    return [template % row for row in zip(*texts, strict=True)]
