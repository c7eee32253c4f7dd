"""Cumulative incidence and Gray's test against R's cmprsk (fixture competing_risks.json).

Fixtures come from tests/reference/r/competing_risks.R (cmprsk 2.2 cuminc / timepoints); each
case carries its data. Cases: a hand-checkable set (also checked by hand below), a cmprsk-style
simulation (3 groups, 2 causes, ties, an event at time 0, a group ending on a failure), with
strata and rho = 1, survival's mgus2 (progression vs death) and KMsurv's bmt (relapse vs death
in remission), with strata and rho.

Tolerances (relative): every step of every curve (estimate, variance) 1e-8; the log(-log)
limits 1e-8; timepoints 1e-8; Gray's statistic and p-value 1e-6. The times of the steps must be
identical. The implementation agrees with R to ~1e-13 (R's JSON keeps 15 digits).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtoutcomes.stats import cumulative_incidence, gray_test

RTOL_CURVE = 1e-8
RTOL_TEST = 1e-6
FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "fixtures" / "competing_risks.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["cases"]

Close = Callable[[Any, Any, float, str], float]


def numbers(values: Any) -> np.ndarray:
    if values and isinstance(values[0], list):
        return np.array([numbers(v) for v in values])
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def fit_case(case: dict[str, Any]) -> Any:
    data = case["data"]
    return cumulative_incidence(
        data["time"],
        data["status"],
        group=data.get("group"),
        strata=data.get("strata"),
        rho=case["rho"],
        conf_level=case["conf_level"],
    )


def curve_name(curve: Any) -> str:
    """cuminc's name of a curve: "<group> <cause>" (group "1" without groups)."""
    return f"{1 if curve.group is None else curve.group} {curve.cause}"


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_every_curve_step_matches_cuminc(case: dict[str, Any], assert_close: Close) -> None:
    fit = fit_case(case)
    assert [curve_name(c) for c in fit] == [c["name"] for c in case["curves"]]
    for ours, ref in zip(fit, case["curves"], strict=True):
        what = f"{case['label']}: curve {ref['name']}"
        time, estimate, variance = ours.corners()
        assert_close(time, numbers(ref["time"]), 0.0, f"{what} time")
        assert_close(estimate, numbers(ref["est"]), RTOL_CURVE, f"{what} estimate")
        assert_close(variance, numbers(ref["var"]), RTOL_CURVE, f"{what} variance")
        # R's limits are at the corners; ours at the steps (the value after each jump).
        steps = slice(2, 2 + 2 * ours.time.shape[0], 2)
        assert_close(ours.lower, numbers(ref["lower"])[steps], RTOL_CURVE, f"{what} lower")
        assert_close(ours.upper, numbers(ref["upper"])[steps], RTOL_CURVE, f"{what} upper")
        assert np.all(ours.n_event > 0)


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_timepoints_match_r(case: dict[str, Any], assert_close: Close) -> None:
    ref = case["timepoints"]
    at = fit_case(case).at(ref["times"])
    assert_close(at.time, numbers(ref["sorted_times"]), 0.0, "times")
    assert [
        f"{1 if g is None else g} {c}" for g, c in zip(at.groups, at.causes, strict=True)
    ] == ref["names"]
    assert_close(at.estimate, numbers(ref["est"]), RTOL_CURVE, "timepoints estimate")
    assert_close(at.variance, numbers(ref["var"]), RTOL_CURVE, "timepoints variance")


TESTED = [c for c in CASES if "tests" in c]


@pytest.mark.parametrize("case", TESTED, ids=[c["label"] for c in TESTED])
def test_gray_test_matches_cuminc(case: dict[str, Any], assert_close: Close) -> None:
    data, ref = case["data"], case["tests"]
    result = gray_test(
        data["time"], data["status"], data["group"], strata=data.get("strata"), rho=case["rho"]
    )
    assert [str(c) for c in result.causes] == ref["causes"]
    assert_close(result.statistic, numbers(ref["stat"]), RTOL_TEST, "Gray statistic")
    assert_close(np.full(len(ref["df"]), result.df), numbers(ref["df"]), 0.0, "df")
    assert_close(result.p, numbers(ref["p"]), RTOL_TEST, "Gray p-value")
    # cuminc prints 1 - pchisq(), which loses relative precision for tiny p: absolute check.
    assert np.allclose(result.p, numbers(ref["pv"]), rtol=RTOL_TEST, atol=1e-15)
    attached = fit_case(case).tests
    assert attached is not None
    np.testing.assert_array_equal(attached.statistic, result.statistic)


def test_tiny_case_by_hand() -> None:
    """8 patients; exact fractions worked out on paper (no R involved).

    t=1: 8 at risk, cause 1 -> F1 = 1/8, S = 7/8.  t=2: censored.  t=3: 6 at risk, one of each
    cause -> F1 = F2 += (7/8)/6, S = 7/12.  t=4: 4 at risk, cause 1 -> F1 += (7/12)/4, S = 7/16.
    t=5: 3 at risk, cause 2 (and a censoring) -> F2 += (7/16)/3, S = 7/24.  t=6: 1 at risk,
    cause 1 -> F1 += 7/24.  At t=1 the variance is w = S(0)^2 d / n^2 = 1/64.
    """
    time = [1, 2, 3, 3, 4, 5, 5, 6]
    status = [1, 0, 1, 2, 1, 0, 2, 1]
    fit = cumulative_incidence(time, status)
    f = Fraction
    cause1 = [
        f(1, 8),
        f(1, 8) + f(7, 48),
        f(1, 8) + f(7, 48) + f(7, 48),
        f(1, 8) + f(7, 48) + f(7, 48) + f(7, 24),
    ]
    cause2 = [f(7, 48), f(7, 48) + f(7, 48)]
    one, two = fit.curve(1), fit.curve(2)
    np.testing.assert_array_equal(one.time, [1, 3, 4, 6])
    np.testing.assert_array_equal(two.time, [3, 5])
    np.testing.assert_allclose(one.estimate, [float(v) for v in cause1], rtol=1e-15)
    np.testing.assert_allclose(two.estimate, [float(v) for v in cause2], rtol=1e-15)
    np.testing.assert_array_equal(one.n_risk, [8, 6, 4, 1])
    assert one.variance[0] == pytest.approx(1 / 64, rel=1e-15)
    assert one.end == two.end == 6
    # timepoints: NaN beyond the last follow-up, 0 before the first event.
    at = fit.at([7, 0.5, 3])
    np.testing.assert_array_equal(at.time, [0.5, 3, 7])
    np.testing.assert_allclose(at.estimate[0, :2], [0, float(cause1[1])], rtol=1e-15)
    assert np.isnan(at.estimate[:, 2]).all()
