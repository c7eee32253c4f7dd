"""Table 1's chemotherapy timing (before, after, concurrent with the first SBRT course),
counted per patient with vectorised comparisons, equals the rule applied one patient at a time
(the previous implementation, kept here as the reference) on randomised therapy histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinical_registry import build_registry
from rtoutcomes.study import parse_study
from rtoutcomes.study.cohort import _first_course_end, _systemic
from rtoutcomes.study.registry_table import build_registry_data, dates

STUDY = parse_study({"title": "t", "db": "sqlite:///unused.db", "endpoints": {"OS": {}}})


def reference_timing(tables: dict[str, pd.DataFrame], p: pd.DataFrame) -> dict[str, int]:
    therapies = tables["systemic_therapies"]
    therapies = therapies[therapies["patient_id"].isin(p["patient_id"])]
    chemo = therapies[therapies["therapy_type"] == "chemotherapy"].merge(
        p[["patient_id", "first_sbrt_date"]], on="patient_id", how="left"
    )
    sbrt_end = _first_course_end(tables)
    timing = {"before SBRT": 0, "after SBRT": 0, "concurrent": 0}
    for patient_id, rows in chemo.groupby("patient_id", sort=True):
        start, end = dates(rows["start_date"]), dates(rows["end_date"])
        sbrt_start = rows["first_sbrt_date"].iloc[0]
        stop = sbrt_end.get(str(patient_id), sbrt_start)
        if ((start <= stop) & (end.fillna(start) >= sbrt_start)).any():
            timing["concurrent"] += 1
        elif (start < sbrt_start).any():
            timing["before SBRT"] += 1
        else:
            timing["after SBRT"] += 1
    return timing


@pytest.mark.parametrize("seed", range(8))
def test_timing_equals_the_per_patient_rule(seed: int) -> None:
    tables = dict(build_registry())
    p = build_registry_data(tables, STUDY).patients
    rng = np.random.default_rng(seed)
    course_end = _first_course_end(tables)
    rows = []
    for patient, first in zip(p["patient_id"], p["first_sbrt_date"], strict=True):
        for k in range(int(rng.integers(0, 4))):
            start = first + pd.Timedelta(days=int(rng.integers(-200, 200)))
            if rng.random() < 0.3:  # on the boundaries: the course's first or last day
                start = course_end[patient] if rng.random() < 0.5 else first
            end = (
                None if rng.random() < 0.3 else start + pd.Timedelta(days=int(rng.integers(0, 90)))
            )
            rows.append(
                {
                    "therapy_id": f"{patient}-{k}",
                    "patient_id": patient,
                    "therapy_type": "chemotherapy" if rng.random() < 0.8 else "targeted",
                    "start_date": start.date(),
                    "end_date": None if end is None else end.date(),
                }
            )
    tables["systemic_therapies"] = pd.DataFrame(
        rows, columns=["therapy_id", "patient_id", "therapy_type", "start_date", "end_date"]
    )
    courses = tables["sbrt_courses"].copy()
    courses.loc[rng.random(len(courses)) < 0.3, "end_date"] = None  # course end unknown
    tables["sbrt_courses"] = courses
    result = _systemic(tables, p)
    assert result is not None
    assert result[1] == reference_timing(tables, p)
