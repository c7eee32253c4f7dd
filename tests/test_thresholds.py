"""The deliberate bugs that once slipped through (the import's transaction:
tests/registry/test_import_transaction.py), and every threshold the report states, at its
boundary (scripts/mutation_check.py re-applies the mutations and checks the suite fails)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from clinical_registry import build_registry
from rtoutcomes.clinical.ctcae import DEFAULT_CUTOFF_DAYS, classify_phase, normalise_toxicities
from rtoutcomes.clinical.endpoints import derive_endpoints
from rtoutcomes.clinical.recist import (
    PR_DECREASE_FRACTION,
    RECIST_1_1,
    RECIST_1_1_CONFIRMED,
    assess_lesions,
)
from rtoutcomes.report import fmt
from rtoutcomes.study.analysis import MIN_EVENTS_PER_VARIABLE, epv_warning
from rtoutcomes.study.covariates import levels_of
from rtoutcomes.study.standard import STANDARD_COVARIATES
from rtoutcomes.study.summaries import PH_ALPHA, ph_in_doubt

# --- RECIST confirmation comes from the same lesion ---------------------------------------------


def test_confirmation_is_never_taken_from_another_lesion() -> None:
    """Lesion A grows on its last scan; lesion B's next scan grows too. A is unconfirmed."""
    d = [dt.date(2015, m, 1) for m in (1, 4, 7)]
    scans = pd.DataFrame(
        {
            "assessment_id": ["A0", "A1", "B0", "B1", "B2"],
            "lesion_id": ["A", "A", "B", "B", "B"],
            "assessment_date": pd.to_datetime([d[0], d[1], d[0], d[1], d[2]]),
            "longest_diameter_mm": [30.0, 40.0, 30.0, 45.0, 46.0],
        }
    )
    out = assess_lesions(scans, rule=RECIST_1_1_CONFIRMED)
    confirmed = out.groupby("lesion_id")["confirmed"].any()
    assert not confirmed["A"]
    assert confirmed["B"]


# --- thresholds the report states -------------------------------------------------------------


def test_events_per_variable_warning_boundary() -> None:
    """Fewer than 10 events per coefficient warns; exactly 10 does not."""
    assert MIN_EVENTS_PER_VARIABLE == 10
    assert epv_warning(10, 1) is None
    assert epv_warning(20, 2) is None
    assert epv_warning(9, 1) is not None
    assert "9.5 events per variable" in str(epv_warning(19, 2))


def test_proportional_hazards_warning_boundary() -> None:
    assert PH_ALPHA == 0.05
    assert not ph_in_doubt(0.05)
    assert ph_in_doubt(0.0499999)
    assert not ph_in_doubt(0.2)


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.001, "0.001"),
        (0.000999, "<0.001"),
        (0.0, "<0.001"),
        (0.00999, "0.010"),
        (0.01, "0.01"),
        (0.049, "0.05"),
        (0.996, "1.00"),
        (1.0, "1.00"),
        (None, "NA"),
    ],
)
def test_p_value_formatting_boundaries(p: float | None, text: str) -> None:
    assert fmt.p_value(p) == text


def test_p_statement_boundary() -> None:
    assert fmt.p_statement(0.001) == "p = 0.001"
    assert fmt.p_statement(0.0009) == "p < 0.001"


def test_recist_thresholds_are_inclusive() -> None:
    """At least 20 % and at least 5 mm over the nadir (RECIST 1.1)."""
    assert RECIST_1_1.meets([30.0], [25.0]).tolist() == [True]  # +20 %, +5 mm
    assert RECIST_1_1.meets([29.999], [25.0]).tolist() == [False]
    assert RECIST_1_1.meets([12.0], [10.0]).tolist() == [False]  # +20 % but only 2 mm
    assert RECIST_1_1.meets([55.0], [50.0]).tolist() == [False]  # +5 mm but only 10 %


@pytest.mark.parametrize(
    ("name", "value", "level"),
    [
        ("size", 5.0, "<=5 cm"),
        ("size", 5.0001, ">5 cm"),
        ("bed10", 100.0, ">=100 Gy"),
        ("bed10", 99.999, "<100 Gy"),
    ],
)
def test_standard_covariate_cut_points(name: str, value: float, level: str) -> None:
    covariate = STANDARD_COVARIATES[name]
    levels, _ = levels_of(covariate, pd.DataFrame({covariate.column: [value]}))
    assert levels.iloc[0] == level


def test_acute_toxicity_boundary_is_day_90() -> None:
    reg = build_registry()
    start = reg["sbrt_courses"].sort_values("start_date")["start_date"].iloc[0]
    patient = (
        reg["lesions"]
        .set_index("lesion_id")
        .loc[reg["sbrt_courses"].sort_values("start_date")["lesion_id"].iloc[0], "patient_id"]
    )
    first = reg["sbrt_courses"].merge(reg["lesions"], on="lesion_id")
    start = first[first["patient_id"] == patient]["start_date"].min()
    tox = pd.DataFrame(
        {
            "toxicity_id": ["T90", "T91"],
            "patient_id": [patient, patient],
            "course_id": [None, None],
            "onset_date": [
                start + pd.Timedelta(days=DEFAULT_CUTOFF_DAYS),
                start + pd.Timedelta(days=DEFAULT_CUTOFF_DAYS + 1),
            ],
            "ctcae_version": ["5.0", "5.0"],
            "term": ["Fatigue", "Fatigue"],
            "grade": [1, 1],
            "attribution": [None, None],
        }
    )
    phases = classify_phase(normalise_toxicities(tox), reg["sbrt_courses"], reg["lesions"])
    assert dict(zip(phases["toxicity_id"], phases["phase"], strict=True)) == {
        "T90": "acute",
        "T91": "late",
    }


def test_partial_and_complete_response_boundaries() -> None:
    """RECIST 1.1 best response as the best-response table and the waterfall report it: a
    decrease of at least 30 % from baseline is PR, 0 mm is CR, a smaller decrease is SD."""
    assert PR_DECREASE_FRACTION == 0.30
    d = [dt.date(2015, m, 1) for m in (1, 4)]
    follow = {"PR": 35.0, "SD": 35.001, "CR": 0.0}
    scans = pd.DataFrame(
        {
            "assessment_id": [f"{k}{i}" for k in follow for i in (0, 1)],
            "lesion_id": [k for k in follow for _ in (0, 1)],
            "assessment_date": pd.to_datetime(d * len(follow)),
            "longest_diameter_mm": [v for k in follow for v in (50.0, follow[k])],
        }
    )
    out = assess_lesions(scans)
    last = out[out["role"] == "follow-up"].set_index("lesion_id")["response"]
    assert last.to_dict() == {"PR": "PR", "SD": "SD", "CR": "CR"}


def _lc_of_a_death(within: float | None) -> tuple[int, float]:
    """Competing-risks status of the lesion (of a patient who died without its local failure)
    whose last scan came longest before the death, and that time (months)."""
    endpoints = derive_endpoints(build_registry(), competing_death_within=within)
    lesions = endpoints.lesions
    patients = endpoints.patients.set_index("patient_id")
    death = lesions["patient_id"].map(patients["os_date"].where(patients["os_event"] == 1))
    gap = (death - lesions["lc_date"]).dt.days / (365.25 / 12)
    lesion = gap[(lesions["lc_event"] == 0) & death.notna()].idxmax()
    return int(lesions.loc[lesion, "lc_cr_status"]), float(gap[lesion])


def test_competing_death_within_is_inclusive() -> None:
    """endpoint_rules.competing_death_within (stated in the methods): a death exactly that long
    after the lesion's last scan is the competing event; a day later it is not."""
    status, gap = _lc_of_a_death(None)
    assert status == 2 and gap > 0
    assert _lc_of_a_death(gap)[0] == 2
    assert _lc_of_a_death(gap - 1 / 30.4375)[0] == 0


def test_disclosure_boundaries() -> None:
    """A centre's min_rows and min_cell (stated in the methods of a federated analysis): exactly
    min_rows usable rows are enough and a level held by exactly min_cell rows is shown."""
    from pathlib import Path

    import yaml

    from rtoutcomes.federated.disclosure import DisclosurePolicy, DisclosureRefused
    from rtoutcomes.federated.site import describe
    from rtoutcomes.study.table import read_table

    here = Path(__file__).resolve().parent
    study = yaml.safe_load((here / "data" / "study_lung.yaml").read_text(encoding="utf-8"))
    study["endpoints"] = {"OS": study["endpoints"]["OS"]}
    study["analyses"] = {"groups": ["ecog"]}
    table = read_table(here / "reference" / "fixtures" / "study_lung.csv")
    n = len(table)
    smallest = int(table["ph.ecog"].replace({3: 2}).value_counts().min())
    shown = describe(study, table, "A", DisclosurePolicy(min_rows=n, min_cell=smallest))
    assert shown["endpoints"]["OS"]["suppressed"] == {}
    hidden = describe(study, table, "A", DisclosurePolicy(min_rows=n, min_cell=smallest + 1))
    assert list(hidden["endpoints"]["OS"]["suppressed"]) == ["ecog"]
    with pytest.raises(DisclosureRefused, match=f"fewer than the centre's minimum of {n + 1}"):
        describe(study, table, "A", DisclosurePolicy(min_rows=n + 1))


def test_lost_to_follow_up_boundary() -> None:
    """Lost to follow-up (the flow chart's box, endpoint_rules.lost_to_follow_up_after): a last
    contact more than that long before the cut-off; exactly that long is not lost. P6 of the
    test registry was last seen alive 486 days before the cut-off."""
    from rtoutcomes.study import parse_study
    from rtoutcomes.study.cohort import lost_patients
    from rtoutcomes.study.registry_table import build_registry_data

    study = parse_study({"title": "t", "db": "sqlite:///unused.db", "endpoints": {"OS": {}}})
    data = build_registry_data(build_registry(), study)
    assert "P6" not in (lost_patients(data, 486.0) or set())
    assert "P6" in (lost_patients(data, 485.0) or set())
