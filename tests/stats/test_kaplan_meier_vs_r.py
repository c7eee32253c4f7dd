"""Kaplan-Meier against R survival 3.5 (fixture tests/reference/fixtures/kaplan_meier.json).

Tolerances: 1e-8 relative for every curve quantity, limit, summary(times=) value and the
quantile limits; medians and quantiles must be identical (they are data times or midpoints).
Cases: lung (all, one sex, integer and fractional case weights), veteran, ovarian, aml, diabetic,
KMsurv larynx, a synthetic set with heavy ties / tied and late censoring / an event at time 0,
and curves flat at exactly 0.5 (half-way rule) or never reaching it (median NA).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rtoutcomes.stats import kaplan_meier

RTOL = 1e-8
CONF_TYPES = ("plain", "log", "log-log")

Close = Callable[[Any, Any, float, str], float]
Ref = Callable[[str], dict[str, Any]]


@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_curve_matches_r(km_case: dict[str, Any], conf_type: str, assert_close: Close) -> None:
    case = km_case
    data, curve, ref = case["data"], case["curve"], case["fits"][conf_type]
    fit = kaplan_meier(
        data["time"],
        data["event"],
        weights=data.get("weights"),
        conf_type=conf_type,
        conf_level=case["conf_level"],
    )
    assert_close(fit.time, curve["time"], 0.0, "time")
    for name in ("n_risk", "n_event", "n_censor"):
        assert_close(getattr(fit, name), curve[name], RTOL, name)
    assert_close(fit.survival, curve["surv"], RTOL, "survival")
    assert_close(fit.cumulative_hazard, curve["cumhaz"], RTOL, "cumulative hazard")
    # R's std.err is on the log scale for Greenwood, on the survival scale for the jackknife.
    assert fit.variance == ("greenwood" if curve["logse"] else "infinitesimal jackknife")
    r_se = fit.std_err_log if curve["logse"] else fit.std_err
    assert_close(r_se, curve["std_err"], RTOL, "std.err")
    assert_close(fit.lower, ref["lower"], RTOL, "lower")
    assert_close(fit.upper, ref["upper"], RTOL, "upper")


@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_quantiles_match_r(km_case: dict[str, Any], conf_type: str, assert_close: Close) -> None:
    case = km_case
    data, ref = case["data"], case["fits"][conf_type]["quantile"]
    fit = kaplan_meier(
        data["time"],
        data["event"],
        weights=data.get("weights"),
        conf_type=conf_type,
        conf_level=case["conf_level"],
    )
    q = fit.quantile(ref["probs"])
    # Identical, not close: a quantile is a data time or the midpoint of two.
    assert_close(q.estimate, ref["quantile"], 0.0, "quantile")
    assert_close(q.lower, ref["lower"], 0.0, "quantile lower")
    assert_close(q.upper, ref["upper"], 0.0, "quantile upper")
    median = fit.median
    assert [median.estimate, median.lower, median.upper] == pytest.approx(
        [q.estimate[1], q.lower[1], q.upper[1]], nan_ok=True, rel=0, abs=0
    )


@pytest.mark.parametrize("conf_type", CONF_TYPES)
@pytest.mark.parametrize("extend", [False, True])
def test_summary_at_times_matches_r(
    km_case: dict[str, Any], conf_type: str, extend: bool, assert_close: Close
) -> None:
    case = km_case
    data = case["data"]
    ref = case["fits"][conf_type]["at"]["extend" if extend else "no_extend"]
    fit = kaplan_meier(
        data["time"],
        data["event"],
        weights=data.get("weights"),
        conf_type=conf_type,
        conf_level=case["conf_level"],
    )
    at = fit.at(case["at_times"], extend=extend)
    assert_close(at.time, ref["time"], 0.0, "time")
    for ours, theirs in [
        ("survival", "surv"),
        ("std_err", "std_err"),
        ("lower", "lower"),
        ("upper", "upper"),
        ("n_risk", "n_risk"),
        ("n_event", "n_event"),
        ("n_censor", "n_censor"),
    ]:
        assert_close(getattr(at, ours), ref[theirs], RTOL, ours)
    assert_close(at.cum_event, np.cumsum(ref["n_event"]), RTOL, "cumulative events")


def test_named_cases_are_what_they_claim(r_reference: Ref) -> None:
    """Guard the fixture itself: the special curves really exercise the special rules."""
    cases = {c["label"]: c for c in r_reference("kaplan_meier")["cases"]}
    medians = {label: c["fits"]["log"]["quantile"]["quantile"][1] for label, c in cases.items()}
    assert medians["median flat at 0.5 between events"] == 6.5
    assert medians["median flat at 0.5 to the end"] == 7.5
    assert np.isnan(medians["median never reached"])
    assert not cases["lung, fractional weights"]["curve"]["logse"]
    assert np.isinf(cases["veteran"]["curve"]["std_err"][-1])  # curve reaches 0
    assert cases["synthetic ties"]["curve"]["time"][0] == 0.0  # an event at time 0
    assert cases["lung, 90% limits"]["conf_level"] == 0.90
    reaching_zero = cases["fractional weights, curve reaching 0"]["curve"]
    assert reaching_zero["surv"][-1] == 0 and not reaching_zero["logse"]
