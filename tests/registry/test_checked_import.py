"""A first import parses and checks every cell once (``validation.validate_import``) and hands
the typed rows to the audited write path as a ``CheckedRegistry``, which ``apply_changes``
trusts only as a first import into an empty registry. The token cannot be made by a caller nor
changed after the check; given in any other way, the rows are parsed and checked again.

Negative control: rows that skipped the check, were they taken as checked, would store a
Cyrillic look-alike id (the defect a faster typed path once let through); the same rows as
any caller's change are refused, and through the import the file is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mini_registry import data_row, mini_registry, write_csv_folder

from rtoutcomes.io.tabular import read_registry_files
from rtoutcomes.registry import validation
from rtoutcomes.registry.changes import ChangeSet, RegistryNotEmpty, apply_changes
from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.migrate import upgrade
from rtoutcomes.registry.spec import TABLE_BY_NAME
from rtoutcomes.registry.validation import CheckedRegistry, ImportRejected, validate_import

LOOK_ALIKE = "L0\u0410"  # Cyrillic A


def checked(tmp_path: Path) -> CheckedRegistry:
    return validate_import(read_registry_files(write_csv_folder(mini_registry(), tmp_path / "in")))


def empty_registry(path: Path) -> Path:
    engine = make_engine(path)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return path


def with_look_alike(rows: tuple[tuple[object, ...], ...], table: str) -> list[list[object]]:
    """The rows with lesion L04 renamed to the look-alike id (in every table naming it)."""
    index = TABLE_BY_NAME[table].column_names.index("lesion_id")
    return [
        [LOOK_ALIKE if i == index and v == "L04" else v for i, v in enumerate(row)] for row in rows
    ]


def test_a_caller_cannot_make_the_token(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="validate_import only"):
        CheckedRegistry(object(), {"lesions": (("L1", "P1", "lung", None, 2.0),)})


def test_the_token_cannot_change_after_the_check(tmp_path: Path) -> None:
    token = checked(tmp_path)
    rows = token.rows("lesions")
    assert isinstance(rows, tuple) and all(isinstance(r, tuple) for r in rows)
    with pytest.raises(AttributeError):
        token._tables = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        token._tables["lesions"] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        rows[0][0] = LOOK_ALIKE  # type: ignore[index]


def test_a_file_with_a_look_alike_id_is_refused_and_nothing_written(tmp_path: Path) -> None:
    tables = mini_registry()
    data_row(tables, "lesions", "L04")[1]["lesion_id"] = LOOK_ALIKE
    with pytest.raises(ImportRejected, match="CYRILLIC"):
        validate_import(read_registry_files(write_csv_folder(tables, tmp_path / "in")))
    with pytest.raises(ImportRejected, match="CYRILLIC"):
        import_registry(tmp_path / "in", tmp_path / "r.db")
    assert not (tmp_path / "r.db").exists()


def test_the_token_is_trusted_only_for_an_empty_registry(tmp_path: Path) -> None:
    token = checked(tmp_path)
    db = empty_registry(tmp_path / "r.db")
    report = apply_changes(db, token, require_empty=True, command="test")
    assert report.written and report.counts()["added"] == sum(token.counts().values())
    with pytest.raises(RegistryNotEmpty):
        apply_changes(db, token, require_empty=True, command="test")
    # without require_empty the rows are any caller's: parsed and compared, all unchanged
    again = apply_changes(db, token, command="test")
    assert not again.written and again.counts()["unchanged"] == sum(token.counts().values())


def test_negative_control_unchecked_rows_taken_as_checked_store_a_look_alike(
    tmp_path: Path,
) -> None:
    token = checked(tmp_path)
    forged = {
        name: tuple(tuple(r) for r in with_look_alike(token.rows(name), name))
        for name in ("lesions", "sbrt_courses", "assessments")
    }
    tables = {name: forged.get(name, token.rows(name)) for name in TABLE_BY_NAME}
    # the shortcut the token guards: rows that never went through validate_import, written
    # as checked (made here with the module's private issuer, which no caller has)
    unchecked = CheckedRegistry(validation._ISSUER, tables)
    db = empty_registry(tmp_path / "shortcut.db")
    apply_changes(db, unchecked, require_empty=True, command="test")
    with sqlite3.connect(db) as connection:
        stored = {r[0] for r in connection.execute("SELECT lesion_id FROM lesions")}
    assert LOOK_ALIKE in stored  # the hazard is real: the shortcut checks nothing
    # the same rows as a caller's change go through every check and are refused
    names = {name: TABLE_BY_NAME[name].column_names for name in tables}
    change = ChangeSet(
        rows={
            name: [dict(zip(names[name], row, strict=True)) for row in rows]
            for name, rows in tables.items()
            if rows
        }
    )
    with pytest.raises(ImportRejected, match="CYRILLIC"):
        apply_changes(
            empty_registry(tmp_path / "checked.db"), change, require_empty=True, command="test"
        )
