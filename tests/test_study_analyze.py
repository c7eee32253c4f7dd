"""``rtoutcomes analyze`` on flat tables: XLSX as CSV, bad tables named by row/column/value,
separation reported as a warning rather than a silent huge hazard ratio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from rtoutcomes.cli import main
from rtoutcomes.study import AnalysisTableError, parse_study
from rtoutcomes.study.run import analyze_file

HERE = Path(__file__).parent
LUNG = HERE / "reference" / "fixtures" / "study_lung.csv"

SMALL = {
    "title": "small",
    "time_unit": "months",
    "rates_at": [12],
    "endpoints": {"OS": {"time": "t", "event": "e", "event_values": [1]}},
    "covariates": {
        "grade": {
            "column": "grade",
            "type": "categorical",
            "reference": "G2-G3",
            "recode": {"G1": [1], "G2-G3": [2, 3]},
        },
        "size": {"column": "size", "type": "binary", "cut": 5},
    },
    "analyses": {"groups": ["grade"], "univariate": ["grade", "size"]},
}


def _table(**overrides: list[Any]) -> pd.DataFrame:
    data: dict[str, list[Any]] = {
        "t": [3.0, 5.0, 8.0, 12.0, 14.0, 20.0, 22.0, 30.0],
        "e": [1, 1, 0, 1, 0, 1, 1, 0],
        "grade": [1, 2, 3, 1, 2, 3, 1, 2],
        "size": [2.0, 6.0, 4.5, 5.0, 7.0, 3.0, 8.0, 1.0],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def _analyze(tmp_path: Path, table: pd.DataFrame, study: dict[str, Any] | None = None) -> Any:
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    return analyze_file(parse_study(study or SMALL, source="s.yaml"), path, tmp_path / "out")


def test_xlsx_gives_the_same_results_as_csv(tmp_path: Path) -> None:
    xlsx = tmp_path / "lung.xlsx"
    pd.read_csv(LUNG).to_excel(xlsx, index=False)
    config = str(HERE / "data" / "study_lung.yaml")
    for name, data in (("csv", LUNG), ("xlsx", xlsx)):
        assert (
            main(
                ["analyze", str(data), "--config", config, "--out", str(tmp_path / name), "--quiet"]
            )
            == 0
        )
    from_csv = json.loads((tmp_path / "csv" / "results.json").read_text())
    from_xlsx = json.loads((tmp_path / "xlsx" / "results.json").read_text())
    assert from_csv["endpoints"] == from_xlsx["endpoints"]
    assert from_csv["provenance"]["data"]["sha256"] != from_xlsx["provenance"]["data"]["sha256"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"t": [3.0, 5.0, "x", 12.0, 14.0, 20.0, 22.0, 30.0]},
            "endpoint 'OS': column 't', row 4: value 'x' is not a number",
        ),
        (
            {"t": [3.0, 5.0, -1.0, 12.0, 14.0, 20.0, 22.0, 30.0]},
            "endpoint 'OS': column 't', row 4: time -1.0 is negative",
        ),
        (
            {"grade": [1, 2, 3, 1, 4, 3, 1, 2]},
            "covariate 'grade': column 'grade', row 6: value '4' is in no level of the recode",
        ),
        (
            {"size": [2.0, 6.0, 4.5, 5.0, "big", 3.0, 8.0, 1.0]},
            "covariate 'size': column 'size', row 6: value 'big' is not a number",
        ),
    ],
)
def test_bad_tables_name_row_column_value(
    tmp_path: Path, overrides: dict[str, list[Any]], message: str
) -> None:
    with pytest.raises(AnalysisTableError) as info:
        _analyze(tmp_path, _table(**overrides))
    assert message in str(info.value)


def test_missing_column(tmp_path: Path) -> None:
    with pytest.raises(AnalysisTableError, match="covariate 'grade': column 'grade' is not in"):
        _analyze(tmp_path, _table().drop(columns=["grade"]))


def test_missing_values_dropped_per_model_and_counted(tmp_path: Path) -> None:
    results = _analyze(tmp_path, _table(size=[2.0, None, 4.5, 5.0, 7.0, None, 8.0, 1.0]))
    os_ = results["endpoints"]["OS"]
    assert os_["univariate"]["size"]["n"] == 6 and os_["univariate"]["size"]["dropped"] == 2
    assert os_["univariate"]["grade"]["n"] == 8 and os_["univariate"]["grade"]["dropped"] == 0
    assert os_["univariate"]["size"]["terms"][0]["term"] == ">5 vs <=5"


def test_separation_is_a_warning_in_the_report(tmp_path: Path) -> None:
    # no event among G1: the likelihood is monotone and the HR for G1 runs to 0
    table = _table(e=[0, 1, 1, 0, 1, 1, 0, 1])
    results = _analyze(tmp_path, table)
    model = results["endpoints"]["OS"]["univariate"]["grade"]
    assert any("monoton" in w.lower() or "infinite" in w.lower() for w in model["warnings"]), model[
        "warnings"
    ]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Warnings" in html


def test_run_with_db_on_a_table_study_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "s.yaml"
    study.write_text(yaml.safe_dump({**SMALL, "data": "table.csv"}))
    assert main(["run", str(study), "--db", "sqlite:///x.db", "--out", str(tmp_path)]) == 2
    assert "--db applies to registry studies" in capsys.readouterr().err


def test_run_on_the_study_files_own_table_with_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _table().to_csv(tmp_path / "table.csv", index=False)
    study = tmp_path / "s.yaml"
    study.write_text(yaml.safe_dump({**SMALL, "data": "table.csv"}))  # relative to the file
    assert main(["run", str(study), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "reading table.csv" in err and "analysing OS" in err and "report written" in err
    stored = json.loads((tmp_path / "out" / "results.json").read_text())
    assert stored["endpoints"]["OS"]["n"] == 8
    assert stored["provenance"]["study_file"]["name"] == "s.yaml"


def test_event_values_matching_no_value_is_an_error(tmp_path: Path) -> None:
    """``[Dead]`` on an alive/dead column would censor every row: refused, naming the values."""
    study = {**SMALL, "endpoints": {"OS": {"time": "t", "event": "e", "event_values": ["Dead"]}}}
    table = _table(e=["dead", "dead", "alive", "dead", "alive", "dead", "dead", "alive"])
    with pytest.raises(AnalysisTableError) as info:
        _analyze(tmp_path, table, study)
    assert (
        "endpoint 'OS': column 'e': no value matches event_values [Dead] "
        "(values found: alive, dead)"
    ) in str(info.value)
    fine = {**SMALL, "endpoints": {"OS": {"time": "t", "event": "e", "event_values": ["dead"]}}}
    assert _analyze(tmp_path, table, fine)["endpoints"]["OS"]["events"] == 5


def test_row_numbers_are_the_ones_the_spreadsheet_shows(tmp_path: Path) -> None:
    """The row named in the message holds the bad value when the XLSX is opened (header = 1)."""
    import openpyxl

    xlsx = tmp_path / "bad.xlsx"
    _table(t=[3.0, 5.0, 8.0, 12.0, "soon", 20.0, 22.0, 30.0]).to_excel(xlsx, index=False)
    with pytest.raises(AnalysisTableError, match=r"row (\d+)") as info:
        analyze_file(parse_study(SMALL, source="s.yaml"), xlsx, tmp_path / "out")
    import re

    row = int(re.search(r"row (\d+)", str(info.value)).group(1))  # type: ignore[union-attr]
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None and sheet.cell(row=row, column=1).value == "soon"
