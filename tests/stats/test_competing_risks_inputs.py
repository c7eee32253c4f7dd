"""Competing-risks inputs: status codes, clear errors, result tables."""

from __future__ import annotations

import numpy as np
import pytest

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.stats import SurvivalInputError, cumulative_incidence, gray_test

TIME = [1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 5.0, 6.0, 2.5, 7.0]
STATUS = [1, 0, 1, 2, 1, 0, 2, 1, 2, 0]
GROUP = ["x", "x", "y", "x", "y", "y", "x", "y", "x", "y"]


def test_text_status_codes_give_the_numeric_answer() -> None:
    names = {0: "censored", 1: "local failure", 2: "death"}
    text = [names[s] for s in STATUS]
    by_text = cumulative_incidence(TIME, text, group=GROUP, censor_code="censored")
    by_code = cumulative_incidence(TIME, STATUS, group=GROUP)
    assert [c.cause for c in by_text] == ["death"] * 2 + ["local failure"] * 2
    failure_text = by_text.curve("local failure", "y")
    failure_code = by_code.curve(1, "y")
    np.testing.assert_array_equal(failure_text.estimate, failure_code.estimate)
    np.testing.assert_array_equal(failure_text.variance, failure_code.variance)
    assert by_text.tests is not None and by_code.tests is not None
    np.testing.assert_array_equal(by_text.tests.statistic[::-1], by_code.tests.statistic)


def test_cause_codes_choose_the_curves_and_others_still_compete() -> None:
    only = cumulative_incidence(TIME, STATUS, cause_codes=[1])
    full = cumulative_incidence(TIME, STATUS)
    assert [c.cause for c in only] == [1]
    np.testing.assert_array_equal(only.curve(1).estimate, full.curve(1).estimate)
    # Recoding the competing event 2 as 3 changes nothing for cause 1.
    recoded = cumulative_incidence(TIME, [3 if s == 2 else s for s in STATUS], cause_codes=[1])
    np.testing.assert_array_equal(recoded.curve(1).variance, full.curve(1).variance)
    # ...but calling it censoring does.
    censored = cumulative_incidence(TIME, [0 if s == 2 else s for s in STATUS])
    assert censored.curve(1).estimate[-1] != full.curve(1).estimate[-1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time": [1.0, np.nan], "status": [1, 0], "nan_policy": "raise"}, "time: row 1"),
        ({"time": [1.0, -2.0], "status": [1, 0]}, "times must be >= 0"),
        ({"time": [1.0, 2.0], "status": [1]}, "status: has 1 rows"),
        ({"time": [1.0, 2.0], "status": [1.0, np.nan], "nan_policy": "raise"}, "status: row 1"),
        ({"time": [1.0, 2.0], "status": [0, 0]}, "no events"),
        ({"time": [1.0, 2.0], "status": ["a", "b"]}, "censor_code: 0 cannot mark"),
        ({"time": [1.0, 2.0], "status": [1, 2], "cause_codes": [3]}, "3 never occurs"),
        ({"time": [1.0, 2.0], "status": [1, 2], "cause_codes": [0]}, "is the censor_code"),
        ({"time": [1.0, 2.0], "status": [1, 2], "cause_codes": [1, 1]}, "a cause twice"),
        (
            {"time": [1.0, 2.0], "status": [1, 2], "group": ["a", None], "nan_policy": "raise"},
            "group: row 1",
        ),
        ({"time": [1.0, 2.0], "status": [1, 2], "conf_level": 1.5}, "conf_level"),
        ({"time": [], "status": []}, "no rows"),
        ({"time": [1.0], "status": [1], "nan_policy": "drop"}, "nan_policy: expected"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SurvivalInputError, match=message) as info:
        cumulative_incidence(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, RtOutcomesError)


def test_gray_test_needs_groups_and_a_sane_rho() -> None:
    with pytest.raises(SurvivalInputError, match="two or more groups"):
        gray_test(TIME, STATUS, ["a"] * len(TIME))
    with pytest.raises(SurvivalInputError, match="rho"):
        gray_test(TIME, STATUS, GROUP, rho=-1)
    with pytest.raises(SurvivalInputError, match="strata: has 2 rows"):
        gray_test(TIME, STATUS, GROUP, strata=["s", "t"])


def test_singular_variance_gives_nan_not_cmprsk_minus_one() -> None:
    # Cause 2 occurs only in a stratum where group y has no rows: no information on it.
    time = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    status = [1, 1, 1, 2, 0, 1]
    group = ["x", "y", "x", "x", "y", "y"]
    strata = ["s", "s", "s", "t", "s", "s"]
    result = gray_test(time, status, group, strata=strata)
    # R: cuminc(...)$Tests gives stat 1.593865 (p 0.2067747) for cause 1 and -1 (p 1) for 2.
    assert result.statistic[0] == pytest.approx(1.593865, rel=1e-6)
    assert result.p[0] == pytest.approx(0.2067747, rel=1e-6)
    assert np.isnan(result.statistic[1]) and np.isnan(result.p[1])
    np.testing.assert_array_equal(result.variance[1], [[0.0]])


def test_tables() -> None:
    fit = cumulative_incidence(TIME, STATUS, group=GROUP)
    frame = fit.to_frame()
    assert list(frame.columns) == [
        "group",
        "cause",
        "time",
        "n_risk",
        "n_event",
        "estimate",
        "std_err",
        "lower",
        "upper",
    ]
    assert len(frame) == sum(c.time.shape[0] for c in fit)
    at = fit.at([0, 2, 100])
    at_frame = at.to_frame()
    assert len(at_frame) == len(fit) * 3
    assert at_frame["estimate"].isna().sum() == len(fit)  # beyond every group's follow-up
    assert fit.tests is not None
    assert list(fit.tests.to_frame()["cause"]) == [1, 2]
    assert "Gray's test" in str(fit)
    assert "<table" in fit._repr_html_()
    ungrouped = cumulative_incidence(TIME, STATUS)
    assert ungrouped.tests is None
    assert "group" not in ungrouped.to_frame().columns
    assert "group" not in ungrouped.at([1]).to_frame().columns
    with pytest.raises(KeyError):
        fit.curve(9)
