"""The deliberate bugs that once slipped through (the import's transaction:
tests/registry/test_import_transaction.py), and every threshold the report states, at its
boundary (scripts/mutation_check.py re-applies the mutations and checks the suite fails)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from clinical_registry import build_registry
from rtoutcomes.clinical.ctcae import DEFAULT_CUTOFF_DAYS, classify_phase, normalise_toxicities
from rtoutcomes.clinical.recist import RECIST_1_1, RECIST_1_1_CONFIRMED, assess_lesions
from rtoutcomes.report import fmt
from rtoutcomes.study.analysis import MIN_EVENTS_PER_VARIABLE, epv_warning
from rtoutcomes.study.covariates import levels_of
from rtoutcomes.study.standard import STANDARD_COVARIATES
from rtoutcomes.study.summaries import PH_ALPHA, ph_in_doubt

# --- RECIST confirmation comes from the same lesion ---------------------------------------------


def test_confirmation_is_never_taken_from_another_lesion() -> None:
    """Lesion A grows on its last scan; lesion B's next scan grows too. A is unconfirmed."""
    d = [dt.date(2015, m, 1) for m in (1, 4, 7)]
    scans = pd.DataFrame({
        "assessment_id": ["A0", "A1", "B0", "B1", "B2"],
        "lesion_id": ["A", "A", "B", "B", "B"],
        "assessment_date": pd.to_datetime([d[0], d[1], d[0], d[1], d[2]]),
        "longest_diameter_mm": [30.0, 40.0, 30.0, 45.0, 46.0],
    })
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


@pytest.mark.parametrize(("p", "text"), [
    (0.001, "0.001"), (0.000999, "<0.001"), (0.0, "<0.001"), (0.00999, "0.010"),
    (0.01, "0.01"), (0.049, "0.05"), (0.996, "1.00"), (1.0, "1.00"), (None, "NA"),
])
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


@pytest.mark.parametrize(("name", "value", "level"), [
    ("size", 5.0, "<=5 cm"), ("size", 5.0001, ">5 cm"),
    ("bed10", 100.0, ">=100 Gy"), ("bed10", 99.999, "<100 Gy"),
])
def test_standard_covariate_cut_points(name: str, value: float, level: str) -> None:
    covariate = STANDARD_COVARIATES[name]
    levels, _ = levels_of(covariate, pd.DataFrame({covariate.column: [value]}))
    assert levels.iloc[0] == level


def test_acute_toxicity_boundary_is_day_90() -> None:
    reg = build_registry()
    start = reg["sbrt_courses"].sort_values("start_date")["start_date"].iloc[0]
    patient = reg["lesions"].set_index("lesion_id").loc[
        reg["sbrt_courses"].sort_values("start_date")["lesion_id"].iloc[0], "patient_id"]
    first = reg["sbrt_courses"].merge(reg["lesions"], on="lesion_id")
    start = first[first["patient_id"] == patient]["start_date"].min()
    tox = pd.DataFrame({
        "toxicity_id": ["T90", "T91"], "patient_id": [patient, patient],
        "course_id": [None, None],
        "onset_date": [start + pd.Timedelta(days=DEFAULT_CUTOFF_DAYS),
                       start + pd.Timedelta(days=DEFAULT_CUTOFF_DAYS + 1)],
        "ctcae_version": ["5.0", "5.0"], "term": ["Fatigue", "Fatigue"], "grade": [1, 1],
        "attribution": [None, None],
    })
    phases = classify_phase(normalise_toxicities(tox), reg["sbrt_courses"], reg["lesions"])
    assert dict(zip(phases["toxicity_id"], phases["phase"], strict=True)) == {
        "T90": "acute", "T91": "late"}
