"""manuscript.docx read back with python-docx: page size and orientation from the study file,
wide tables in landscape sections, numbered captions, figures embedded at their width, the
warnings as a checklist at the end, fonts >= 8 pt, hostile text as plain text."""

from __future__ import annotations

import copy
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
