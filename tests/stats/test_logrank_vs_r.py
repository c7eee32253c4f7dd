"""Log-rank / G-rho tests against R survival 3.5 survdiff (fixture logrank.json).

Tolerance: 1e-8 relative for observed, expected (total and per stratum), the variance matrix,
chi-square and p; df identical. Cases: k = 2 and k = 4 groups, stratified and not, rho = 0, 0.5
and 1, on lung, veteran, ovarian, aml, diabetic, larynx and the synthetic tied set. The trend
test is checked against U^2 / V computed in R from survdiff's own obs - exp and var.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rtoutcomes.stats import SurvivalInputError, logrank

RTOL = 1e-8
Close = Callable[[Any, Any, float, str], float]


def _fit_in_r_order(case: dict[str, Any]) -> tuple[Any, list[int]]:
    data = case["data"]
    result = logrank(
        data["time"], data["event"], data["group"], strata=data.get("strata"), rho=case["rho"]
    )
    ours = [str(level) for level in result.levels]
    assert sorted(ours) == sorted(case["levels"])
    return result, [ours.index(level) for level in case["levels"]]


def test_logrank_matches_survdiff(logrank_case: dict[str, Any], assert_close: Close) -> None:
    case = logrank_case
    result, idx = _fit_in_r_order(case)
    assert result.df == case["df"]
    assert result.rho == case["rho"]
    assert_close(result.n[idx], case["n"], 0.0, "n")
    assert_close(result.observed[idx], case["obs"], RTOL, "observed")
    assert_close(result.expected[idx], case["exp"], RTOL, "expected")
    assert_close(result.variance[np.ix_(idx, idx)], case["var"], RTOL, "variance")
    assert_close(result.statistic, case["chisq"], RTOL, "chi-square")
    assert_close(result.p, case["pvalue"], RTOL, "p")
    # R gives obs/exp as groups x strata; ours are strata x groups.
    by_stratum = np.asarray(case["obs_by_stratum"]).reshape(len(idx), -1).T
    assert_close(result.observed_by_stratum[:, idx], by_stratum, RTOL, "observed by stratum")
    by_stratum = np.asarray(case["exp_by_stratum"]).reshape(len(idx), -1).T
    assert_close(result.expected_by_stratum[:, idx], by_stratum, RTOL, "expected by stratum")
    if "trend" in case:
        scores = dict(zip(case["levels"], case["trend"]["scores"], strict=True))
        ours = {level: scores[str(level)] for level in result.levels}
        if case["trend"]["v"] == 0:  # R divides 0 by 0; we refuse
            with pytest.raises(SurvivalInputError, match="zero variance"):
                result.trend(ours)
            return
        trend = result.trend(ours)
        assert_close(trend.u, case["trend"]["u"], RTOL, "trend U")
        assert_close(trend.v, case["trend"]["v"], RTOL, "trend V")
        assert_close(trend.statistic, case["trend"]["chisq"], RTOL, "trend chi-square")
        assert_close(trend.p, case["trend"]["pvalue"], RTOL, "trend p")
