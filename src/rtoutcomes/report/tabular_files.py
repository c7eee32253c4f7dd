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
    """tables.xlsx: one sheet per table (title in bold, then the header in bold, the rows and
    the notes), the bytes openpyxl writes. Written here without openpyxl (its import alone is
    ~0.12 CPU s of every report) where every sheet is what ``_sheet_xml`` covers, through
    openpyxl otherwise (tests/test_xlsx_writer.py compares the two)."""
    sheets = _simple_sheets(tables)
    if sheets is None:
        write_xlsx_openpyxl(tables, path)
        return
    stamp = fixed_timestamp()
    parts = _static_parts()
    names = [name for name, _ in sheets]
    members = {
        "docProps/app.xml": parts["docProps/app.xml"],
        "docProps/core.xml": _core_xml(stamp),
        "xl/theme/theme1.xml": parts["xl/theme/theme1.xml"],
        **{
            f"xl/worksheets/sheet{i}.xml": _sheet_xml(rows)
            for i, (_, rows) in enumerate(sheets, start=1)
        },
        "xl/styles.xml": parts["xl/styles.xml"],
        "_rels/.rels": parts["_rels/.rels"],
        "xl/workbook.xml": _workbook_xml(names),
        "xl/_rels/workbook.xml.rels": _workbook_rels(len(names)),
        "[Content_Types].xml": _content_types(len(names)),
    }
    write_zip(path, [(name, text.encode("utf-8")) for name, text in members.items()], stamp)


def write_xlsx_openpyxl(tables: list[Table], path: Path) -> None:
    """tables.xlsx through openpyxl (any table)."""
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


# The parts of every tables.xlsx that do not depend on its tables, as openpyxl writes them
# (scripts/make_xlsx_parts.py regenerates the file).
XLSX_PARTS = Path(__file__).parent / "data" / "xlsx_parts.json"
STATIC_XLSX_PARTS = ("docProps/app.xml", "xl/theme/theme1.xml", "xl/styles.xml", "_rels/.rels")
_SHEET_NAME = re.compile(r"[A-Za-z0-9_]{1,31}")
# openpyxl stores these texts as something else than a string (errors, formulas), cuts a text
# beyond 32,767 characters and writes a carriage return as a character reference: such
# tables go through openpyxl
_ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _static_parts() -> dict[str, str]:
    import json

    parts: dict[str, str] = json.loads(XLSX_PARTS.read_text(encoding="utf-8"))
    return parts


def _simple_text(text: str) -> bool:
    return (
        len(text) <= 32767
        and "\r" not in text
        and text not in _ERROR_CODES
        and not (len(text) > 1 and text.startswith("="))
    )


def _simple_sheets(tables: list[Table]) -> list[tuple[str, list[list[str]]]] | None:
    """Each table's sheet name and rows of cell texts (title, header, body, notes), or
    ``None`` if any is beyond what ``_sheet_xml`` writes as openpyxl does: a sheet name
    openpyxl would change or refuse, a row wider than the header, text it stores otherwise."""
    sheets = []
    for table in tables:
        name = table.key[:31]
        grid = table.grid()
        width = len(grid[0])
        if not _SHEET_NAME.fullmatch(name) or width == 0 or any(len(r) != width for r in grid):
            return None
        rows = [
            [cell_text(table.title)],
            *([cell_text(c) for c in row] for row in grid),
            *([cell_text(note)] for note in table.notes),
        ]
        if not all(_simple_text(text) for row in rows for text in row):
            return None
        sheets.append((name, rows))
    names = [name for name, _ in sheets]
    if len(set(names)) != len(names) or not names:  # openpyxl renames a repeated name
        return None
    return sheets


def _column(index: int) -> str:
    """Spreadsheet column letters of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_xml(rows: list[list[str]]) -> str:
    """A worksheet as openpyxl writes it: inline strings (beyond ASCII as character
    references), rows 1 and 2 (title, header) in bold (style 1)."""
    width = max(len(row) for row in rows)
    columns = [_column(i) for i in range(width)]
    out = [
        f'<worksheet xmlns="{_MAIN}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/>'
        f'<pageSetUpPr/></sheetPr><dimension ref="A1:{columns[-1]}{len(rows)}"/><sheetViews>'
        '<sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1"/></sheetView>'
        '</sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15"/><sheetData>'
    ]
    for number, row in enumerate(rows, start=1):
        style = ' s="1"' if number <= 2 else ""
        out.append(f'<row r="{number}">')
        for column, text in zip(columns, row, strict=False):
            out.append(f'<c r="{column}{number}"{style} t="inlineStr">')
            if text:
                space = ' xml:space="preserve"' if text != text.strip() else ""
                escaped = text.translate(_ESCAPES).encode("ascii", "xmlcharrefreplace")
                out.append(f"<is><t{space}>{escaped.decode('ascii')}</t></is>")
            out.append("</c>")
        out.append("</row>")
    out.append(
        '</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" '
        'footer="0.5"/></worksheet>'
    )
    return "".join(out)


def _core_xml(stamp: dt.datetime) -> str:
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    dated = (
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="dcterms:W3CDTF"'
    )
    return (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties"><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">rtoutcomes'
        f"</dc:creator><dcterms:created {dated}>{when}</dcterms:created><dcterms:modified "
        f"{dated}>{when}</dcterms:modified></cp:coreProperties>"
    )


def _workbook_xml(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet xmlns:r="{_DOC_RELS}" name="{name}" sheetId="{i}" state="visible" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    return (
        f'<workbook xmlns="{_MAIN}"><workbookPr/><workbookProtection/><bookViews><workbookView '
        'visibility="visible" minimized="0" showHorizontalScroll="1" showVerticalScroll="1" '
        'showSheetTabs="1" tabRatio="600" firstSheet="0" activeTab="0" '
        f'autoFilterDateGrouping="1"/></bookViews><sheets>{sheets}</sheets><definedNames/>'
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


def _workbook_rels(n_sheets: int) -> str:
    kinds = [
        *[("worksheet", f"/xl/worksheets/sheet{i}.xml") for i in range(1, n_sheets + 1)],
        ("styles", "styles.xml"),
        ("theme", "theme/theme1.xml"),
    ]
    return (
        f'<Relationships xmlns="{_RELS}">'
        + "".join(
            f'<Relationship Type="{_DOC_RELS}/{kind}" Target="{target}" Id="rId{i}"/>'
            for i, (kind, target) in enumerate(kinds, start=1)
        )
        + "</Relationships>"
    )


def _content_types(n_sheets: int) -> str:
    office = "application/vnd.openxmlformats-officedocument"
    overrides = [
        ("/xl/styles.xml", f"{office}.spreadsheetml.styles+xml"),
        ("/xl/theme/theme1.xml", f"{office}.theme+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", f"{office}.extended-properties+xml"),
        *[
            (f"/xl/worksheets/sheet{i}.xml", f"{office}.spreadsheetml.worksheet+xml")
            for i in range(1, n_sheets + 1)
        ],
        ("/xl/workbook.xml", f"{office}.spreadsheetml.sheet.main+xml"),
    ]
    return (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>"
    )


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
    write_zip(path, members, stamp)


def write_zip(path: Path, members: list[tuple[str, bytes]], stamp: dt.datetime) -> None:
    """A zip of ``members`` in their order, every one dated ``stamp``, deflated."""
    import zipfile

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


def _inert_text(value: Any) -> str:
    return str(inert(value))


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
        text = _inert_text
    else:
        return None
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    table = np.empty(len(distinct) + 1, dtype=object)
    if text is _inert_text:  # ``_inert_text`` inlined for plain str (patient ids: 1e5 calls)
        start = FORMULA_START
        table[:-1] = [
            ("'" + v if v.startswith(start) else v) if type(v) is str else _inert_text(v)
            for v in distinct
        ]
    else:
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
