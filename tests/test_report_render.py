"""Report rendering from result dicts: tables, figures, writers, determinism (no estimator)."""

from __future__ import annotations

import copy
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from rtoutcomes.report import fmt
from rtoutcomes.report.build import build_report, write_report
from rtoutcomes.report.figures import Curve
from rtoutcomes.report.step_curves import at_risk

KM_A = {
    "time": [2.0, 5.0, 7.0, 12.0],
    "estimate": [0.75, 0.5, 0.5, 0.0],
    "std_err": [0.2, 0.3, 0.3, None],
    "lower": [0.4, 0.2, 0.2, None],
    "upper": [1.0, 0.9, 0.9, None],
    "n_risk": [4, 3, 2, 1],
    "n_event": [1, 1, 0, 1],
    "n_censor": [0, 0, 1, 0],
}
KM_B = {
    "time": [3.0, 9.0],
    "estimate": [0.5, 0.5],
    "std_err": [0.3, 0.3],
    "lower": [0.2, 0.2],
    "upper": [0.9, 0.9],
    "n_risk": [2, 1],
    "n_event": [1, 0],
    "n_censor": [0, 1],
}


def _km_part(km: dict[str, Any], n: int, events: int, median: float | None) -> dict[str, Any]:
    return {
        "n": n,
        "events": events,
        "km": km,
        "median": {"estimate": median, "lower": 2.0, "upper": None},
        "rates": [{"time": 6.0, "estimate": 0.5, "lower": 0.2, "upper": 0.9, "n_risk": 2}],
    }


def _term(term: str, covariate: str, hr: float, p: float) -> dict[str, Any]:
    return {
        "term": term,
        "covariate": covariate,
        "coef": 0.1,
        "se": 0.2,
        "hr": hr,
        "lower": hr / 2,
        "upper": hr * 2,
        "z": 0.5,
        "p": p,
    }


def results() -> dict[str, Any]:
    model = {
        "covariates": ["grade"],
        "n": 6,
        "events": 4,
        "dropped": 1,
        "robust": False,
        "terms": [_term("G1 vs G2-G3", "grade", 0.5, 0.0004)],
        "loglik": -5.0,
        "warnings": ["4 events for 1 coefficient(s): 4.0 events per variable (< 10)"],
        "logrank": {"statistic": 3.2, "df": 1, "p": 0.07},
    }
    model2 = {
        **model,
        "covariates": ["grade", "age"],
        "loglik": -4.0,
        "terms": [_term("G1 vs G2-G3", "grade", 0.6, 0.2), _term("per 10 years", "age", 1.1, 0.8)],
    }
    endpoint = {
        **_km_part(KM_A, 6, 4, 5.0),
        "label": "Overall survival",
        "unit": "patient",
        "cluster": None,
        "dropped": 0,
        "follow_up": {
            "reverse_km": {"estimate": 9.0, "lower": 7.0, "upper": None},
            "observed": {"median": 6.0, "min": 2.0, "max": 12.0},
        },
        "groups": {
            "grade": {
                "label": "Histological grade",
                "dropped": 0,
                "order": ["G1", "G2-G3"],
                "logrank": {"statistic": 3.2, "df": 1, "p": 0.07},
                "levels": {"G1": _km_part(KM_A, 4, 3, 5.0), "G2-G3": _km_part(KM_B, 2, 1, None)},
            }
        },
        "univariate": {"grade": model},
        "multivariate": model2,
        "nested": [
            {**model, "lr_test": None},
            {**model2, "lr_test": {"statistic": 2.0, "df": 1, "p": 0.157}},
        ],
    }
    return {
        "study": {
            "title": "Test study",
            "source": "table",
            "time_unit": "months",
            "rates_at": [6.0],
            "km": {"conf_type": "log", "conf_level": 0.95},
            "cox": {"ties": "efron"},
            "thresholds": {"events_per_variable": 10, "ph_alpha": 0.05},
            "figure_width_mm": 85,
            "manuscript": {"page_size": "A4", "orientation": "portrait"},
            "figures": {
                "max_time": None,
                "break_time": None,
                "confidence_bands": False,
                "panels": [],
                "formats": ["png", "svg", "tiff", "pdf"],
            },
            "endpoints": {
                "OS": {
                    "time_column": "t",
                    "event_column": "e",
                    "event_values": ["1"],
                    "cluster": None,
                    "unit": "patient",
                    "label": "Overall survival",
                }
            },
            "covariates": {"grade": {"label": "Histological grade"}, "age": {"label": "Age"}},
        },
        "endpoints": {"OS": endpoint},
        "cohort": {},
        "provenance": {
            "software": {"rtoutcomes": "0.1.0", "python": "3.11", "numpy": "2", "scipy": "1"},
            "study_file": {"name": "s.yaml", "sha256": "ab" * 32},
            "data": {"name": "d.csv", "sha256": "cd" * 32},
        },
        "warnings": ["OS, univariate grade: 4 events"],
    }


def test_largest_remainder_adds_up() -> None:
    counts = [5, 11, 8, 5, 3, 3, 2]  # the model study's histology families (n = 37)
    shares = fmt.largest_remainder(counts)
    assert sum(round(s * 10) for s in shares) == 1000
    assert shares == [13.5, 29.8, 21.6, 13.5, 8.1, 8.1, 5.4]  # 29.73 has the largest remainder
    assert fmt.largest_remainder([1, 1, 1]) == [33.4, 33.3, 33.3]
    assert fmt.n_percent([24, 13]) == ["24 (64.9%)", "13 (35.1%)"]


def test_p_value_and_limits() -> None:
    assert [fmt.p_value(p) for p in (0.0001, 0.0094, 0.0123, 0.5, None)] == [
        "<0.001",
        "0.009",
        "0.01",
        "0.50",
        "NA",
    ]
    assert fmt.with_limits(0.183, 0.077, None, 3) == "0.183 (0.077\u2013NR)"
    assert [fmt.p_statement(p) for p in (0.0004, 0.04)] == ["p < 0.001", "p = 0.04"]


def test_ratios_never_print_zero_or_false_precision() -> None:
    # a Cox fit from sparse data: HR 2e-5 (1e-7 to 0.004), another 5.2 (1.1 to 230000)
    assert fmt.ratio_with_limits(2e-5, 1e-7, 0.004, 3) == "<0.001 (<0.001\u20130.004)"
    assert fmt.ratio_with_limits(5.2, 1.1, 2.3e5, 3) == "5.200 (1.100\u2013>1000)"
    assert fmt.ratio_with_limits(0.0005, 0.001, 1000.0, 3) == "<0.001 (0.001\u20131000.000)"
    assert fmt.ratio_with_limits(0.004, 0.001, 0.02, 2) == "<0.01 (<0.01\u20130.02)"
    assert fmt.ratio(float("inf")) == "NA"
    # the same numbers as before wherever they can be printed
    assert fmt.ratio_with_limits(0.183, 0.077, 0.436, 3) == fmt.with_limits(0.183, 0.077, 0.436, 3)


def test_numbers_at_risk_follow_r() -> None:
    curve = Curve("a", KM_A, 4)
    assert at_risk(curve, [0, 2, 3, 7, 12, 13]) == [4, 4, 3, 2, 1, 0]


def test_tables_hold_the_numbers() -> None:
    report = build_report(results())
    keys = [t.key for t in report.tables]
    assert keys == ["survival_summary", "table3_univariate", "table4_multivariate", "table5_nested"]
    summary = report.tables[0].grid()
    assert summary[1][:5] == ["Overall survival", "patient", "6", "4", "5.0 (2.0\u2013NR)"]
    assert summary[1][5] == "50.0 (20.0\u201390.0)"
    table3 = report.tables[1].grid()
    assert table3[1] == [
        "Histological grade",
        "G1 vs G2-G3",
        "0.500 (0.250\u20131.000)",
        "<0.001",
        "0.07",
    ]
    assert any("events per variable" in note for note in report.tables[1].notes)
    table5 = report.tables[3].grid()
    assert table5[1][6] == "" and table5[2][6] == "2.000 (1), 0.16" and table5[3][6] == ""
    assert [f.key for f in report.figures] == ["forest_OS", "km_OS", "km_OS_by_grade"]
    assert "Efron's method" in report.methods


def _write(out: Path) -> dict[str, bytes]:
    write_report(build_report(copy.deepcopy(results())), out)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_outputs_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _write(tmp_path / "a")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    second = _write(tmp_path / "b")
    assert sorted(first) == sorted(second)
    for name in first:
        if name.endswith((".xlsx", ".docx")):
            continue  # their embedded dates follow SOURCE_DATE_EPOCH
        assert first[name] == second[name], name
    third = _write(tmp_path / "c")
    assert third == second
    assert "report.html" in first and "tables/table3_univariate.csv" in first
    assert "figures/km_OS_by_grade.png" in first and "figures/km_OS.svg" in first
    with zipfile.ZipFile(tmp_path / "c" / "manuscript.docx") as docx:
        assert {i.date_time for i in docx.infolist()} == {(2023, 11, 14, 22, 13, 20)}
        assert b"<dcterms:created" in docx.read("docProps/core.xml")
        assert b"2023-11-14T22:13:20" in docx.read("docProps/core.xml")


def test_html_is_self_contained(tmp_path: Path) -> None:
    _write(tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert html.count('src="data:image/svg+xml;base64,') == 3  # forest plot, two KM figures
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "sha256:" + "ab" * 32 in html
    assert "Table 3. Univariate Cox regression" in html


@pytest.mark.parametrize("width_mm", [85, 174])
def test_figures_at_journal_widths(width_mm: int) -> None:
    import io

    from PIL import Image

    from rtoutcomes.report.figures import km_figure

    rendered = km_figure(
        [Curve("a", KM_A, 4), Curve("b", KM_B, 2)],
        title="t",
        time_unit="months",
        ylabel="Overall survival",
        p_text="p = 0.07",
        width_mm=width_mm,
    )
    image = Image.open(io.BytesIO(rendered.png))
    assert abs(image.size[0] - width_mm / 25.4 * 300) < 1  # 1003 px for 85 mm at 300 dpi
    assert round(image.info["dpi"][0]) == 300
    svg_width = re.search(rb'<svg[^>]* width="([0-9.]+)pt"', rendered.svg)
    assert svg_width and abs(float(svg_width.group(1)) - width_mm / 25.4 * 72) < 0.01
    assert b"<dc:date>" not in rendered.svg  # no creation date in the SVG metadata


def test_word_and_excel_hold_every_table(tmp_path: Path) -> None:
    from docx import Document
    from openpyxl import load_workbook

    report = build_report(results())
    write_report(report, tmp_path)
    document = Document(str(tmp_path / "manuscript.docx"))
    assert len(document.tables) == len(report.tables)
    table3 = document.tables[1]
    assert [c.text for c in table3.rows[1].cells] == report.tables[1].grid()[1]
    assert document.core_properties.author == "rtoutcomes"
    workbook = load_workbook(tmp_path / "tables.xlsx")
    assert workbook.sheetnames == [t.key for t in report.tables]
    sheet = workbook["table3_univariate"]
    assert sheet["A1"].value == "Table 3. Univariate Cox regression"
    assert [c.value for c in sheet[3]] == report.tables[1].grid()[1]
