"""Read a registry's tables as raw cells: a folder of CSV files or one Excel workbook.

Nothing is interpreted here beyond what the file format itself says: CSV cells are strings;
Excel cells are what the workbook stores (text, numbers, booleans, dates). Each row keeps its
number as a spreadsheet shows it (header = row 1), so that every problem can be located.
The workbook's date system (1900 or 1904) is recorded so that serial numbers in date columns can
be converted explicitly (``excel_serial_to_date``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from rtoutcomes.io.problems import Problem

Origin = Literal["csv", "xlsx", "database"]
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class RawRow:
    """One data row: its spreadsheet row number and its cells by column name."""

    number: int
    cells: dict[str, object]


@dataclass
class RawTable:
    """One table as written: ``name`` (file stem or sheet name), ``source`` (for messages),
    ``columns`` (header names, stripped of surrounding spaces, in file order)."""

    name: str
    source: str
    columns: list[str]
    rows: list[RawRow]
    origin: Origin
    date_system: int | None = None  # 1900 or 1904 for a workbook


@dataclass
class RawRegistry:
    """All tables found at a path, and the problems met while reading them."""

    path: str
    origin: Origin
    tables: dict[str, RawTable] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # tables found but not readable

    def source_of(self, table: str) -> str:
        """How a (possibly missing) table is named in messages."""
        if table in self.tables:
            return self.tables[table].source
        if self.origin == "xlsx":
            return f"{Path(self.path).name}, sheet {table}"
        return f"{table}.csv"


def read_registry_files(path: str | Path, *, skip: frozenset[str] = frozenset()) -> RawRegistry:
    """Read a folder of ``<table>.csv`` files or one ``.xlsx`` workbook (one sheet per table).

    ``skip``: names of CSV files of the folder not to read (another process reads them:
    ``validation.validate_files``); they still count in the check for two files of one table.
    """
    path = Path(path)
    if path.is_dir():
        return _read_csv_folder(path, skip)
    registry = RawRegistry(str(path), "xlsx")
    if not path.exists():
        registry.problems.append(Problem(str(path), None, None, None, "no such file or folder"))
    elif path.suffix.lower() in EXCEL_SUFFIXES:
        _read_workbook(path, registry)
    else:
        hint = (
            "save it as .xlsx"
            if path.suffix.lower() in (".xls", ".ods")
            else "give the folder that holds one CSV file per table, or an .xlsx workbook"
        )
        registry.problems.append(
            Problem(path.name, None, None, None, f"not a registry folder or workbook: {hint}")
        )
    return registry


# --- CSV ------------------------------------------------------------------------------------


def _read_csv_folder(folder: Path, skip: frozenset[str]) -> RawRegistry:
    registry = RawRegistry(str(folder), "csv")
    try:
        files = sorted(folder.iterdir())
    except OSError as error:
        registry.problems.append(
            Problem(str(folder), None, None, None, f"cannot read the folder ({error.strerror})")
        )
        return registry
    seen: dict[str, str] = {}
    for file in files:
        if file.is_file() and file.suffix.lower() == ".csv":
            first = seen.setdefault(file.stem, file.name)
            if first != file.name:  # patients.csv and patients.CSV: which one is meant?
                registry.problems.append(
                    Problem(
                        file.name,
                        None,
                        None,
                        None,
                        f"a second file for table {file.stem} beside {first}; keep one",
                    )
                )
                registry.unreadable.add(file.stem)
                continue
            if file.name in skip:
                continue
            table = read_csv_table(file, registry.problems)
            if table is None:
                registry.unreadable.add(file.stem)
            else:
                registry.tables[table.name] = table
    return registry


def _decode(file: Path, problems: list[Problem]) -> str | None:
    try:
        data = file.read_bytes()
    except OSError as error:
        problems.append(
            Problem(file.name, None, None, None, f"cannot read the file ({error.strerror})")
        )
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(
            Problem(file.name, None, None, None, "file is UTF-16 text; save it as 'CSV UTF-8'")
        )
        return None
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        bad = data[error.start : error.start + 1].hex()
        problems.append(
            Problem(
                file.name,
                line,
                None,
                None,
                f"not UTF-8 text (byte 0x{bad}); save the file as 'CSV UTF-8'",
            )
        )
        return None


def sniff_delimiter(header_line: str) -> str:
    """``;`` when the header has more semicolons than commas outside quotes, else ``,``."""
    counts = {",": 0, ";": 0}
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return ";" if counts[";"] > counts[","] else ","


def read_csv_table(file: Path, problems: list[Problem]) -> RawTable | None:
    """One ``<table>.csv`` file of a registry folder (``None``, with its problems, when it
    cannot be read)."""
    text = _decode(file, problems)
    if text is None:
        return None
    if not text.strip():
        problems.append(
            Problem(file.name, None, None, None, "file is empty: it needs at least the header row")
        )
        return None
    delimiter = sniff_delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = cast("list[list[object]]", list(reader))  # CSV cells: text
    except csv.Error as error:
        problems.append(
            Problem(
                file.name, reader.line_num or None, None, None, f"not a readable CSV file ({error})"
            )
        )
        return None
    if '"' in text:  # only a quoted cell can hold a line break
        _refuse_multiline_cells(file.name, records, problems)
    return _table_from_records(file.stem, file.name, records, "csv", None, problems)


def _refuse_multiline_cells(
    source: str, records: list[list[object]], problems: list[Problem]
) -> None:
    """A registry cell holds one line. A line break inside a cell is almost always a quote
    that was never closed, which swallows the rows after it into one cell: refuse it."""
    header = [str(c).strip() for c in records[0]] if records else []
    for index, record in enumerate(records, start=1):
        joined = "".join(record)  # type: ignore[arg-type]  # CSV cells: text
        if "\n" not in joined and "\r" not in joined:
            continue  # no line break in any cell of the row (checked at C speed)
        for position, cell in enumerate(record):
            if isinstance(cell, str) and ("\n" in cell or "\r" in cell):
                column = header[position] if position < len(header) else None
                problems.append(
                    Problem(
                        source,
                        index,
                        column or None,
                        cell[:60],
                        'a line break inside a cell: probably a quote (") that is not closed; '
                        "the rows after it would be swallowed into this cell",
                    )
                )
                return


# --- Excel ----------------------------------------------------------------------------------


def workbook_errors() -> tuple[type[Exception], ...]:
    """What openpyxl raises on a file that is not a readable workbook: not a zip (a CSV file
    named .xlsx), a damaged part (zlib), truncated or invalid XML, a missing part."""
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    from openpyxl.utils.exceptions import InvalidFileException

    return (
        zipfile.BadZipFile,
        zlib.error,
        ParseError,
        InvalidFileException,
        OSError,
        KeyError,
        ValueError,
        TypeError,
        EOFError,
        IndexError,
        AttributeError,
    )


def _read_workbook(path: Path, registry: RawRegistry) -> None:
    try:
        _read_sheets(path, registry)
    except workbook_errors() as error:
        registry.problems.append(
            Problem(
                path.name,
                None,
                None,
                None,
                f"not a readable .xlsx workbook ({type(error).__name__}: {error})",
            )
        )
        registry.unreadable.update(registry.tables)
        registry.tables.clear()


def _uncached_formulas(path: Path) -> dict[str, list[str]]:
    """Cells (by sheet) holding a formula whose result the workbook does not store: a file
    written by a program that does not calculate (openpyxl, pandas), never opened in Excel.
    Reading the stored results, such cells would come in as empty."""
    import re
    import zipfile

    from openpyxl import load_workbook

    with zipfile.ZipFile(path) as archive:
        if not any(
            re.search(rb"<(\w+:)?f[ >/]", archive.read(name))
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        ):
            return {}
    formulas = load_workbook(path, read_only=True, data_only=False)
    values = load_workbook(path, read_only=True, data_only=True)
    found: dict[str, list[str]] = {}
    try:
        for sheet in formulas.worksheets:
            stored = values[sheet.title].iter_rows()
            for row in sheet.iter_rows():
                for cell, value in zip(row, next(stored), strict=False):
                    if (
                        isinstance(cell.value, str)
                        and cell.value.startswith("=")
                        and value.value is None
                    ):
                        found.setdefault(sheet.title, []).append(cell.coordinate)
    finally:
        formulas.close()
        values.close()
    return found


def _read_sheets(path: Path, registry: RawRegistry) -> None:
    from openpyxl import load_workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    for title, cells in _uncached_formulas(path).items():
        shown = ", ".join(cells[:10]) + (f" and {len(cells) - 10} more" if len(cells) > 10 else "")
        registry.problems.append(
            Problem(
                f"{path.name}, sheet {title}",
                None,
                None,
                None,
                f"formula cells without a calculated value ({shown}): open and save the workbook "
                "in Excel or LibreOffice so the values are stored, or type the values in",
            )
        )
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        system = 1904 if workbook.epoch == CALENDAR_MAC_1904 else 1900
        for sheet in workbook.worksheets:
            records = [list(row) for row in sheet.iter_rows(min_row=1, values_only=True)]
            source = f"{path.name}, sheet {sheet.title}"
            if all(_blank(c) for record in records for c in record):
                continue  # an untouched sheet (Excel's "Sheet1"): as if absent
            if all(_blank(c) for c in records[0]):
                registry.problems.append(
                    Problem(source, 1, None, None, "sheet has no header row (row 1 is empty)")
                )
                registry.unreadable.add(sheet.title)
                continue
            table = _table_from_records(
                sheet.title, source, records, "xlsx", system, registry.problems
            )
            registry.tables[table.name] = table
    finally:
        workbook.close()


# --- common ---------------------------------------------------------------------------------


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _table_from_records(
    name: str,
    source: str,
    records: list[list[object]],
    origin: Origin,
    date_system: int | None,
    problems: list[Problem],
) -> RawTable:
    header = ["" if _blank(c) else str(c).strip() for c in records[0]]
    body = records[1:]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    columns = header[:width]
    # a CSV row (all text) as wide as a header naming every column once is checked by joining
    # its cells and read by dict(zip(...)), at C speed
    text = origin == "csv"
    plain = all(columns) and len(set(columns)) == len(columns)
    rows: list[RawRow] = []
    for index, record in enumerate(body, start=2):
        if text and len(record) == width and plain:
            if not "".join(record).strip():  # type: ignore[arg-type]
                continue  # a blank row
            rows.append(RawRow(index, dict(zip(columns, record, strict=True))))
            continue
        if all(_blank(c) for c in record):
            continue
        for position in range(width, len(record)):
            if not _blank(record[position]):
                problems.append(
                    Problem(
                        source,
                        index,
                        None,
                        str(record[position]),
                        f"value in column {position + 1}, which has no header; a text with an "
                        "unquoted delimiter splits into extra cells",
                    )
                )
                break
        cells: dict[str, object] = {}
        for position, column in enumerate(columns):
            value = record[position] if position < len(record) else None
            if not column:
                if not _blank(value):
                    problems.append(
                        Problem(
                            source,
                            index,
                            None,
                            str(value),
                            f"value in column {position + 1}, which has no header",
                        )
                    )
                continue
            cells.setdefault(column, value)
        rows.append(RawRow(index, cells))
    return RawTable(name, source, columns, rows, origin, date_system)


def excel_serial_to_date(serial: float, date_system: int) -> dt.date:
    """The date of an Excel serial day number in the 1900 or 1904 date system.

    1900 system: day 1 is 1900-01-01, and Excel (copying Lotus 1-2-3) counts a 29 February 1900
    that never existed as day 60, so days from 61 on are one less than a plain count. Raises
    ``ValueError`` for day 60, non-whole numbers and days before the system's epoch.
    """
    if not float(serial).is_integer():
        raise ValueError(f"{serial} is not a whole day number (it has a time of day)")
    day = int(serial)
    if date_system == 1904:
        if day < 0:
            raise ValueError(f"{day} is before 1904-01-01, day 0 of the 1904 date system")
        return dt.date(1904, 1, 1) + dt.timedelta(days=day)
    if day < 1:
        raise ValueError(f"{day} is before 1900-01-01, day 1 of the 1900 date system")
    if day == 60:
        raise ValueError("day 60 of the 1900 date system is 1900-02-29, which does not exist")
    offset = day if day < 60 else day - 1
    return dt.date(1899, 12, 31) + dt.timedelta(days=offset)
