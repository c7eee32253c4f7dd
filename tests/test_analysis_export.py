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
    assert (
        main(
            [
                "analyze",
                str(HERE / "reference" / "fixtures" / "study_lung.csv"),
                "--config",
                str(HERE / "data" / "study_lung.yaml"),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
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
    for name in (
        "patients",
        "lesions",
        "sbrt_courses",
        "assessments",
        "patient_events",
        "screened_candidates",
        "toxicities",
    ):
        if name in tables and "patient_id" in tables[name]:
            tables[name]["patient_id"] = tables[name]["patient_id"].replace("P1", "=1+2")
    study = parse_study(
        {
            "title": "t",
            "db": "sqlite:///x.db",
            "endpoints": {"LC": {}, "OS": {}},
            "analyses": {"groups": ["grade"]},
        }
    )
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


def test_fast_writer_writes_pandas_bytes(tmp_path: Path) -> None:
    # the writer formats each distinct value once; its bytes are pandas' to_csv of the frame
    # with every cell through inert, including quoting, missing values and formula-like text
    import numpy as np

    from rtoutcomes.report.tabular_files import FLOAT_FORMAT, inert

    frame = pd.DataFrame(
        {
            "patient_id": ["=1+2", "P, 2", 'say "hi"', "+3", "-x", "line\nbreak", "@y", "\tz"],
            "time": [1.0, 2.5, np.nan, 1e15, 1 / 3, 123456789012.0, 7.0, np.inf],
            "status": [1, 0, 1, 1, 0, 0, 1, 0],
            "grade": ["G1", None, "G2-G3", np.nan, "G1", "G1", "=cmd", "G2-G3"],
            "age": [60.0, 61.0, 62.0, np.nan, 70.0, 80.0, 90.0, 45.5],
        }
    )
    odd = frame.assign(time=[-0.0, *frame["time"][1:]], grade=[1, *frame["grade"][1:]])
    for name, table in (("fast", frame), ("odd", odd)):  # odd: -0.0, a number in a text column
        write_analysis_csvs({name: table}, tmp_path)
        expected = tmp_path / f"{name}_pandas.csv"
        table.map(inert).to_csv(
            expected, index=False, lineterminator="\n", float_format=FLOAT_FORMAT, encoding="utf-8"
        )
        assert (tmp_path / f"{name}.csv").read_bytes() == expected.read_bytes()
    assert b"'=1+2" in (tmp_path / "fast.csv").read_bytes()


def test_fast_writer_without_quoting_writes_pandas_bytes(tmp_path: Path) -> None:
    # no field to quote: the rows are written joined (the frame above takes the csv module's
    # path); the same bytes as pandas, across the writer's blocks of rows
    import numpy as np

    from rtoutcomes.report import tabular_files
    from rtoutcomes.report.tabular_files import FLOAT_FORMAT, inert

    rows = tabular_files.ROWS_PER_WRITE + 5
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(rows - 3)] + ["=1+2", "-x", "@y"],
            "time": np.arange(rows) / 7.0,
            "status": np.arange(rows) % 2,
            "grade": (["G1", None, "G2-G3"] * rows)[:rows],
        }
    )
    write_analysis_csvs({"plain": frame}, tmp_path)
    expected = tmp_path / "plain_pandas.csv"
    frame.map(inert).to_csv(
        expected, index=False, lineterminator="\n", float_format=FLOAT_FORMAT, encoding="utf-8"
    )
    assert (tmp_path / "plain.csv").read_bytes() == expected.read_bytes()
    one = pd.DataFrame({"note": ["", "a", ""]})  # a lone empty field is quoted: csv's path
    write_analysis_csvs({"one": one}, tmp_path)
    one.map(inert).to_csv(tmp_path / "one_pandas.csv", index=False, lineterminator="\n")
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "one_pandas.csv").read_bytes()


def test_fast_writer_text_cells_as_inert_makes_them(tmp_path: Path) -> None:
    # every formula start (carriage return too), numbers written as text, a str subclass
    from rtoutcomes.report.tabular_files import FLOAT_FORMAT, inert

    class Label(str):
        pass

    notes = ["\rcr", Label("=sub"), Label("plain"), "ok", "-1", "+x", "@a", "\tb", "=c", "x="]
    frame = pd.DataFrame({"note": notes, "n": range(len(notes))})
    write_analysis_csvs({"notes": frame}, tmp_path)
    expected = tmp_path / "notes_pandas.csv"
    frame.map(inert).to_csv(
        expected, index=False, lineterminator="\n", float_format=FLOAT_FORMAT, encoding="utf-8"
    )
    written = (tmp_path / "notes.csv").read_bytes()
    assert written == expected.read_bytes()
    assert b"'=sub" in written and b"'-1" in written and b"x=" in written
    # negative control: the cells as they are would differ
    frame.to_csv(expected, index=False, lineterminator="\n", encoding="utf-8")
    assert written != expected.read_bytes()
