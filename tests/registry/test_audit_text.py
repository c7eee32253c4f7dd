"""The audit trail's texts written field by field (a whole-registry import writes and hashes
tens of thousands of entries) are exactly the canonical JSON encoder's: each inserted row's
text equals ``canonical_json(encode_row(...))`` and each entry's hashed text equals
``canonical_json(entry.content())``, for any value a registry cell can hold; and every entry
of an import hashes as the encoder's text does."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from mini_registry import mini_registry, write_csv_folder

from rtoutcomes.registry.audit import (
    AuditEntry,
    canonical_json,
    encode_row,
    row_changes,
)
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.spec import TABLES, ColumnSpec

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ['"', "\\", "\u2028", "\x00\x1f", "é", "\U0001f600", "'=1+2", ""]
)
NUMBER = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6)


def cell(column: ColumnSpec) -> st.SearchStrategy[object]:
    kinds: dict[str, st.SearchStrategy[object]] = {
        "date": st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
        "number": NUMBER,
        "integer": st.integers(-(10**9), 10**9),
        "yes/no": st.booleans(),
    }
    return st.none() | kinds.get(column.kind, TEXT)


@st.composite
def table_rows(draw: st.DrawFn) -> tuple[str, tuple[object, ...]]:
    spec = draw(st.sampled_from(TABLES))
    row = [draw(cell(c)) for c in spec.columns]
    key = spec.column_names.index(spec.primary_key)
    row[key] = draw(TEXT.filter(bool))
    return spec.name, tuple(row)


@settings(max_examples=300, deadline=None)
@given(table_rows())
def test_inserted_row_text_is_the_encoders(case: tuple[str, tuple[object, ...]]) -> None:
    table, row = case
    (change,) = row_changes(table, [row])
    names = next(s for s in TABLES if s.name == table).column_names
    assert change.new == canonical_json(encode_row(table, dict(zip(names, row, strict=True))))


def test_inserted_row_text_refuses_what_the_encoder_refuses() -> None:
    spec = next(s for s in TABLES if any(c.kind == "number" for c in s.columns))
    names = spec.column_names
    for bad in (math.inf, math.nan):
        row = tuple(
            "K" if n == spec.primary_key else bad if c.kind == "number" else None
            for n, c in zip(names, spec.columns, strict=True)
        )
        try:
            row_changes(spec.name, [row])
        except ValueError:
            continue
        raise AssertionError(f"{bad} written to the audit trail")


OPTIONAL_TEXT = st.none() | TEXT


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 10**12),
    st.integers(1, 10**6),
    TEXT,
    OPTIONAL_TEXT,
    st.sampled_from(["insert", "update", "delete", "freeze"]),
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
    OPTIONAL_TEXT,
)
def test_entry_text_is_the_encoders(
    seq: int,
    batch: int,
    user: str,
    reason: str | None,
    action: str,
    table: str | None,
    key: str | None,
    column: str | None,
    old: str | None,
    new: str | None,
    label: str | None,
) -> None:
    entry = AuditEntry(
        seq,
        batch,
        "2026-11-30T11:00:00.000000Z",
        user,
        "rtoutcomes import x/",
        reason,
        action,
        table,
        key,
        column,
        old,
        new,
        label,
        "0" * 64,
    )
    assert entry.canonical_text() == canonical_json(entry.content())


def test_every_entry_of_an_import_hashes_as_the_encoders_text(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    import_registry(write_csv_folder(mini_registry(), tmp_path / "in"), db, reason='é "q"')
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT seq, batch, recorded_at, user_name, command, reason, action, table_name, "
            "record_key, column_name, old_value, new_value, label, prev_hash, entry_hash "
            "FROM audit_log ORDER BY seq"
        ).fetchall()
    assert len(rows) > 30
    prev = "0" * 64
    for row in rows:
        entry = AuditEntry(*row[:14])
        assert entry.prev_hash == prev
        text = canonical_json(entry.content())
        assert row[14] == hashlib.sha256(text.encode("utf-8")).hexdigest()
        prev = row[14]
