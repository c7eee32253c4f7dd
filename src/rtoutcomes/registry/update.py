"""``import --update``: a folder of CSV files or a workbook applied as changes to a registry.

The files hold any subset of tables and rows. Rows are matched by primary key: a new key is
added, a given cell that differs from the stored one is updated, an identical row is left
alone. A blank cell (empty, ``NA``, ``N/A``) leaves the stored value as it is; ``<erase>``
empties it. Rows are deleted only when listed in a keys file (``--delete``: a CSV file with the
header ``table,key``), never because they are absent. Files or sheets that are not registry
tables are listed as ignored; a table that is absent is not touched. Everything else (every
check of a first import on the registry as it would be after, all or nothing, the audit trail)
is ``changes.apply_changes``.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from rtoutcomes.io.problems import Problem
from rtoutcomes.io.tabular import RawTable, read_registry_files
from rtoutcomes.registry.cells import MISSING_TOKENS, CellError, parse_cell, shown
from rtoutcomes.registry.changes import ChangeReport, ChangeSet, apply_changes
from rtoutcomes.registry.spec import TABLE_BY_NAME, TableSpec
from rtoutcomes.registry.validation import ImportRejected

ERASE_MARKER = "<erase>"
"""A cell holding exactly this (any case) empties the stored value."""

__all__ = ["ERASE_MARKER", "read_changes", "update_registry"]


def update_registry(
    path: str | Path,
    db_url: str | Path,
    *,
    reason: str | None = None,
    user: str | None = None,
    dry_run: bool = False,
    delete_file: str | Path | None = None,
    command: str | None = None,
    expected_head: str | None = None,
) -> ChangeReport:
    """Apply the files at ``path`` (and the deletions listed in ``delete_file``) to the registry
    at ``db_url`` in one audited transaction; returns the report (the preview when
    ``dry_run``). Raises ``ImportRejected`` with every problem (nothing written)."""
    changes, ignored = read_changes(path, delete_file)
    report = apply_changes(
        db_url,
        changes,
        user=user,
        reason=reason,
        dry_run=dry_run,
        expected_head=expected_head,
        command=command or f"rtoutcomes import --update {Path(path).name}",
    )
    report.ignored = ignored
    return report


def read_changes(
    path: str | Path, delete_file: str | Path | None = None
) -> tuple[ChangeSet, list[str]]:
    """The ``ChangeSet`` the files ask for, and the files or sheets ignored (not tables)."""
    raw = read_registry_files(path)
    problems: list[Problem] = list(raw.problems)
    changes = ChangeSet()
    ignored: list[str] = []
    for name, table in raw.tables.items():
        spec = TABLE_BY_NAME.get(name)
        if spec is None:
            ignored.append(f"{table.source} (not a registry table)")
            continue
        changes.rows[name] = _table_rows(table, spec, changes, problems)
    if delete_file is not None:
        changes.deletes = _read_deletions(Path(delete_file), problems)
    if problems:
        raise ImportRejected(problems, "update refused, nothing was written")
    return changes, ignored


def _table_rows(
    table: RawTable, spec: TableSpec, changes: ChangeSet, problems: list[Problem]
) -> list[Mapping[str, object]]:
    columns = {c.name: c for c in spec.columns}
    header_ok = True
    seen: set[str] = set()
    for column in table.columns:
        if column not in columns or column in seen:
            header_ok = False
            rule = (
                "column name appears twice in the header"
                if column in seen
                else f"unknown column (columns of {spec.name}: {', '.join(spec.column_names)})"
            )
            problems.append(Problem(table.source, 1, column, None, rule))
        seen.add(column)
    if spec.primary_key not in table.columns:
        problems.append(
            Problem(
                table.source,
                1,
                spec.primary_key,
                None,
                "missing column: rows are matched by this key",
            )
        )
        header_ok = False
    if not header_ok:
        return []
    rows: list[Mapping[str, object]] = []
    for raw_row in table.rows:
        cells = raw_row.cells
        key_cell = cells.get(spec.primary_key)
        key = "" if key_cell is None else shown(key_cell).strip()
        if not key:
            problems.append(
                Problem(
                    table.source,
                    raw_row.number,
                    spec.primary_key,
                    None,
                    "required: the key is empty (rows are matched by it)",
                )
            )
            continue
        row: dict[str, object] = {}
        for name in table.columns:
            cell = cells.get(name)
            if isinstance(cell, str) and cell.strip().lower() == ERASE_MARKER:
                row[name] = None
                continue
            if cell is None or (isinstance(cell, str) and cell.strip().upper() in MISSING_TOKENS):
                continue  # blank: the stored value stays
            try:
                row[name] = parse_cell(cell, columns[name], table.date_system)
            except CellError as error:
                problems.append(
                    Problem(table.source, raw_row.number, name, shown(cell), error.rule, key)
                )
        changes.locations[(spec.name, str(row.get(spec.primary_key, key)))] = (
            table.source,
            raw_row.number,
        )
        row.setdefault(spec.primary_key, key)
        rows.append(row)
    return rows


def _read_deletions(path: Path, problems: list[Problem]) -> dict[str, list[str]]:
    """``table,key`` rows of a CSV file (header ``table,key``)."""
    deletes: dict[str, list[str]] = {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(path.name, None, None, None, f"cannot read the keys file: {error}"))
        return deletes
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    if header != ["table", "key"]:
        problems.append(
            Problem(path.name, 1, None, None, "the keys file's header must be: table,key")
        )
        return deletes
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != 2 or not cells[1].strip():
            problems.append(
                Problem(
                    path.name, number, None, ",".join(cells), "write one table and one key per row"
                )
            )
            continue
        table, key = cells[0].strip(), cells[1].strip()
        if table not in TABLE_BY_NAME:
            problems.append(
                Problem(
                    path.name,
                    number,
                    "table",
                    table,
                    f"no such table (tables: {', '.join(TABLE_BY_NAME)})",
                )
            )
            continue
        deletes.setdefault(table, []).append(key)
    return deletes
