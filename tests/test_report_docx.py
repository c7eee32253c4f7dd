"""manuscript.docx read back with python-docx: page size and orientation from the study file,
wide tables in landscape sections, numbered captions, figures embedded at their width, the
warnings as a checklist at the end, fonts >= 8 pt, hostile text as plain text."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT

from rtoutcomes.report.build import build_report, write_report
from rtoutcomes.report.document import Figure
from rtoutcomes.report.docx_file import table_width_mm
from rtoutcomes.report.figures import Axis, Curve, Panel, render, survival_figure
from rtoutcomes.report.table import Table
from test_report_render import KM_A, KM_B
from test_report_render import results as render_results

HOSTILE = "=cmd|' /C calc'!A0 <w:t>x</w:t> &amp;"


def _report(page_size: str = "A4", orientation: str = "portrait") -> Any:
    res = copy.deepcopy(render_results())
    res["study"]["manuscript"] = {"page_size": page_size, "orientation": orientation}
    res["warnings"] = ["OS, multivariate: 4 events for 2 coefficient(s)", HOSTILE]
    report = build_report(res)
    wide = Table(
        "wide", "A table with many columns", [f"Column {i} with a long name" for i in range(12)]
    )
    wide.add(*[f"0.123 (0.045\u20130.678) {i}" for i in range(12)])
    report.tables.append(wide)
    fig = survival_figure(
        [Panel([Curve("a", KM_A, 4), Curve("b", KM_B, 2)], "OS", "OS")], Axis("months")
    )
    report.figures.insert(0, Figure("figure2", "Composite.", render(fig), "main"))
    return report


@pytest.mark.parametrize(
    ("page_size", "width_mm", "height_mm"), [("A4", 210, 297), ("Letter", 215.9, 279.4)]
)
def test_page_size_and_landscape_sections(
    tmp_path: Path, page_size: str, width_mm: float, height_mm: float
) -> None:
    report = _report(page_size)
    write_report(report, tmp_path)
    document = Document(str(tmp_path / "manuscript.docx"))
    sections = document.sections
    first = sections[0]
    assert first.orientation == WD_ORIENT.PORTRAIT
    assert first.page_width.mm == pytest.approx(width_mm, abs=0.1)
    assert first.page_height.mm == pytest.approx(height_mm, abs=0.1)
    landscape = [s for s in sections if s.orientation == WD_ORIENT.LANDSCAPE]
    assert landscape and landscape[0].page_width.mm == pytest.approx(height_mm, abs=0.1)
    assert sections[-1].orientation == WD_ORIENT.PORTRAIT  # figures back in portrait
    assert table_width_mm(report.tables[-1]) > width_mm - 40  # why the wide table turned


def test_captions_figures_checklist_and_fonts(tmp_path: Path) -> None:
    report = _report()
    write_report(report, tmp_path)
    document = Document(str(tmp_path / "manuscript.docx"))
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    tables = [c for c in captions if c.startswith("Table ")]
    figures = [c for c in captions if c.startswith("Figure ")]
    assert [c.split(".")[0] for c in tables] == [
        f"Table {i}" for i in range(1, len(report.tables) + 1)
    ]
    assert tables[1] == "Table 2. Univariate Cox regression"  # the report's "Table 3." renumbered
    main = [f for f in report.figures if f.section == "main"]
    assert [c.split(".")[0] for c in figures] == [f"Figure {i}" for i in range(1, len(main) + 1)]
    assert len(document.inline_shapes) == len(main)
    assert document.inline_shapes[0].width.mm == pytest.approx(85, abs=0.5)  # its final size
    assert len(document.tables) == len(report.tables)
    texts = [p.text for p in document.paragraphs]
    checklist = texts.index("Checklist before submission")
    assert checklist > max(texts.index(c) for c in captions)  # after every table and figure
    assert texts[-1] == f"\u2610 {HOSTILE}"  # as text, not markup
    sizes = [
        run.font.size.pt
        for t in document.tables
        for row in t.rows
        for cell in row.cells
        for p in cell.paragraphs
        for run in p.runs
    ]
    assert sizes and min(sizes) >= 8
    notes = [r.font.size.pt for p in document.paragraphs for r in p.runs if r.font.size]
    assert min(notes) >= 8


def test_landscape_study_is_landscape_throughout(tmp_path: Path) -> None:
    write_report(_report("A4", "landscape"), tmp_path)
    sections = Document(str(tmp_path / "manuscript.docx")).sections
    assert {s.orientation for s in sections} == {WD_ORIENT.LANDSCAPE}


def test_manuscript_bytes_are_reproducible(tmp_path: Path) -> None:
    write_report(_report(), tmp_path / "a")
    write_report(_report(), tmp_path / "b")
    assert (tmp_path / "a" / "manuscript.docx").read_bytes() == (
        tmp_path / "b" / "manuscript.docx"
    ).read_bytes()


# texts python-docx's Run.text treats specially: tabs and line breaks (w:tab, w:br), white
# space at either end (xml:space="preserve"), markup characters, empty and blank cells
ODD_TEXTS = [
    "",
    " ",
    "  lead",
    "trail ",
    "a\tb",
    "\ttab first",
    "line\nbreak",
    "cr\r\nlf",
    "\n",
    "<w:t>&amp;</w:t> & < > \" '",
    "\u2264 0.05 \u2013 \u00b5m \U0001f600",
    "=SUM(A1:A2)",
    "x\x00y\x1bz",
]


def _varied_tables(seed: int) -> list[Table]:
    """Tables of 1-12 columns, with heading rows, a header-only table, a wide one (its own
    landscape section) and supplementary ones, their cells drawn from ``ODD_TEXTS`` and
    numbers."""
    import random

    pick = random.Random(seed)
    tables = []
    for t in range(8):
        columns = pick.choice([1, 2, 3, 5, 12])
        table = Table(
            f"t{t}",
            f"Table {t}. A title {pick.choice(ODD_TEXTS)}",
            [pick.choice([*ODD_TEXTS, "Covariate", "HR (95% CI)"]) for _ in range(columns)],
            supplement=t >= 5,
        )
        for _ in range(0 if t == 2 else pick.randint(1, 9)):
            if pick.random() < 0.2:
                table.section(pick.choice(["Age", " heading ", "a\tb"]))
            else:
                table.add(
                    *[pick.choice([*ODD_TEXTS, f"{pick.random():.3f}"]) for _ in range(columns)]
                )
        if pick.random() < 0.5:
            table.notes.append(pick.choice(ODD_TEXTS))
        tables.append(table)
    return tables


def _manuscript(tmp_path: Path, tables: list[Table], name: str, **page: str) -> bytes:
    from rtoutcomes.report.document import Report
    from rtoutcomes.report.docx_file import write_docx

    report = Report(title="Tables", results={}, tables=tables, methods="", warnings=["w"])
    write_docx(report, tmp_path / name, **page)
    return (tmp_path / name).read_bytes()


@pytest.mark.parametrize(
    ("seed", "page"),
    [
        (1, {}),
        (2, {"page_size": "Letter"}),
        (3, {"orientation": "landscape"}),
        (4, {"page_size": "Letter", "orientation": "landscape"}),
    ],
)
def test_tables_written_at_once_are_python_docx_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, page: dict[str, str]
) -> None:
    """Each table's rows written as one piece of XML (``_add_table_rows``) give the Word file
    python-docx's cell-by-cell API gives (``_add_table_cells``), byte for byte."""
    import rtoutcomes.report.docx_file as docx_file

    tables = _varied_tables(seed)
    at_once = _manuscript(tmp_path, tables, "rows.docx", **page)
    monkeypatch.setattr(docx_file, "_add_table_rows", docx_file._add_table_cells)
    assert _manuscript(tmp_path, tables, "cells.docx", **page) == at_once


def test_the_comparison_sees_one_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: white space kept without ``xml:space="preserve"`` (Word would drop
    it) is one attribute less in one cell, and the files differ."""
    import rtoutcomes.report.docx_file as docx_file

    table = Table("t", "T", ["a", "b"])
    table.add("x", "trail ")
    at_once = _manuscript(tmp_path, [table], "rows.docx")
    original = docx_file._run_content
    monkeypatch.setattr(
        docx_file, "_run_content", lambda text: original(text).replace(' xml:space="preserve"', "")
    )
    assert _manuscript(tmp_path, [table], "dropped.docx") != at_once
    monkeypatch.setattr(docx_file, "_add_table_rows", docx_file._add_table_cells)
    assert _manuscript(tmp_path, [table], "cells.docx") == at_once


def test_a_row_wider_than_the_header_is_written_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body row with more cells than the header (the report builds none, but a Table allows
    it) is left to python-docx's cell-by-cell path, as it always was."""
    import rtoutcomes.report.docx_file as docx_file

    def refused(*_: object) -> None:
        raise AssertionError("written at once")

    table = Table("t", "T", ["a"])
    table.add("x", "y")
    table.add("z")
    monkeypatch.setattr(docx_file, "_add_table_rows", refused)
    document = Document(io.BytesIO(_manuscript(tmp_path, [table], "wide.docx")))
    assert len(document.tables[0].rows) == 3
