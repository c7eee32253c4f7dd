"""Validate a whole registry before anything is written; collect every problem.

Three passes, each driven by the column specification (``spec.py``) as far as possible:
1. structure: missing or unknown tables and columns (with did-you-mean suggestions), repeated
   column names;
2. cells: type, missing-value codes, allowed values and ranges (``cells.py``), required cells,
   unique identifiers;
3. rules across columns and tables: references, conditional requirements and dates in order
   (``rules.py``).
A problem in one cell never hides problems elsewhere: every row of every table is checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import cast

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.problems import Problem
from rtoutcomes.io.tabular import RawRegistry, RawTable, read_csv_table, read_registry_files
from rtoutcomes.registry.cells import (
    CellError,
    identifier_column,
    parse_cell,
    plain_identifier,
    shown,
)
from rtoutcomes.registry.records import Record, ValidatedRegistry
from rtoutcomes.registry.rules import check_rules
from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES, ColumnSpec, TableSpec

__all__ = [
    "CheckedRegistry",
    "ImportRejected",
    "Problem",
    "Record",
    "ValidatedRegistry",
    "validate_import",
    "validate_registry",
]

MAX_LISTED = 1000


class ImportRejected(RtOutcomesError):
    """The registry files break the format; ``problems`` lists every problem found.

    Nothing was written to the database.
    """

    def __init__(self, problems: Iterable[Problem], what: str = "import refused") -> None:
        self.problems = list(problems)
        self.what = what
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.what}: {count} {noun}"]
        lines += [f"  - {p}" for p in self.problems[:MAX_LISTED]]
        if count > MAX_LISTED:
            lines.append(f"  ... and {count - MAX_LISTED} more")
        return "\n".join(lines)


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name.lower(), list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


Checked = tuple[RawTable, list[Record], list[tuple[object, ...]], list[Problem]]
"""A table's cells checked elsewhere: its header (no rows), records, rows and problems."""


def validate_registry(
    raw: RawRegistry, checked: Mapping[str, Checked] | None = None
) -> ValidatedRegistry:
    """Check every table, row and cell of ``raw``; return typed rows and all problems.

    ``checked``: tables whose cells another process checked (``validate_files``), by name."""
    result = ValidatedRegistry({}, {}, list(raw.problems))
    if raw.problems and not raw.tables:
        return result  # nothing readable (no such path, not a workbook...)
    known = [t.name for t in TABLES]
    for name, found in raw.tables.items():
        if name not in TABLE_BY_NAME:
            result.problems.append(
                Problem(
                    found.source,
                    None,
                    None,
                    None,
                    f"unknown table {name!r}{_suggest(name, known)} (tables: {', '.join(known)})",
                )
            )
    for spec in TABLES:
        result.sources[spec.name] = raw.source_of(spec.name)
        table = raw.tables.get(spec.name)
        if table is None:
            if spec.name not in raw.unreadable and not spec.optional:
                result.problems.append(
                    Problem(
                        raw.source_of(spec.name),
                        None,
                        None,
                        None,
                        f"missing table {spec.name!r}; a table with no rows still needs its header "
                        "row",
                    )
                )
            result.tables[spec.name] = []
            result.missing_tables.add(spec.name)
            continue
        _check_columns(table, spec, result.problems)
        if checked and spec.name in checked:
            _, records, rows, problems = checked[spec.name]
            result.tables[spec.name], result.rows[spec.name] = records, rows
            result.problems += problems
        else:
            result.tables[spec.name], result.rows[spec.name] = _check_rows(
                table, spec, result.problems
            )
        _check_unique(spec, result)
    check_rules(result)
    return result


_ISSUER = object()  # only this module holds it: only validate_import makes a CheckedRegistry


class CheckedRegistry:
    """A whole registry read from files that ``validate_import`` parsed and checked with no
    problem: what a first import writes. ``changes.apply_changes`` trusts it (parses no cell
    and runs no check again) for a first import into an empty registry, where the registry
    after the import is exactly these rows.

    It is a token, not a flag: only ``validate_import`` can make one (the constructor wants
    this module's private issuer), from the rows its own check typed, and it cannot change
    afterwards: each table's rows are tuples (in the table's column order) of immutable values
    (text, numbers, dates, yes/no, ``None``) behind a read-only mapping, and attributes
    cannot be set.
    """

    __slots__ = ("_tables",)
    _tables: Mapping[str, tuple[tuple[object, ...], ...]]

    def __init__(
        self, issuer: object, tables: Mapping[str, tuple[tuple[object, ...], ...]]
    ) -> None:
        if issuer is not _ISSUER:
            raise TypeError("a CheckedRegistry is made by validation.validate_import only")
        object.__setattr__(self, "_tables", MappingProxyType(dict(tables)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a CheckedRegistry cannot change after its check")

    def rows(self, table: str) -> tuple[tuple[object, ...], ...]:
        """The rows of ``table`` (tuples in ``spec.column_names`` order; empty when none)."""
        return self._tables.get(table, ())

    def counts(self) -> dict[str, int]:
        return {spec.name: len(self.rows(spec.name)) for spec in TABLES}


SHARED_TABLES = ("assessments", "patient_events")
"""The tables a forked process reads and checks while ``validate_files`` reads and checks the
others: the largest of a registry (~40 % of the reading and checking at the benchmark's size;
with ``patient_events`` too, this process waited for the child)."""
SHARED_BYTES = 500_000
"""From this size of their files on (a registry of ~1,500 patients)."""


def validate_files(
    path: str | Path,
    meanwhile: Callable[[], object] | None = None,
    typed: Callable[[Mapping[str, Sequence[tuple[object, ...]]], Mapping[str, object]], object]
    | None = None,
    derive: Callable[[str, Sequence[tuple[object, ...]]], object] | None = None,
) -> CheckedRegistry:
    """``validate_import(read_registry_files(path))``. For a folder of CSV files whose
    ``SHARED_TABLES`` files are large, a forked process reads those files and checks their
    cells (``_check_rows``: the same code on the same bytes) while this one reads and checks
    the others; everything across rows and tables is checked here, on all of them. Where
    anything of the folder cannot be read as it is (a problem of reading, a second file of a
    table), or the child cannot be forked, it is all done here.

    ``meanwhile``: other work of this process (an import loads its write path), called once
    before the files are checked across rows: while the forked process still reads, when
    there is one. ``typed``: where the cells were checked by two processes, called with
    every table's typed rows (the tuples a ``CheckedRegistry`` holds if no check fails) before
    the checks across rows and tables (an import starts preparing its audit trail), and with
    ``derive(table, rows)`` of each table the forked process checked, computed there (an
    import's audit texts of those rows, while this process still reads)."""
    from rtoutcomes import forking

    path = Path(path)
    files = [path / f"{name}.csv" for name in SHARED_TABLES]
    if (
        not path.is_dir()
        or not forking.can_fork()
        or not all(f.is_file() for f in files)
        or sum(f.stat().st_size for f in files) < SHARED_BYTES
    ):
        raw = read_registry_files(path)
        if meanwhile is not None:
            meanwhile()
        return validate_import(raw)
    with forking.InChild(lambda: _checked_files(files, derive)) as child:
        raw = read_registry_files(path, skip=frozenset(f.name for f in files))
        # this process' tables, while the child checks its own
        own = {} if raw.problems else {n: _checked(t) for n, t in raw.tables.items()}
        if meanwhile is not None:
            meanwhile()
        read = child.result()
    if read is None or raw.problems or raw.unreadable:
        return validate_import(read_registry_files(path))  # messages in the files' order
    checked, derived = read
    for name, (header, *_) in checked.items():
        raw.tables[name] = header
    cells = {**own, **checked}
    if typed is not None and not any(problems for *_, problems in cells.values()):
        typed({name: rows for name, (_, _, rows, _) in cells.items()}, derived)
    return validate_import(raw, cells)


def _checked_files(
    files: list[Path], derive: Callable[[str, Sequence[tuple[object, ...]]], object] | None
) -> tuple[dict[str, Checked], dict[str, object]] | None:
    """Each file read and its cells checked (in the forked process), and ``derive`` of each
    table's rows where no cell has a problem; ``None`` if one cannot be read as it is."""
    found: dict[str, Checked] = {}
    for file in files:
        problems: list[Problem] = []
        table = read_csv_table(file, problems)
        if table is None or problems:
            return None
        found[table.name] = _checked(table)
    clean = not any(problems for *_, problems in found.values())
    derived = {n: derive(n, c[2]) for n, c in found.items()} if derive and clean else {}
    return found, derived


def _checked(table: RawTable) -> Checked:
    """A table's cells checked (``_check_rows``; an unknown table: nothing to check), with
    its header without the rows."""
    problems: list[Problem] = []
    spec = TABLE_BY_NAME.get(table.name)
    records, rows = _check_rows(table, spec, problems) if spec else ([], [])
    header = RawTable(table.name, table.source, table.columns, [], table.origin)
    return header, records, rows, problems


def validate_import(
    raw: RawRegistry, checked: Mapping[str, Checked] | None = None
) -> CheckedRegistry:
    """``validate_registry``, for a first import: raises ``ImportRejected`` with every problem
    (``import refused, nothing was written``), else returns the typed rows as a
    ``CheckedRegistry``. ``checked``: as for ``validate_registry``."""
    validated = validate_registry(raw, checked)

    if validated.problems:
        raise ImportRejected(validated.problems, "import refused, nothing was written")
    # the rows as _check_rows typed them (no problem: no cell was taken out of its record)
    tables = {spec.name: tuple(validated.rows.get(spec.name, ())) for spec in TABLES}
    return CheckedRegistry(_ISSUER, tables)


def validate_records(
    tables: dict[str, list[Record]],
    sources: dict[str, str],
    check_required: Iterable[Record],
    elsewhere: frozenset[str] = frozenset(),
) -> ValidatedRegistry:
    """The checks across rows and tables (unique identifiers, references, conditions, dates)
    on rows already typed: a registry as it would be after a change (``changes.py``). Required
    cells are checked in the records of ``check_required`` only (the others come from the
    database, whose NOT NULL constraints hold them). ``tables`` may be the part of a registry
    a change can affect (``scope.py``); ``elsewhere`` then names the tables with other rows."""
    from rtoutcomes.registry.rules import check_rules

    result = ValidatedRegistry(tables, dict(sources), [], elsewhere=elsewhere)
    required = {id(r) for r in check_required}
    for spec in TABLES:
        for record in tables[spec.name]:
            if id(record) not in required:
                continue
            for col in spec.columns:
                if (
                    col.required
                    and record.values.get(col.name) is None
                    and col.name not in record.invalid
                ):
                    result.report(spec.name, record, col.name, "required: the cell is empty")
        _check_unique(spec, result)
    check_rules(result)
    return result


def _check_columns(table: RawTable, spec: TableSpec, problems: list[Problem]) -> None:
    seen: set[str] = set()
    missing = [c for c in spec.columns if c.requirement != "opt" and c.name not in table.columns]
    for column in table.columns:
        if column in seen:
            problems.append(
                Problem(table.source, 1, column, None, "column name appears twice in the header")
            )
        seen.add(column)
        if column not in spec.column_names:
            absent = [c for c in spec.column_names if c not in table.columns]
            problems.append(
                Problem(
                    table.source,
                    1,
                    column,
                    None,
                    f"unknown column{_suggest(column, absent or spec.column_names)} "
                    f"(columns of {spec.name}: {', '.join(spec.column_names)})",
                )
            )
    for col in missing:
        rule = "required" if col.requirement == "req" else f"needed ({col.condition})"
        problems.append(
            Problem(table.source, 1, col.name, None, f"missing column: the column is {rule}")
        )


def _check_rows(
    table: RawTable, spec: TableSpec, problems: list[Problem]
) -> tuple[list[Record], list[tuple[object, ...]]]:
    """The table's rows as records, and as tuples in ``spec.column_names`` order (``None``
    for a column the file lacks; what a first import writes when nothing is wrong), with every
    cell's problem reported."""
    present = [c for c in spec.columns if c.name in table.columns]
    raw_rows = table.rows
    # Column by column: a text cell's value (or its error) depends only on the text and the
    # column, so each distinct text of a column is parsed once (dates, codes and references
    # repeat down a column).
    columns: list[list[object]] = []
    for col in present:
        name, parsed = col.name, []
        seen: dict[str, object] = {}
        if identifier_column(col):  # ids are mostly distinct: the common case tested at once
            seen = {t: t for r in raw_rows if type(t := r.cells.get(name)) is str}
            for text in seen:
                if not plain_identifier(text):
                    seen[text] = _UNSEEN
        for raw_row in raw_rows:
            cell = raw_row.cells.get(name)
            if type(cell) is str:
                value = seen.get(cell, _UNSEEN)
                if value is _UNSEEN:
                    value = seen[cell] = _parse_or_error(cell, col, table.date_system)
            else:
                value = _parse_or_error(cell, col, table.date_system)
            parsed.append(value)
        columns.append(parsed)
    names = [c.name for c in present]
    records = [
        Record(raw_row.number, dict(zip(names, values, strict=True)))
        for raw_row, values in zip(
            raw_rows, zip(*columns, strict=True) if columns else [()] * len(raw_rows), strict=True
        )
    ]
    by_name = dict(zip(names, columns, strict=True))
    empty = [None] * len(raw_rows)
    ordered = [by_name.get(name, empty) for name in spec.column_names]
    rows = list(zip(*ordered, strict=True))
    # the cells' problems, row by row and column by column as the file reads
    flagged = sorted(
        (i, j)
        for j, (col, parsed) in enumerate(zip(present, columns, strict=True))
        for i, value in enumerate(parsed)
        if (value is None and col.required) or isinstance(value, CellError)
    )
    for i, j in flagged:
        raw_row, record, col = raw_rows[i], records[i], present[j]
        value = columns[j][i]
        if isinstance(value, CellError):
            del record.values[col.name]
            record.invalid.add(col.name)
            cell = raw_row.cells.get(col.name)
            problems.append(
                Problem(
                    table.source,
                    raw_row.number,
                    col.name,
                    shown(cell),
                    value.rule,
                    _key_of(raw_row.cells, spec),
                )
            )
        else:
            problems.append(
                Problem(
                    table.source,
                    raw_row.number,
                    col.name,
                    None,
                    "required: the cell is empty",
                    _key_of(raw_row.cells, spec),
                )
            )
    return records, rows


_UNSEEN = object()


def _parse_or_error(cell: object, col: ColumnSpec, date_system: int | None) -> object:
    """``parse_cell``'s value, or the ``CellError`` it raised (kept, to raise for each cell
    with the same text)."""
    try:
        return parse_cell(cell, col, date_system)
    except CellError as error:
        return error


def _key_of(cells: dict[str, object], spec: TableSpec) -> str | None:
    """The row's primary key as written (``None`` when empty), to name the row in messages."""
    key = cells.get(spec.primary_key)
    text = "" if key is None else shown(key).strip()
    return text or None


def _check_unique(spec: TableSpec, result: ValidatedRegistry) -> None:
    for col in spec.columns:
        if not col.unique:
            continue
        # Compared ignoring case: 'demo-p001' beside 'DEMO-P001' is a typing slip, not a
        # second patient. No two alike (the usual case) is told at once, in bulk.
        name = col.name
        present = [v for r in result.tables[spec.name] if (v := r.values.get(name)) is not None]
        if set(map(type, present)) <= {str}:
            texts = cast(list[str], present)
            if len(set(map(str.casefold, texts))) == len(texts):
                continue
        first_row: dict[object, tuple[int, object]] = {}
        for record in result.tables[spec.name]:
            value = record.get(col.name)
            if value is None:
                continue
            key = value.casefold() if isinstance(value, str) else value
            if key in first_row:
                row, first = first_row[key]
                differs = "" if first == value else f" {first!r}, which differs only by case"
                result.report(
                    spec.name,
                    record,
                    col.name,
                    f"duplicate {col.name} (first at row {row}{differs})",
                    value,
                )
            else:
                first_row[key] = (record.row, value)
