"""tables.docx: journal-style Word tables (three-line rules), deterministic bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rtoutcomes.io.outputs import xml_safe
from rtoutcomes.report.table import Table
from rtoutcomes.report.tabular_files import _fix_zip_times, fixed_timestamp


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


def write_docx(title: str, tables: list[Table], path: Path) -> None:
    from docx import Document
    from docx.shared import Pt

    # Word holds no formulas, but XML refuses most control characters: xml_safe everywhere.
    title = xml_safe(title)
    document = Document()
    stamp = fixed_timestamp()
    core = document.core_properties
    core.created = stamp
    core.modified = stamp
    core.last_printed = stamp
    core.author = "rtoutcomes"
    core.last_modified_by = "rtoutcomes"
    core.title = title[:255]  # the property's limit in Word
    core.revision = 1
    document.add_heading(title, level=1)
    for table in tables:
        paragraph = document.add_paragraph()
        paragraph.add_run(xml_safe(table.title)).bold = True
        grid = table.grid()
        word_table = document.add_table(rows=len(grid), cols=len(table.columns))
        for r, row in enumerate(grid):
            for c, text in enumerate(row):
                cell = word_table.cell(r, c)
                cell.text = xml_safe(text)
                for run in cell.paragraphs[0].runs:
                    run.font.size = Pt(8)
                    run.bold = r == 0 or (r > 0 and table.rows[r - 1].heading)
                if r == 0:
                    _border(cell, "top", 12)
                    _border(cell, "bottom", 6)
                if r == len(grid) - 1:
                    _border(cell, "bottom", 12)
        for note in table.notes:
            note_paragraph = document.add_paragraph()
            note_paragraph.add_run(xml_safe(note)).font.size = Pt(7)
    document.save(str(path))
    _fix_zip_times(path, stamp)
