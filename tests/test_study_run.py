"""``rtoutcomes run`` on a registry database: every output, the counts and the CLI's errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clinical_registry import build_registry
from rtoutcomes.cli import main
from rtoutcomes.study import parse_study
from rtoutcomes.study.run import run_on_tables

STUDY = {
    "title": "Registry test study",
    "db": "sqlite:///unused.db",
    "time_unit": "months",
    "rates_at": [6, 12],
    "endpoints": {"OS": {}, "PFS": {}, "LC": {}},
    "analyses": {
        "groups": ["grade"],
        "univariate": ["grade", "size"],
        "multivariate": {"LC": ["grade", "size"]},
    },
}


def test_registry_study_writes_every_output(tmp_path: Path) -> None:
    results = run_on_tables(parse_study(STUDY), build_registry(), tmp_path)
    for name in (
        "report.html",
        "results.json",
        "manuscript.docx",
        "tables.xlsx",
        "tables/table1_patients.csv",
        "tables/table2_lesions.csv",
        "tables/toxicity.csv",
        "tables/table3_univariate.csv",
        "figures/flow_chart.svg",
        "figures/flow_chart.png",
        "figures/km_LC_by_grade.png",
    ):
        assert (tmp_path / name).is_file(), name
    stored = json.loads((tmp_path / "results.json").read_text())
    lc = stored["endpoints"]["LC"]
    assert (lc["n"], lc["events"], lc["unit"], lc["cluster"]) == (7, 2, "lesion", "patient_id")
    assert stored["endpoints"]["OS"]["n"] == 6 and stored["endpoints"]["OS"]["events"] == 3
    assert lc["univariate"]["grade"]["robust"] is True
    assert lc["univariate"]["grade"]["terms"][0]["term"] == "G1 vs G2-G3"
    assert stored["cohort"]["flow"]["screened"] == 8
    assert stored["tables"]["table1_patients"]["rows"][0] == [
        "Age, years: median (range)",
        "55 (30\u201370)",
    ]
    # 2 LC events for 1 coefficient: the report warns
    assert any("events per variable" in w for w in stored["warnings"])
    html = (tmp_path / "report.html").read_text()
    assert "clustered by patient_id" in html and "events per variable" in html
    assert results["cohort"]["table2"]["n"] == 7


def test_run_command_on_a_registry_database(tmp_path: Path, db_url: str) -> None:
    """SQLite and PostgreSQL; the study file has no 'db': --db makes it a registry study."""
    import pandas as pd

    from rtoutcomes.registry.importer import import_registry
    from rtoutcomes.registry.migrate import init_registry

    folder = tmp_path / "csv"
    folder.mkdir()
    tables = build_registry()
    # the import refuses records after the cut-off, which this endpoint-edge registry has
    meta = tables["registry_meta"]
    tables["registry_meta"] = meta[meta["key"] != "data_cutoff_date"]
    tables["dosimetry"] = pd.DataFrame(
        columns=[
            "course_id",
            "tv_cc",
            "piv_cc",
            "tv_piv_cc",
            "dmax_gy",
            "coverage_pct",
            "ci",
            "nci",
            "hi",
            "source",
        ]
    )
    tables["systemic_therapies"] = pd.DataFrame(
        columns=["therapy_id", "patient_id", "therapy_type", "agent", "start_date", "end_date"]
    )
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    init_registry(db_url)
    import_registry(folder, db_url)
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({k: v for k, v in STUDY.items() if k != "db"}))
    assert main(["run", str(study), "--db", db_url, "--out", str(tmp_path / "out"), "--quiet"]) == 0
    stored = json.loads((tmp_path / "out" / "results.json").read_text())
    assert stored["endpoints"]["LC"]["n"] == 7
    name = stored["provenance"]["data"]["name"]
    assert name.endswith("/" + db_url.rsplit("/", 1)[-1]) and "@" not in name


def test_run_reports_study_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({**STUDY, "km": {"conf_typ": "log"}}))
    assert main(["run", str(study), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "key 'km.conf_typ': unknown key; did you mean 'conf_type'?" in err


def test_registry_report_is_byte_identical(tmp_path: Path) -> None:
    """Same registry, same study: same results.json, HTML, CSVs, figures, xlsx and docx."""

    def run(out: Path) -> dict[str, bytes]:
        run_on_tables(parse_study(STUDY), build_registry(), out)
        return {
            str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
        }

    first, second = run(tmp_path / "a"), run(tmp_path / "b")
    assert first == second
    assert "figures/flow_chart.svg" in first and "manuscript.docx" in first
