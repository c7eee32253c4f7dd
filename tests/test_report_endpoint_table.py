"""The supplementary table of every lesion's endpoints with the reason for each: built from the
analysis rows, patient endpoints repeated per lesion, bounded for large registries (the rest in
analysis/<endpoint>.csv), after the main tables in report.html and as "Table S1" in a landscape
section of manuscript.docx."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT

from rtoutcomes.report.build import build_report, write_report
from rtoutcomes.report.endpoint_table import lesion_endpoint_table
from test_report_render import results as render_results

UNITS = {"LC": "lesion", "OS": "patient"}


def _frames(patients: int) -> dict[str, pd.DataFrame]:
    ids = [f"P{i:04d}" for i in range(patients)]
    lc = pd.DataFrame(
        {
            "patient_id": [p for p in ids for _ in (0, 1)],
            "lesion_id": [f"{p}-L{k}" for p in ids for k in (1, 2)],
            "time": [12.34, 3.0] * patients,
            "status": [1, 0] * patients,
            "lc_reason": ["diameter 44 mm >= 1.2 x baseline", "censored at the last scan"]
            * patients,
            "lc_cr_status": [1, 2] * patients,
        }
    )
    os_ = pd.DataFrame(
        {
            "patient_id": ids,
            "time": [30.0] * patients,
            "status": [0] * patients,
            "os_reason": ["censored at the last date known alive"] * patients,
        }
    )
    return {"LC": lc.iloc[::-1].reset_index(drop=True), "OS": os_}


def test_one_row_per_lesion_with_each_endpoints_reason() -> None:
    table = lesion_endpoint_table(_frames(2), UNITS, "months")
    assert table is not None and table.supplement
    assert table.columns == [
        "Patient",
        "Lesion",
        "LC: months, status",
        "LC: competing risks",
        "LC: reason",
        "OS: months, status",
        "OS: reason",
    ]
    assert [list(r.cells) for r in table.rows[:2]] == [
        [
            "P0000",
            "P0000-L1",
            "12.3, event",
            "local failure",
            "diameter 44 mm >= 1.2 x baseline",
            "30.0, censored",
            "censored at the last date known alive",
        ],
        [
            "P0000",
            "P0000-L2",
            "3.0, censored",
            "death without local failure",
            "censored at the last scan",
            "30.0, censored",
            "censored at the last date known alive",
        ],
    ]
    assert len(table.rows) == 4 and len(table.notes) == 1  # all shown: no bound note


def test_a_large_registry_is_bounded_and_says_where_the_rest_is() -> None:
    table = lesion_endpoint_table(_frames(300), UNITS, "months", max_rows=200)
    assert table is not None and len(table.rows) == 200
    assert "first 200 of 600 lesions" in table.notes[-1]
    assert "analysis/<endpoint>.csv" in table.notes[-1]


def test_no_table_without_a_lesion_endpoint() -> None:
    assert lesion_endpoint_table({"OS": _frames(2)["OS"]}, {"OS": "patient"}, "months") is None


def test_after_the_main_tables_in_html_and_word(tmp_path: Path) -> None:
    table = lesion_endpoint_table(_frames(3), UNITS, "months")
    assert table is not None
    report = build_report(copy.deepcopy(render_results()), supplement=[table])
    write_report(report, tmp_path)
    html = (tmp_path / "report.html").read_text()
    supplement = html.index("<h2>Supplementary tables</h2>")
    assert html.index('id="s1_endpoints_per_lesion"') > supplement > html.index("<h2>Tables</h2>")
    assert html.index('id="survival_summary"') < supplement
    assert html.index("<h2>Figures</h2>") < supplement < html.index("Supplementary figures")
    assert (tmp_path / "tables" / "s1_endpoints_per_lesion.csv").is_file()
    document = Document(str(tmp_path / "manuscript.docx"))
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions[-1] == "Table S1. Endpoints of each treated lesion and the reason for each"
    assert not any(c.startswith("Table S") for c in captions[:-1])
    assert len(document.tables[-1].rows) == 1 + 6
    # the wide table in a landscape section, the sections after it back in portrait
    orientations = [s.orientation for s in document.sections]
    assert WD_ORIENT.LANDSCAPE in orientations and orientations[0] == WD_ORIENT.PORTRAIT
