"""RECIST 1.1 local failure and response of a treated lesion (Eisenhauer et al. 2009)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.clinical.recist import (
    FENG_2022,
    RECIST_1_1,
    RECIST_1_1_CONFIRMED,
    LocalFailureRule,
    assess_lesions,
    patient_progression,
    summarise_local_failure,
    track_lesion,
)

D = ["2015-01-01", "2015-04-01", "2015-07-01", "2015-10-01", "2016-01-01"]


def test_small_nadir_needs_5_mm_absolute() -> None:
    # nadir 10 mm -> 12 mm is +20 % but only +2 mm: not PD under RECIST 1.1
    t = track_lesion(D[:3], [10, 10, 12])
    assert not t.local_failure
    assert list(t.scans["response"]) == ["baseline", "SD", "SD"]
    # ... but it is under the paper's 20 %-over-baseline rule
    assert track_lesion(D[:3], [10, 10, 12], rule=FENG_2022).local_failure


def test_30_to_36_mm_is_progression() -> None:
    t = track_lesion(D[:2], [30, 36])
    assert t.local_failure and t.failure_date == dt.date(2015, 4, 1)
    assert t.scans["response"].iloc[1] == "PD"
    assert "36 mm on 2015-04-01 >= 1.2 x nadir 30 mm and +6 mm" in t.reason


def test_just_below_20_pct_is_not_progression() -> None:
    assert not track_lesion(D[:2], [30, 35.9]).local_failure
    assert track_lesion(D[:2], [25, 30]).local_failure  # exactly +20 % and +5 mm


def test_nadir_not_baseline_is_the_reference() -> None:
    # baseline 50, nadir 30, then 37: +23 % and +7 mm over nadir, still below baseline
    t = track_lesion(D[:4], [50, 30, 37, 37])
    assert t.local_failure and t.failure_date == dt.date(2015, 7, 1)
    assert list(t.scans["response"]) == ["baseline", "PR", "PD", "PD"]
    assert list(t.scans["nadir_mm"].iloc[1:]) == [50, 30, 30]
    # the paper's baseline rule does not call it failure
    assert not track_lesion(D[:4], [50, 30, 37, 37], rule=FENG_2022).local_failure


def test_response_categories() -> None:
    t = track_lesion(D, [40, 28, 30, 0, None])
    # 28 = -30 % (PR), 30 = -25 % (SD), 0 = CR, missing = NE
    assert list(t.scans["response"]) == ["baseline", "PR", "SD", "CR", "NE"]
    assert not t.local_failure


def test_reappearance_after_complete_response() -> None:
    t = track_lesion(D[:4], [20, 0, 4, 5])
    # 4 mm is still -80 % from baseline (PR); 5 mm is +5 mm over the nadir 0 (PD)
    assert list(t.scans["response"]) == ["baseline", "CR", "PR", "PD"]
    assert t.failure_date == dt.date(2015, 10, 1)


def test_zero_over_zero_is_never_failure() -> None:
    rule = LocalFailureRule(min_increase_mm=0.0)
    assert not track_lesion(D[:3], [20, 0, 0], rule=rule).local_failure


def test_baseline_is_last_scan_on_or_before_start_and_earlier_scans_are_ignored() -> None:
    t = track_lesion(D[:4], [10, 30, 31, 37], sbrt_start="2015-04-01")
    assert list(t.scans["role"]) == ["pre-baseline", "baseline", "follow-up", "follow-up"]
    assert t.scans["baseline_mm"].iloc[2] == 30
    assert t.failure_date == dt.date(2015, 10, 1)
    # without a scan before start, the first scan is the baseline
    t = track_lesion(D[1:4], [30, 31, 37], sbrt_start="2015-03-01")
    assert t.scans["role"].iloc[0] == "baseline"


def test_unsorted_input_and_missing_diameters() -> None:
    t = track_lesion([D[3], D[0], D[2], D[1]], [40, 30, None, 29])
    dates = list(t.scans["assessment_date"].dt.strftime("%Y-%m-%d"))
    assert dates == sorted([D[3], D[0], D[2], D[1]])
    assert list(t.scans["response"]) == ["baseline", "SD", "NE", "PD"]
    assert t.failure_date == dt.date(2015, 10, 1)


def test_missing_baseline_diameter_uses_first_measured_scan() -> None:
    t = track_lesion(D[:3], [None, 30, 36], sbrt_start="2015-01-01")
    assert list(t.scans["role"]) == ["pre-baseline", "baseline", "follow-up"]
    assert t.local_failure


def test_single_scan_and_no_measurement() -> None:
    t = track_lesion(D[:1], [30])
    assert not t.local_failure and "no measured scan after baseline" in t.reason
    t = track_lesion(D[:2], [None, None])
    assert not t.local_failure and "no baseline" in t.reason
    assert list(t.scans["response"]) == ["NE", "NE"]


def test_confirmation_scan() -> None:
    # growth on 2015-07 confirmed on 2015-10: failure dated at the first of the two
    t = track_lesion(D[:4], [30, 30, 40, 41], rule=RECIST_1_1_CONFIRMED)
    assert t.failure_date == dt.date(2015, 7, 1)
    assert "confirmed 41 mm on 2015-10-01" in t.reason
    # growth that shrinks back is not confirmed; a missing diameter in between is skipped
    t = track_lesion(D, [30, 40, None, 32, 45], rule=RECIST_1_1_CONFIRMED)
    assert not t.local_failure and "unconfirmed growth on 2015-04-01" in t.reason
    t = track_lesion(D[:4], [30, 40, None, 42], rule=RECIST_1_1_CONFIRMED)
    assert t.failure_date == dt.date(2015, 4, 1)
    # growth on the last scan cannot be confirmed
    assert not track_lesion(D[:2], [30, 40], rule=RECIST_1_1_CONFIRMED).local_failure


def test_duplicate_dates_are_refused() -> None:
    with pytest.raises(ClinicalRuleError, match="one assessment per lesion and date"):
        track_lesion([D[0], D[0]], [30, 31])


def test_bad_values_are_refused() -> None:
    with pytest.raises(ClinicalRuleError, match=">= 0 mm"):
        track_lesion(D[:2], [30, -1])
    with pytest.raises(ClinicalRuleError, match="must be a date"):
        track_lesion(["2015-01-01", "not a date"], [30, 31])
    with pytest.raises(ClinicalRuleError, match="reference"):
        LocalFailureRule(reference="median")  # type: ignore[arg-type]
    with pytest.raises(ClinicalRuleError, match="min_increase_mm"):
        LocalFailureRule(min_increase_mm=-1)


def test_many_lesions_at_once_match_one_by_one() -> None:
    rows = []
    series = {"L1": [30, 36], "L2": [10, 12], "L3": [50, 30, 37], "L4": [None, 20, 0, 6]}
    for lid, values in series.items():
        for date, value in zip(D, values, strict=False):
            rows.append(
                {
                    "assessment_id": f"{lid}-{date}",
                    "lesion_id": lid,
                    "assessment_date": date,
                    "longest_diameter_mm": value,
                }
            )
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=3)
    scans = assess_lesions(frame, {lid: "2015-01-01" for lid in series})
    summary = summarise_local_failure(scans, RECIST_1_1).set_index("lesion_id")
    for lid, values in series.items():
        single = track_lesion(D[: len(values)], values, sbrt_start="2015-01-01")
        assert summary.loc[lid, "local_failure"] == single.local_failure
        assert summary.loc[lid, "reason"] == single.reason
    assert list(summary["local_failure"]) == [True, False, True, True]


def test_patient_progression_new_lesions_and_local_failure() -> None:
    frame = pd.DataFrame(
        {
            "assessment_id": ["a1", "a2", "a3", "b1", "b2", "c1", "c2"],
            "lesion_id": ["L1", "L1", "L1", "L2", "L2", "L3", "L3"],
            "assessment_date": [
                "2014-12-20",
                "2015-04-01",
                "2015-07-01",
                "2015-01-01",
                "2015-03-01",
                "2015-01-01",
                "2015-04-01",
            ],
            "longest_diameter_mm": [30, 30, 40, 20, 20, 20, 20],
            "new_lesions": ["yes", "no", "no", None, "yes", "no", "no"],
        }
    )
    scans = assess_lesions(frame, {"L1": "2015-01-01", "L2": "2015-01-01", "L3": "2015-01-01"})
    prog = patient_progression(
        scans, {"L1": "P1", "L2": "P1", "L3": "P2"}, sbrt_start={"P1": "2015-01-01"}
    ).set_index("patient_id")
    # P1: new lesions on 2015-03-01 (the staging scan before SBRT does not count) beats the
    # local failure of L1 on 2015-07-01; P2 has no progression.
    assert list(prog.index) == ["P1"]
    assert prog.loc["P1", "progression_date"] == pd.Timestamp("2015-03-01")
    assert prog.loc["P1", "source"] == "new lesions"


def test_rule_describes_itself() -> None:
    assert RECIST_1_1.describe() == (
        "RECIST 1.1: diameter >= 20 % over the nadir and >= 5 mm absolute"
    )
    assert FENG_2022.describe() == "Feng 2022: diameter >= 20 % over the baseline"


def _reference_failure(values: list[float | None], rule: LocalFailureRule) -> int | None:
    """Scan-by-scan reading of the rule, written plainly: index of the failure scan or None."""
    measured = [i for i, v in enumerate(values) if v is not None]
    if not measured:
        return None
    baseline = values[measured[0]]
    assert baseline is not None
    nadir = baseline
    hits = []
    for i in measured[1:]:
        value = values[i]
        assert value is not None
        ref = nadir if rule.reference == "nadir" else baseline
        grew = value > ref and value >= ref * (1 + rule.min_increase_fraction) - 1e-9
        hits.append((i, grew and value - ref >= rule.min_increase_mm - 1e-9))
        nadir = min(nadir, value)
    for k, (i, hit) in enumerate(hits):
        if hit and (not rule.confirmation or (k + 1 < len(hits) and hits[k + 1][1])):
            return i
    return None


@settings(derandomize=True, max_examples=100, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(0, 60).map(float)), min_size=1, max_size=9),
    reference=st.sampled_from(["nadir", "baseline"]),
    fraction=st.sampled_from([0.0, 0.2, 0.3]),
    absolute=st.sampled_from([0.0, 5.0]),
    confirmation=st.booleans(),
)
def test_vectorised_rule_matches_a_plain_reading(
    values: list[float | None],
    reference: str,
    fraction: float,
    absolute: float,
    confirmation: bool,
) -> None:
    rule = LocalFailureRule(
        reference=reference,
        min_increase_fraction=fraction,  # type: ignore[arg-type]
        min_increase_mm=absolute,
        confirmation=confirmation,
    )
    dates = [dt.date(2015, 1, 1) + dt.timedelta(days=91 * i) for i in range(len(values))]
    track = track_lesion(dates, values, rule=rule)
    expected = _reference_failure(values, rule)
    assert track.failure_date == (None if expected is None else dates[expected])
