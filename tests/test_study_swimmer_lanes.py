"""The swimmer plot's lanes (``study.response.swimmer_lanes``): each lesion's course and scan
times from its own SBRT start, whole days floored, earlier dates and missing dates left out,
in months or days; worked by hand on a small registry."""

from __future__ import annotations

import pandas as pd
import pytest

from rtoutcomes.study.cohort import DAYS_PER_MONTH
from rtoutcomes.study.registry_table import RegistryData
from rtoutcomes.study.response import swimmer_lanes


def registry() -> RegistryData:
    day = pd.Timestamp
    patients = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "first_sbrt_date": [day("2020-01-01"), day("2020-03-01")],
            "os_time": [400.0, 100.0],
            "os_event": [1, 0],
            "pfs_event": [1, 0],
            "pfs_time": [200.0, 100.0],
        }
    )
    lesions = pd.DataFrame(
        {
            "lesion_id": ["L1", "L2", "L3"],
            "patient_id": ["P1", "P1", "P2"],
            "start_date": [day("2020-01-01"), day("2020-01-11"), day("2020-03-01")],
            "lc_time": [300.0, 50.0, 90.0],
            "lc_event": [1, 0, 0],
        }
    )
    courses = pd.DataFrame(
        {
            "lesion_id": ["L1", "L2", "L1", "L3"],
            "start_date": ["2020-01-01", "2020-01-11", "2020-06-01", None],
        }
    )
    assessments = pd.DataFrame(
        {
            "lesion_id": ["L1", "L1", "L2", "L1", "L2", "L9"],
            "assessment_date": [
                "2020-04-01",
                "2019-12-01",
                "2020-01-10",
                "2020-02-01",
                None,
                "2020-05-01",
            ],
        }
    )
    return RegistryData({"sbrt_courses": courses, "assessments": assessments}, patients, lesions)


def test_lanes_in_days_from_each_lesions_own_start() -> None:
    lanes = {lane["lesion_id"]: lane for lane in swimmer_lanes(registry(), "days")}
    # L1: a scan before its start is left out; times sorted; a second course on day 152
    assert lanes["L1"]["scans"] == [31.0, 91.0]
    assert lanes["L1"]["courses"] == [0.0, 152.0]
    assert lanes["L1"]["end"] == 400.0 and lanes["L1"]["local_failure"] == 300.0
    assert lanes["L1"]["progression"] == 200.0 and lanes["L1"]["death"] == 400.0
    # L2 starts 10 days after the patient's first SBRT: its scan the day before is left out,
    # the missing date too; the patient's times are shifted by 10 days
    assert lanes["L2"]["scans"] == [] and lanes["L2"]["courses"] == [0.0]
    assert lanes["L2"]["end"] == 390.0 and lanes["L2"]["progression"] == 190.0
    # L3: its only course has no date; no scan; alive
    assert lanes["L3"]["courses"] == [] and lanes["L3"]["scans"] == []
    assert lanes["L3"]["alive"] and lanes["L3"]["death"] is None


def test_lanes_in_months() -> None:
    lanes = {lane["lesion_id"]: lane for lane in swimmer_lanes(registry(), "months")}
    assert lanes["L1"]["scans"] == pytest.approx(
        [31 / DAYS_PER_MONTH, 91 / DAYS_PER_MONTH], rel=0, abs=0
    )
    assert lanes["L1"]["courses"] == [0.0, 152 / DAYS_PER_MONTH]


def test_no_assessments_table() -> None:
    data = registry()
    tables = {"sbrt_courses": data.tables["sbrt_courses"]}
    lanes = swimmer_lanes(RegistryData(tables, data.patients, data.lesions), "days")
    assert [lane["scans"] for lane in lanes] == [[], [], []]
