"""manuscript.docx: the report as a Word file a journal accepts.

Page size and orientation from the study file (``manuscript``; A4 portrait by default); title,
statistical methods, then every table numbered in order ("Table 1." ...) with its footnotes, a
table too wide for the page in its own landscape section; the main figures embedded at their
final width with numbered captions; the supplementary tables ("Table S1." ...); the warnings
as a checklist section at the end, not among the tables. Three-line table rules, 8 pt in tables
and footnotes (journals: >= 8 pt), fixed timestamps: same inputs, same bytes.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtoutcomes.io.outputs import xml_safe
from rtoutcomes.report.table import Table
from rtoutcomes.report.tabular_files import fix_zip_times, fixed_timestamp

if TYPE_CHECKING:
    from collections.abc import Callable

    from rtoutcomes.report.document import Figure, Report

PAGE_SIZES_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
MARGIN_MM = 20.0
TABLE_PT = 8
CHAR_MM = 1.55  # average width of a character at 8 pt (Calibri/Arial), for the table width
NUMBERED = re.compile(r"^Table S?\d+\.\s*")


def _border(cell: Any, edge: str, size: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = cell._tc.get_or_add_tcPr()
    borders = properties.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        properties.append(borders)
    element = OxmlElement(f"w:{edge}")
    element.set(qn("w:val"), "single")
    element.set(qn("w:sz"), str(size))
    element.set(qn("w:color"), "000000")
    borders.append(element)


def table_width_mm(table: Table) -> float:
    """Width the table needs: each column as wide as its longest line (header words wrap)."""
    grid = table.grid()
    width = 0.0
    for c in range(len(table.columns)):
        body = max((len(row[c]) for row in grid[1:] if c < len(row)), default=0)
        header = max((len(word) for word in grid[0][c].split()), default=0)
        width += max(body, header, 4) * CHAR_MM + 2.5
    return width


def caption_title(number: int | str, title: str) -> str:
    """ "Table 3. Univariate Cox regression": numbered in the manuscript's order (``S1``: a
    supplementary table)."""
    return f"Table {number}. {NUMBERED.sub('', title)}"


def _set_page(section: Any, size: str, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    short, long_ = PAGE_SIZES_MM[size]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (
        (Mm(long_), Mm(short)) if landscape else (Mm(short), Mm(long_))
    )
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(MARGIN_MM))


def _text_width_mm(size: str, landscape: bool) -> float:
    short, long_ = PAGE_SIZES_MM[size]
    return (long_ if landscape else short) - 2 * MARGIN_MM


def _add_table(document: Any, table: Table, number: int | str) -> None:
    from docx.shared import Pt

    caption = document.add_paragraph(style="Caption")
    caption.add_run(xml_safe(caption_title(number, table.title))).bold = True
    grid = table.grid()
    columns = len(table.columns)
    if columns and all(len(row) == columns for row in grid):
        _add_table_rows(document, table, grid)
    else:  # a row wider than the header: python-docx's cells, as they always were written
        _add_table_cells(document, table, grid)
    for note in table.notes:
        document.add_paragraph().add_run(xml_safe(note)).font.size = Pt(TABLE_PT)


def _add_table_cells(document: Any, table: Table, grid: list[list[str]]) -> None:
    """The table written cell by cell through python-docx (~0.3 CPU s for the demo's per-lesion
    table); ``_add_table_rows`` writes the same XML at once."""
    from docx.shared import Pt

    word_table = document.add_table(rows=len(grid), cols=len(table.columns))
    # every cell once: ``Table.cell(r, c)`` lists all cells on each call (quadratic in the
    # table's size; most of the Word file's time on a large table)
    cells = word_table._cells
    columns = len(table.columns)
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            cell = cells[r * columns + c]
            cell.text = xml_safe(text)
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(TABLE_PT)
                run.bold = r == 0 or (r > 0 and table.rows[r - 1].heading)
            if r == 0:
                _border(cell, "top", 12)
                _border(cell, "bottom", 6)
            if r == len(grid) - 1:
                _border(cell, "bottom", 12)


def _add_table_rows(document: Any, table: Table, grid: list[list[str]]) -> None:
    """``_add_table_cells``' XML, its rows built as one string and parsed once: the table
    itself (properties, column grid, width from the page) is python-docx's ``add_table`` with
    no rows, and every row what ``_add_table_cells`` gives a cell (its width, one paragraph
    with one run: bold or not, 8 pt, the text split at tabs and line breaks as python-docx's
    ``Run.text`` splits it; the header's and last row's borders): the same bytes
    (tests/test_report_docx.py compares the two on varied tables)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Emu

    columns = len(table.columns)
    word_table = document.add_table(rows=0, cols=columns)
    section = document.sections[-1]  # python-docx spreads the text width evenly, in EMU
    text_width = section.page_width - section.left_margin - section.right_margin
    width = Emu(text_width // columns).twips
    size = 2 * TABLE_PT  # w:sz is in half-points
    last = len(grid) - 1
    rows = []
    for r, row in enumerate(grid):
        bold = "<w:b/>" if r == 0 or table.rows[r - 1].heading else '<w:b w:val="0"/>'
        edges = []
        if r == 0:
            edges += [("top", 12), ("bottom", 6)]
        if r == last:
            edges.append(("bottom", 12))
        borders = "".join(
            f'<w:{edge} w:val="single" w:sz="{sz}" w:color="000000"/>' for edge, sz in edges
        )
        properties = f'<w:tcW w:type="dxa" w:w="{width}"/>'
        if borders:
            properties += f"<w:tcBorders>{borders}</w:tcBorders>"
        run_start = (
            f"<w:tc><w:tcPr>{properties}</w:tcPr>"
            f'<w:p><w:r><w:rPr>{bold}<w:sz w:val="{size}"/></w:rPr>'
        )
        rows.append("<w:tr>")
        rows.extend(f"{run_start}{_run_content(xml_safe(text))}</w:r></w:p></w:tc>" for text in row)
        rows.append("</w:tr>")
    parsed = parse_xml(f"<w:tbl {nsdecls('w')}>{''.join(rows)}</w:tbl>")
    word_table._tbl.extend(list(parsed))


_BREAKS = re.compile(r"([\t\r\n])")


def _run_content(text: str) -> str:
    """A run's content for ``text`` as python-docx's ``Run.text`` writes it: a ``w:t`` per
    stretch of characters (``xml:space="preserve"`` where it starts or ends with white
    space), ``w:tab`` for a tab, ``w:br`` for a line break or carriage return."""
    from xml.sax.saxutils import escape

    parts = []
    for piece in _BREAKS.split(text):
        if piece == "\t":
            parts.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            parts.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
            parts.append(f"<w:t{space}>{escape(piece)}</w:t>")
    return "".join(parts)


def write_docx(
    report: Report,
    path: Path,
    *,
    page_size: str = "A4",
    orientation: str = "portrait",
    figures: Callable[[], list[Figure]] | None = None,
) -> None:
    """The manuscript (see the module docstring) at ``path``. ``figures``: where the report's
    figures are still being drawn, a function that waits for them (called once the tables
    before them are laid out)."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.shared import Mm, Pt

    portrait_default = orientation == "portrait"
    document = Document()
    stamp = fixed_timestamp()
    core = document.core_properties
    core.created = stamp
    core.modified = stamp
    core.last_printed = stamp
    core.author = "rtoutcomes"
    core.last_modified_by = "rtoutcomes"
    # Word holds no formulas, but XML refuses most control characters: xml_safe everywhere.
    title = xml_safe(report.title)
    core.title = title[:255]  # the property's limit in Word
    core.revision = 1
    normal = document.styles["Normal"]
    normal.font.size = Pt(10)
    document.styles["Caption"].font.size = Pt(9)
    _set_page(document.sections[0], page_size, not portrait_default)
    document.add_heading(title, level=1)
    if report.methods:
        document.add_heading("Statistical methods", level=2)
        document.add_paragraph(xml_safe(report.methods))
    document.add_heading("Tables", level=2)
    landscape = not portrait_default

    def page(wanted: bool) -> None:
        nonlocal landscape
        if wanted != landscape:
            _set_page(document.add_section(WD_SECTION.NEW_PAGE), page_size, wanted)
            landscape = wanted

    def tables(chosen: list[Table], prefix: str) -> None:
        for number, table in enumerate(chosen, start=1):
            wide = table_width_mm(table) > _text_width_mm(page_size, False)
            page(wide or not portrait_default)
            _add_table(document, table, f"{prefix}{number}")

    tables([t for t in report.tables if not t.supplement], "")
    drawn = report.figures if figures is None else figures()
    main = [f for f in drawn if f.section == "main"]
    if main:
        page(not portrait_default)
        document.add_heading("Figures", level=2)
        text_width = _text_width_mm(page_size, landscape)
        for number, figure in enumerate(main, start=1):
            width_mm = min(_figure_width_mm(figure.rendered.png), text_width)
            document.add_picture(io.BytesIO(figure.rendered.png), width=Mm(width_mm))
            caption = document.add_paragraph(style="Caption")
            caption.add_run(f"Figure {number}. ").bold = True
            caption.add_run(xml_safe(figure.caption))
    supplement = [t for t in report.tables if t.supplement]
    if supplement:
        page(not portrait_default)
        document.add_heading("Supplementary tables", level=2)
        tables(supplement, "S")
    if report.warnings:
        page(not portrait_default)
        document.add_heading("Checklist before submission", level=2)
        document.add_paragraph(
            "Each point below was raised by the analysis; resolve or justify it, then tick it."
        )
        for warning in report.warnings:
            document.add_paragraph(f"\u2610 {xml_safe(warning)}", style="List Bullet")
    document.save(str(path))
    fix_zip_times(path, stamp)


def _figure_width_mm(png: bytes) -> float:
    """The figure's drawn width: pixels at its 300 dpi."""
    import struct

    width_px = struct.unpack(">I", png[16:20])[0]  # IHDR width
    return width_px / 300 * 25.4
