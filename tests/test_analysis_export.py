"""analysis/<endpoint>.csv: the analysed rows with time, status, covariates and the reasons,
enough to re-run the analysis elsewhere; formula-like text stays inert."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from rtoutcomes.cli import main
from rtoutcomes.report.tabular_files import write_analysis_csvs
from rtoutcomes.study import parse_study
from rtoutcomes.study.analysis_export import analysis_frames

HERE = Path(__file__).parent


def test_lung_export_reproduces_the_analysed_rows(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(HERE / "reference" / "fixtures" / "study_lung.csv"), "--config",
                 str(HERE / "data" / "study_lung.yaml"), "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    frame = pd.read_csv(out / "analysis" / "OS.csv", keep_default_na=False)
    os_ = results["endpoints"]["OS"]
    assert len(frame) == os_["n"] and int(frame["status"].sum()) == os_["events"]
    assert list(frame.columns)[:2] == ["time", "status"]
    assert {"sex", "ecog", "age65", "age", "karno", "wtloss"} <= set(frame.columns)
    assert set(frame["sex"]) == {"male", "female"} and "" in set(frame["ecog"])
    with_inst = pd.read_csv(out / "analysis" / "OS_inst.csv")
    assert "inst" in with_inst.columns  # the cluster column travels with its rows


def test_registry_export_has_reasons_and_is_inert(tmp_path: Path) -> None:
    from clinical_registry import build_registry
    from rtoutcomes.study.registry_table import build_registry_data, endpoint_tables

    tables = build_registry()
    for name in ("patients", "lesions", "sbrt_courses", "assessments", "patient_events",
                 "screened_candidates", "toxicities"):
        if name in tables and "patient_id" in tables[name]:
            tables[name]["patient_id"] = tables[name]["patient_id"].replace("P1", "=1+2")
    study = parse_study({"title": "t", "db": "sqlite:///x.db", "endpoints": {"LC": {}, "OS": {}},
                         "analyses": {"groups": ["grade"]}})
    data = build_registry_data(tables, study)
    frames = analysis_frames(study, endpoint_tables(study, data))
    write_analysis_csvs(frames, tmp_path)
    with (tmp_path / "LC.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["patient_id"] == "'=1+2" and rows[0]["lesion_id"] == "L1"
    assert rows[0]["status"] == "1" and rows[0]["lc_source"] == "scans"
    assert rows[0]["lc_date"] == "2015-10-05" and "lc_cr_status" in rows[0]
    assert rows[0]["grade"] == "G2-G3"
    with (tmp_path / "OS.csv").open(encoding="utf-8", newline="") as handle:
        os_rows = list(csv.DictReader(handle))
    assert os_rows[0]["os_reason"].startswith("death on 2016-03-01")
