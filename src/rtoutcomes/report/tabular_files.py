"""tables.xlsx (one sheet per table) and one CSV per table, with fixed timestamps."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rtoutcomes.io.outputs import cell_text
from rtoutcomes.report.table import Table


def fixed_timestamp() -> dt.datetime:
    """SOURCE_DATE_EPOCH when set, else 2000-01-01: no run date leaks into the files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else 946684800
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).replace(tzinfo=None)


def write_csvs(tables: list[Table], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = directory / f"{table.key}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerows([cell_text(c) for c in row] for row in table.grid())
            for note in table.notes:
                writer.writerow([cell_text(note)])
        written.append(path)
    return written


def write_xlsx(tables: list[Table], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    stamp = fixed_timestamp()
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = "rtoutcomes"
    for table in tables:
        sheet = workbook.create_sheet(table.key[:31])
        # Every cell through cell_text: openpyxl stores a string starting with "=" as a formula.
        sheet.append([cell_text(table.title)])
        sheet["A1"].font = Font(bold=True)
        for row in table.grid():
            sheet.append([cell_text(c) for c in row])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for note in table.notes:
            sheet.append([cell_text(note)])
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    # Not workbook.save(): it stamps docProps/core.xml with the current time as "modified".
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).write_data()
    fix_zip_times(path, stamp)


def fix_zip_times(path: Path, stamp: dt.datetime) -> None:
    """Rewrite a zip (xlsx/docx) with every member dated ``stamp`` and in a fixed order.

    openpyxl stamps ``dcterms:modified`` with the save time whatever the properties say; the
    core properties are set to ``stamp`` here too.
    """
    import re
    import zipfile

    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as source:
        members = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    members = [
        (
            name,
            re.sub(
                rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                rb"\g<1>" + iso + rb"\g<2>",
                data,
            )
            if name == "docProps/core.xml"
            else data,
        )
        for name, data in members
    ]
    when = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (the registry
    import reads it back without it); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


FLOAT_FORMAT = "%.12g"


def _cell_texts(column: Any) -> tuple[Any, Any] | None:
    """Each cell of ``column`` as ``frame.map(inert).to_csv(float_format="%.12g")`` writes it:
    the distinct texts (an object array, "" last for a missing value) and each cell's index
    into them; each distinct value formatted once. ``None`` for a column of another kind (the
    caller then leaves the frame to pandas)."""
    import numpy as np
    import pandas as pd
    from pandas.api.types import infer_dtype

    kind = column.dtype.kind
    text: Callable[[Any], str]
    if kind == "f":
        values = column.to_numpy()
        if bool(np.any(np.signbit(values) & (values == 0))):  # -0.0 and 0.0 hash alike
            return None
        text = FLOAT_FORMAT.__mod__  # pandas applies float_format with %
    elif kind in "iu":
        text = str
    elif kind == "O" and infer_dtype(column, skipna=True) == "string":
        text = lambda value: str(inert(value))  # noqa: E731
    else:
        return None
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    table = np.empty(len(distinct) + 1, dtype=object)
    table[:-1] = [text(v) for v in distinct]
    table[-1] = ""  # code -1: missing
    return table, codes


# What makes the csv module quote a field (QUOTE_MINIMAL, comma, newline line ends), or more.
_QUOTED = re.compile('[,"\r\n]')
ROWS_PER_WRITE = 1 << 16


def write_analysis_csvs(frames: dict[str, Any], directory: Path) -> list[Path]:
    """``analysis/<endpoint>.csv``: one row per analysed patient or lesion (UTF-8, comma,
    empty cell for a missing value, 12 significant digits)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        path = directory / f"{name}.csv"
        texts = [_cell_texts(frame[c]) for c in frame.columns] if len(frame) else [None]
        if any(column is None for column in texts):
            safe = frame.map(inert) if len(frame) else frame
            safe.to_csv(
                path, index=False, lineterminator="\n", float_format=FLOAT_FORMAT, encoding="utf-8"
            )
        else:  # the same bytes as pandas' to_csv above, a few times faster
            distinct = [t for t, _ in texts]  # type: ignore[misc]
            cells = [t[codes] for t, codes in texts]  # type: ignore[misc]
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow([str(c) for c in frame.columns])
                if len(cells) > 1 and not any(_QUOTED.search("".join(t)) for t in distinct):
                    # no field to quote (nor a lone empty one): what the csv module writes is
                    # the fields joined by commas, each row ended by a newline
                    for start in range(0, len(frame), ROWS_PER_WRITE):
                        part = [c[start : start + ROWS_PER_WRITE] for c in cells]
                        lines = map(",".join, zip(*part, strict=True))
                        handle.write("\n".join(lines) + "\n")
                else:
                    writer.writerows(zip(*cells, strict=True))
        written.append(path)
    return written
