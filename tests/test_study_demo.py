"""``rtoutcomes demo``: the model study on the SYNTHETIC demo registry, the full report.

Its Table 1 and Table 2 counts must equal the paper's (feng-2022-facts.json); its survival
estimates must be close to the paper's (the demo registry is calibrated to them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# Counts of the paper's Tables 1 and 2, under the keys of results.json's cohort section.
TABLE1_COUNTS = (
    "sex",
    "histology_family",
    "disease_setting",
    "histological_grade",
    "lesions_at_first_sbrt",
    "systemic_treatment",
    "chemotherapy_timing",
    "first_treatment_surgery",
    "more_than_2_operations",
    "adjuvant_chemotherapy_after_surgery",
    "adjuvant_radiotherapy_after_surgery",
)
TABLE2_COUNTS = ("site", "bed10_groups", "schedules")


@pytest.fixture(scope="module")
def demo(demo_run: Path) -> tuple[Path, dict[str, Any]]:
    return demo_run, json.loads((demo_run / "results.json").read_text())


@pytest.fixture(scope="module")
def facts(shared_dir_module: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (shared_dir_module / "reference" / "feng-2022-facts.json").read_text()
    )
    return data


@pytest.fixture(scope="module")
def shared_dir_module() -> Path:
    shared = Path(__file__).resolve().parents[1].parent / "shared"
    if not shared.is_dir():
        pytest.skip(f"shared/ not found at {shared}")
    return shared


def test_demo_writes_the_full_report(demo: tuple[Path, dict[str, Any]]) -> None:
    out, results = demo
    for name in (
        "registry.db",
        "report.html",
        "manuscript.docx",
        "tables.xlsx",
        "results.json",
        "tables/table1_patients.csv",
        "tables/table2_lesions.csv",
        "tables/toxicity.csv",
        "tables/table3_univariate.csv",
        "tables/table4_multivariate.csv",
        "tables/table5_nested.csv",
        "figures/flow_chart.png",
        "figures/km_LC.png",
        "figures/km_LC_by_grade.svg",
        "figures/km_OS_by_setting.png",
    ):
        assert (out / name).is_file(), name
    assert results["study"]["local_failure_rule"] == "Feng 2022"
    lc = results["endpoints"]["LC"]
    assert (lc["unit"], lc["cluster"], lc["n"]) == ("lesion", "patient_id", 58)
    html = (out / "report.html").read_text()
    assert "robust (sandwich) variance clustered by patient" in html
    # the demo registry is synthetic, and the report says so first
    assert results["cohort"]["registry"]["synthetic"] is True
    assert "[SYNTHETIC DATA]</h1>" in html
    assert html.index("SYNTHETIC DATA: the registry") < html.index("Statistical methods")
    # every lesion's endpoints with their reasons, as a supplementary table; nobody lost
    per_lesion = results["tables"]["s1_endpoints_per_lesion"]
    assert len(per_lesion["rows"]) == 58 and per_lesion["columns"][-1] == "PFS: reason"
    assert html.index("Supplementary tables") < html.index('id="s1_endpoints_per_lesion"')
    assert results["cohort"]["flow"]["lost_to_follow_up"] == {"LC": 0, "OS": 0, "PFS": 0}
    assert "more than 12 months before the data cut-off" in html


def test_flow_and_tables_1_2_counts_equal_the_paper(
    demo: tuple[Path, dict[str, Any]], facts: dict[str, Any]
) -> None:
    cohort = demo[1]["cohort"]
    design = facts["design"]
    flow = cohort["flow"]
    assert (flow["screened"], flow["enrolled"], flow["lesions"]) == (
        design["screened_patients"],
        design["enrolled_patients"],
        design["treated_lesions"],
    )
    assert sum(flow["excluded"].values()) == design["excluded_patients"]
    t1, paper1 = cohort["table1"], facts["table1_patients"]
    assert t1["n"] == paper1["n"]
    for key in TABLE1_COUNTS:
        assert t1[key] == paper1[key], key
    for family, subtypes in paper1["histology_subtypes"].items():
        assert t1["histology_subtypes"][family] == subtypes, family
    assert t1["age_years"]["n"] == t1["n"]  # nobody's age is missing
    assert {k: v for k, v in t1["age_years"].items() if k != "n"} == paper1["age_years"]
    months = t1["months_diagnosis_to_recurrence_or_oligometastasis"]
    assert {k: round(v) for k, v in months.items() if k != "n"} == (
        paper1["months_diagnosis_to_recurrence_or_oligometastasis"]
    )
    t2, paper2 = cohort["table2"], facts["table2_lesions"]
    assert t2["n"] == paper2["n"]
    for key in TABLE2_COUNTS:
        assert t2[key] == paper2[key], key
    # the paper labels the size split "<5.0 / >=5.0 cm" in Table 2 and "<=5 / >5 cm" elsewhere
    assert list(t2["size_groups"].values()) == list(paper2["size_groups"].values())
    for key in ("size_cm", "isodose_pct", "ci", "hi", "ptv_coverage_pct"):
        assert t2[key]["n"] == t2["n"], key  # every lesion has a value
        assert {k: v for k, v in t2[key].items() if k != "n"} == pytest.approx(paper2[key]), key
    assert t2["bed10_gy"]["median"] == pytest.approx(paper2["bed10_gy"]["median"])
    rows = {r[0].strip(): r[1] for r in demo[1]["tables"]["table1_patients"]["rows"] if len(r) > 1}
    assert rows["Male"] == "25 (67.6%)" and rows["G1"] == "19 (51.4%)"
    assert rows["1"] == "24 (64.9%)"  # the paper prints 64.8 %


def test_survival_close_to_the_paper(
    demo: tuple[Path, dict[str, Any]], facts: dict[str, Any]
) -> None:
    """1-, 2- and 3-year rates within 5 points of the paper's (the demo's calibration)."""
    endpoints = demo[1]["endpoints"]
    for name, paper in facts["survival"].items():
        ours = endpoints[name]
        assert ours["n"] == paper["n"]
        for rate in ours["rates"]:
            target = paper["rates_pct"][str(int(rate["time"]))]
            assert abs(100 * rate["estimate"] - target) <= 5.0, (name, rate["time"])
    lc = endpoints["LC"]["groups"]
    assert (
        lc["grade"]["levels"]["G1"]["rates"][2]["estimate"]
        > (lc["grade"]["levels"]["G2-G3"]["rates"][2]["estimate"])
    )
    assert lc["grade"]["logrank"]["p"] < 0.05 and lc["size"]["logrank"]["p"] < 0.05
