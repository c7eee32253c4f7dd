"""Proportional-hazards tests in the study results and the report: results.json ``ph_test``,
the PH p columns of Tables 3 and 4, the warning when a global p < 0.05, the methods sentence."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from rtoutcomes.cli import main
from rtoutcomes.report.build import build_report
from test_report_render import results as render_results

HERE = Path(__file__).parent
LUNG = HERE / "reference" / "fixtures" / "study_lung.csv"


def _ph(p_terms: list[tuple[str, int, float]], p_global: float) -> dict[str, Any]:
    return {
        "method": "cox.zph (survival 3.x score test), KM transform",
        "transform": "km",
        "global": {"statistic": 4.0, "df": sum(df for _, df, _ in p_terms), "p": p_global},
        "terms": [{"covariate": c, "statistic": 1.0, "df": df, "p": p} for c, df, p in p_terms],
    }


def test_tables_show_ph_columns_when_results_have_them() -> None:
    res = copy.deepcopy(render_results())
    os_ = res["endpoints"]["OS"]
    os_["univariate"]["grade"]["ph_test"] = _ph([("grade", 1, 0.031)], 0.031)
    os_["multivariate"]["ph_test"] = _ph([("grade", 1, 0.2), ("age", 1, 0.0004)], 0.004)
    report = build_report(res)
    table3 = report.tables[1].grid()
    assert table3[0][-1] == "OS PH p"
    assert table3[1][-1] == "0.03"
    table4 = report.tables[2].grid()
    assert table4[0] == ["Variable", "Comparison", "OS HR (95% CI)", "OS p", "OS PH p"]
    assert [row[-1] for row in table4[1:3]] == ["0.20", "<0.001"]
    assert table4[-1] == ["PH global test", "", "", "", "0.004"]
    assert any("cox.zph" in note for note in report.tables[1].notes)
    assert (
        "scaled Schoenfeld residual test of Grambsch and Therneau as R's cox.zph "
        "(survival 3.x), KM transform" in report.methods
    )


def test_nested_table_has_the_ph_column_like_tables_3_and_4() -> None:
    res = copy.deepcopy(render_results())
    for model in res["endpoints"]["OS"]["nested"]:
        covariates = model["covariates"]
        model["ph_test"] = _ph([(c, 1, 0.5 if c == "grade" else 0.02) for c in covariates], 0.04)
    table5 = build_report(res).tables[3].grid()
    assert table5[0][5] == "PH p"
    body = [row for row in table5[1:] if row[2] != "PH global test"]
    assert [row[5] for row in body if row[2].startswith("Histological grade")] == ["0.50"] * (
        len([r for r in body if r[2].startswith("Histological grade")])
    )
    assert [row[5] for row in table5 if row[2] == "PH global test"] == ["0.04"] * len(
        res["endpoints"]["OS"]["nested"]
    )


def test_tables_without_ph_results_are_unchanged() -> None:
    report = build_report(render_results())
    assert not any("PH" in c for t in report.tables for c in t.columns)
    assert "cox.zph" not in report.methods


def test_lung_study_reports_the_karno_ph_violation(tmp_path: Path) -> None:
    """lung: ph.karno's univariate model fails the PH test (R's cox.zph p = 0.008): results.json
    holds the test for every model, the report warns and prints the PH columns."""
    config = yaml.safe_load((HERE / "data" / "study_lung.yaml").read_text())
    config["data"] = str(LUNG)
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / "out"
    assert main(["analyze", str(LUNG), "--config", str(study), "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    os_ = results["endpoints"]["OS"]
    models = [*os_["univariate"].values(), os_["multivariate"], *os_["nested"]]
    assert all(m["ph_test"]["transform"] == "km" for m in models)
    karno = os_["univariate"]["karno"]["ph_test"]
    assert karno["global"]["p"] < 0.01 and karno["terms"][0]["covariate"] == "karno"
    assert [t["df"] for t in os_["multivariate"]["ph_test"]["terms"]] == [1, 1, 2]
    flagged = [w for w in results["warnings"] if "proportional hazards in doubt" in w]
    assert flagged and all("karno" in w for w in flagged)
    html = (out / "report.html").read_text()
    assert "proportional hazards in doubt" in html and "PH global test" in html
    assert "Proportional hazards were checked" in html
