"""Complete tables: missing values as Unknown rows (percentages of all rows, adding to 100), n
beside a median when some values are missing, schedule groups from the study file or one row
per distinct schedule, the data cut-off and registry state in the methods, Table 1 of a flat
analysis table (gtsummary's tbl_summary view, quartiles as R's quantile type 7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clinical_registry import build_registry
from rtoutcomes.report.cohort_tables import cohort_tables
from rtoutcomes.study import parse_study
from rtoutcomes.study.characteristics import spread
from rtoutcomes.study.cohort import cohort_facts, schedule_counts
from rtoutcomes.study.errors import StudyFileError
from rtoutcomes.study.registry_table import build_registry_data

HERE = Path(__file__).parent
STUDY = {"title": "department", "db": "sqlite:///unused.db", "endpoints": {"OS": {}, "LC": {}}}


def _department() -> dict[str, pd.DataFrame]:
    """The small test registry as another department's: one grade missing, one course with a
    Nakamura nCI, schedules the paper never used."""
    tables = build_registry()
    tables["patients"].loc[tables["patients"]["patient_id"] == "P2", "fnclcc_grade"] = np.nan
    courses = tables["sbrt_courses"]
    courses["total_dose_gy"] = [35.0, 35.0, 35.0, 24.0, 24.0, 35.0, 18.0]
    courses["fractions"] = [5, 5, 5, 3, 3, 5, 1]
    tables["dosimetry"] = pd.DataFrame({"course_id": ["C1"], "nci": [4.59], "source": ["tps"]})
    return tables


def _tables(study: dict[str, object]) -> list[list[str]]:
    parsed = parse_study(study)
    data = build_registry_data(_department(), parsed)
    table1, table2, _ = cohort_tables(cohort_facts(data, parsed.schedule_groups))
    return [list(r.cells) for r in table1.rows + table2.rows]


def _section(rows: list[list[str]], heading: str) -> dict[str, str]:
    """The indented category rows under a heading."""
    start = next(i for i, r in enumerate(rows) if r[0] == heading) + 1
    found = {}
    for row in rows[start:]:
        if len(row) == 1 or not row[0].startswith("  "):
            break
        found[row[0].strip()] = row[1]
    return found


def test_missing_grade_is_an_unknown_row_adding_to_100() -> None:
    rows = _tables(STUDY)
    grade = _section(rows, "Histological grade (primary, at diagnosis)")
    assert grade == {
        "G1": "2 (33.3%)",
        "G2": "1 (16.7%)",
        "G3": "2 (33.3%)",
        "Unknown": "1 (16.7%)",
    }
    assert sum(float(v.split("(")[1].rstrip("%)")) for v in grade.values()) == pytest.approx(100)


def test_a_median_of_some_rows_says_on_how_many() -> None:
    rows = {r[0]: r[1] for r in _tables(STUDY) if len(r) > 1}
    assert rows["nCI: median (range) (n = 1 of 7)"] == "4.59 (4.59\u20134.59)"
    assert rows["Lesion size, cm: median (range)"] == "3.0 (1.5\u20138.0)"  # all 7: no n


def test_schedules_of_another_department_get_their_own_rows() -> None:
    schedules = _section(_tables(STUDY), "Schedule")
    assert schedules == {
        "35 Gy/5 Fx": "4 (57.1%)",
        "24 Gy/3 Fx": "2 (28.6%)",
        "18 Gy/1 Fx": "1 (14.3%)",
    }
    paper = _section(
        _tables(
            {
                **STUDY,
                "tables": {
                    "schedule_groups": [
                        "30 Gy/3 Fx",
                        "45-48 Gy/3-4 Fx",
                        "54-60 Gy/3 Fx",
                        "40 Gy/5 Fx",
                        "45 Gy/5 Fx",
                        "50 Gy/5 Fx",
                    ]
                },
            }
        ),
        "Schedule",
    )
    assert paper == {"Others": "7 (100.0%)"}  # why the paper's grouping is not the default


def test_automatic_grouping_pools_the_rarest_beyond_eight_rows() -> None:
    labels = [f"{d} Gy/5 Fx" for d in range(20, 30) for _ in range(30 - d)]
    counts = schedule_counts(labels, None)
    assert list(counts)[:2] == ["20 Gy/5 Fx", "21 Gy/5 Fx"] and len(counts) == 8
    assert counts["others"] == 3 + 2 + 1 and sum(counts.values()) == len(labels)


def test_schedule_groups_are_checked() -> None:
    for bad, why in (
        (["45-48 Gy/3-4 Fx", "45 Gy/3 Fx"], "overlap"),
        (["45 Gy"], "cannot read"),
        ("paper", "must be 'auto' or a list"),
    ):
        with pytest.raises(StudyFileError, match=why):
            parse_study({**STUDY, "tables": {"schedule_groups": bad}})


def test_packaged_model_study_keeps_the_papers_schedule_groups() -> None:
    from rtoutcomes.clinical.schedules import FENG_2022_TABLE2

    packaged = Path(__file__).parents[1] / "src/rtoutcomes/study/data/feng2022.yaml"
    groups = yaml.safe_load(packaged.read_text())["tables"]["schedule_groups"]
    assert (*groups, "others") == FENG_2022_TABLE2.labels


def test_quartiles_as_r_type_7() -> None:
    # R: quantile(lung$wt.loss, c(.25, .5, .75), na.rm = TRUE) = 0, 7, 15.75 (14 NA)
    lung = pd.read_csv(HERE / "reference" / "fixtures" / "study_lung.csv")
    s = spread(lung["wt.loss"])
    assert (s["q1"], s["median"], s["q3"]) == (0.0, 7.0, 15.75)
    assert (s["min"], s["max"]) == (-24.0, 68.0)


def test_analyze_writes_table_1_of_the_covariates(tmp_path: Path) -> None:
    from rtoutcomes.cli import main

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
    text = (out / "tables" / "table1_characteristics.csv").read_text(encoding="utf-8")
    assert "  Unknown,1 (0.4%)" in text  # ecog and karno: one missing each
    assert "  Median (IQR),7.0 (0.0\u201315.8)" in text and "  Unknown,14 (6.1%)" in text
    assert "  0,63 (27.6%)\n  1,113 (49.6%)\n  2-3,51 (22.4%)\n  Unknown,1 (0.4%)" in text
    assert "Table 1. Characteristics" in (out / "report.html").read_text(encoding="utf-8")


def test_methods_state_the_data_cutoff_and_registry_state(tmp_path: Path) -> None:
    from rtoutcomes.report.methods import registry_sentence

    results = {
        "cohort": {
            "registry": {
                "name": "endpoint edges",
                "synthetic": True,
                "data_cutoff_date": "2017-12-31",
            }
        },
        "provenance": {"data": {"name": "registry.db", "sha256": "ab" * 32}},
    }
    sentence = registry_sentence(results)  # type: ignore[arg-type]
    assert "registry 'endpoint edges'" in sentence and "abababababababab" in sentence
    assert "data cut-off of 2017-12-31" in sentence
    results["cohort"]["registry"]["data_cutoff_date"] = None  # type: ignore[index]
    assert "no data cut-off" in registry_sentence(results)  # type: ignore[arg-type]
