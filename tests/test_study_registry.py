"""Registry mode: analysis tables with standard covariates, cohort facts and Tables 1-2."""

from __future__ import annotations

import pytest

from clinical_registry import build_registry
from rtoutcomes.report.cohort_tables import cohort_tables
from rtoutcomes.study import parse_study
from rtoutcomes.study.cohort import cohort_facts
from rtoutcomes.study.registry_table import RegistryData, build_registry_data, endpoint_tables

STUDY = parse_study(
    {
        "title": "registry test",
        "db": "sqlite:///unused.db",
        "endpoints": {"OS": {}, "PFS": {}, "LC": {}},
        "analyses": {"groups": ["grade"], "univariate": ["grade", "size", "bed10"]},
    }
)


@pytest.fixture(scope="module")
def data() -> RegistryData:
    return build_registry_data(build_registry(), STUDY)


def test_analysis_tables(data: RegistryData) -> None:
    patients, lesions = data.patients, data.lesions
    assert list(patients["patient_id"]) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert list(lesions["lesion_id"]) == ["L1", "L2a", "L2b", "L3", "L4", "L5", "L6"]
    # BED10 of 45 Gy/5 Fx = 45 (1 + 9/10) = 85.5 Gy; 50/5 -> 100; 40/5 -> 72; 30/3 -> 60
    assert lesions["bed10_gy"].round(9).tolist() == [85.5, 100.0, 100.0, 72.0, 60.0, 85.5, 60.0]
    # patient level: the largest lesion's size and the highest BED10 (P2: 2.0 and 1.5 cm)
    p2 = patients.set_index("patient_id").loc["P2"]
    assert p2["size_cm"] == 2.0 and p2["site_category"] == "lung" and p2["bed10_gy"] == 100.0
    assert lesions["patient_id"].tolist() == ["P1", "P2", "P2", "P3", "P4", "P5", "P6"]
    assert lesions["lc_event"].tolist() == [1, 0, 0, 1, 0, 0, 0]
    assert patients["os_event"].tolist() == [1, 1, 1, 0, 0, 0]
    tables = endpoint_tables(STUDY, data)
    assert tables["LC"] is data.lesions and tables["OS"] is data.patients


def test_cohort_facts(data: RegistryData) -> None:
    facts = cohort_facts(data)
    assert facts["flow"] == {
        "screened": 8,
        "enrolled": 6,
        "lesions": 7,
        "excluded": {"multiple metastases (more than 3 lesions)": 1, "unclear imaging data": 1},
    }
    t1 = facts["table1"]
    assert t1["n"] == 6 and t1["sex"] == {"male": 4, "female": 2}
    assert t1["histological_grade"] == {"G1": 2, "G2": 1, "G3": 3}
    assert t1["lesions_at_first_sbrt"] == {"1": 5, "2-3": 1}
    assert t1["age_years"] == {"median": 55.0, "min": 30.0, "max": 70.0, "n": 6}
    t2 = facts["table2"]
    assert t2["site"] == {"lung": 3, "chest": 1, "abdomen/pelvis": 1, "limbs": 2}
    assert t2["size_groups"] == {"<=5 cm": 5, ">5 cm": 2}
    assert t2["bed10_groups"] == {"<100 Gy": 5, ">=100 Gy": 2}
    assert t2["schedules"]["30 Gy/3 Fx"] == 2 and t2["schedules"]["50 Gy/5 Fx"] == 2
    overview = {(r["phase"], r["term"]): r for r in facts["toxicity"]["overview"]}
    assert overview[("late", "Dermatitis radiation")]["grades"] == "3"
    assert overview[("acute", "Fatigue")]["patients"] == 2


def test_cohort_tables_add_up(data: RegistryData) -> None:
    table1, table2, toxicity = cohort_tables(cohort_facts(data))
    rows = {r.cells[0].strip(): r.cells[1] for r in table1.rows if not r.heading}
    assert rows["Male"] == "4 (66.7%)" and rows["G3"] == "3 (50.0%)"
    family = [
        r.cells[1]
        for r in table1.rows[
            table1.rows.index(
                next(r for r in table1.rows if r.cells[0] == "Histology (WHO family)")
            )
            + 1 :
        ][:5]
    ]
    assert sum(float(c.split("(")[1].rstrip("%)")) for c in family) == pytest.approx(100.0)
    sites = {r.cells[0].strip(): r.cells[1] for r in table2.rows if not r.heading}
    assert sites["Lung"] == "3 (42.8%)"  # 42.857 loses to 14.286 + 14.286 + 28.571 remainders
    assert sites["BED10, Gy: median (range)"] == "85.5 (60.0\u2013100.0)"
    late = [r.cells for r in toxicity.rows if r.cells[1] == "Dermatitis radiation"]
    assert late[-1][-2:] == ("1 (16.7%)", "1 (16.7%)")
