"""Write a registry back in the import format: a folder of CSV files or one .xlsx workbook.

Deterministic: tables in the format's order, columns in the format's order, rows sorted by
primary key, dates ISO, numbers in their shortest exact form; the workbook's timestamps are
fixed, so the same registry gives the same bytes. Text cells that begin with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return get a leading apostrophe (OWASP's advice against CSV/formula
injection) so that a spreadsheet shows them instead of running them; numbers are never touched
(a negative number stays a number), and the importer removes the apostrophe again, so that
import -> export -> import gives identical content.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Literal

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.outputs import cell_text, check_output_folder, staged_output
from rtoutcomes.registry.spec import TABLES, ColumnSpec
from rtoutcomes.registry.tables import read_rows

ExportFormat = Literal["csv", "xlsx"]
WORKBOOK_NAME = "registry.xlsx"
FIXED_TIME = dt.datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def format_number(value: float | int) -> str:
    """Shortest exact text of a number: ``40``, ``78.5``, ``-2``, ``0.1``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def export_cell(value: object, column: ColumnSpec) -> str:
    """One cell as CSV text."""
    if value is None:
        return ""
    if column.kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if column.kind == "yes/no":
        return "yes" if value else "no"
    if column.kind in ("integer", "number") and isinstance(value, int | float):
        return format_number(value)
    return cell_text(str(value))


def export_registry(
    db_url: str | Path,
    out_dir: str | Path,
    fmt: ExportFormat = "csv",
    as_of: str | None = None,
    key_file: str | Path | None = None,
    deidentified: list[str] | None = None,
) -> list[Path]:
    """Write the registry at ``db_url`` to ``out_dir`` (created if needed) as one
    ``<table>.csv`` per table, or as ``registry.xlsx``; returns the files written. ``as_of``:
    the registry as it was at a freeze label, a batch or a time (``audit.snapshot``).
    ``key_file``: a de-identified copy (``registry.deidentify``) with that secret key; the
    summary of what was removed, shifted and pseudonymised is appended to ``deidentified``.

    The files are staged beside ``out_dir`` and moved in together (``staged_output``): files
    of these names in ``out_dir`` are replaced, other files are left alone.
    """
    from rtoutcomes.registry.audit import snapshot

    if fmt not in ("csv", "xlsx"):
        raise RtOutcomesError(f"unknown export format {fmt!r}: csv or xlsx")
    out = check_output_folder(out_dir)
    rows = snapshot(db_url, as_of).rows if as_of else read_rows(db_url)
    if key_file is not None:  # read the key before anything is written
        from rtoutcomes.io.keyfile import read_key
        from rtoutcomes.registry.deidentify import deidentify_rows

        rows, summary = deidentify_rows(rows, read_key(key_file))
        if deidentified is not None:
            deidentified.extend(summary.lines())
    return write_rows(rows, out, fmt)


def write_rows(
    rows: dict[str, list[dict[str, object]]], out_dir: str | Path, fmt: ExportFormat = "csv"
) -> list[Path]:
    """Registry rows (``read_rows``' form) written in the import format; the files written,
    staged and moved in whole (``staged_output``)."""
    out = check_output_folder(out_dir)
    with staged_output(out) as stage:
        names = _write_files(rows, stage, fmt)
    return [out / name for name in names]


def _write_files(
    rows: dict[str, list[dict[str, object]]], out: Path, fmt: ExportFormat
) -> list[str]:
    if fmt == "xlsx":
        (out / WORKBOOK_NAME).write_bytes(_workbook_bytes(rows))
        return [WORKBOOK_NAME]
    written = []
    for spec in TABLES:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(spec.column_names)
        for row in rows[spec.name]:
            writer.writerow([export_cell(row[c.name], c) for c in spec.columns])
        (out / f"{spec.name}.csv").write_bytes(buffer.getvalue().encode("utf-8"))
        written.append(f"{spec.name}.csv")
    return written


def _excel_cell(value: object, column: ColumnSpec) -> object:
    if value is None:
        return None
    if column.kind == "date" or (
        column.kind in ("integer", "number") and isinstance(value, int | float)
    ):
        return value
    return export_cell(value, column)


def _workbook_bytes(rows: dict[str, list[dict[str, object]]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    workbook.properties.creator = "rtoutcomes"
    for spec in TABLES:
        sheet = workbook.create_sheet(spec.name)
        sheet.append(list(spec.column_names))
        for row in rows[spec.name]:
            sheet.append([_excel_cell(row[c.name], c) for c in spec.columns])
        for index, column in enumerate(spec.columns, start=1):
            if column.kind == "date":
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "yyyy-mm-dd"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return _fixed_zip_times(raw.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same archive with every entry's timestamp fixed (same input, same bytes)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in source.namelist():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(name))
    return out.getvalue()
