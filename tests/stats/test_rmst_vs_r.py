"""rmst (restricted mean survival time) against R survival's rmean, and the survRM2 contrasts.

Fixtures from tests/reference/r/rmst.R: lung by sex at 365 and 730 days, ovarian by rx at 500
and 1000 days (1000 is past the last follow-up of one arm: the curve is extended flat, as R).
Per group RMST and se(rmean) are R's printed values; the difference and ratio are computed in R
from them with survRM2's definitions (Uno et al. 2014). Agreement required: 1e-10 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
from cox_fixtures import load, numbers

from rtoutcomes.stats import SurvivalInputError, kaplan_meier, landmark, rmst


@pytest.mark.parametrize("name", ["lung", "ovarian"])
def test_rmst_matches_r(name: str) -> None:
    fixture = load(f"rmst_{name}")
    time, event, group = (numbers(fixture[k]) for k in ("time", "event", "group"))
    for r in fixture["results"]:
        result = rmst(time, event, r["tau"], group=group)
        np.testing.assert_allclose(result.rmst, numbers(r["rmst"]), rtol=1e-10)
        np.testing.assert_allclose(result.std_err, numbers(r["se"]), rtol=1e-10)
        np.testing.assert_allclose(result.lower, numbers(r["lower"]), rtol=1e-10)
        np.testing.assert_allclose(result.upper, numbers(r["upper"]), rtol=1e-10)
        assert result.difference is not None and result.ratio is not None
        for contrast, expected in (
            (result.difference, r["difference"]),
            (result.ratio, r["ratio"]),
        ):
            np.testing.assert_allclose(
                [contrast.estimate, contrast.lower, contrast.upper, contrast.p],
                [expected["estimate"], expected["lower"], expected["upper"], expected["p"]],
                rtol=1e-10,
            )
        np.testing.assert_allclose(result.rmtl, r["tau"] - numbers(r["rmst"]), rtol=1e-10)


def test_closed_form_and_errors() -> None:
    # no censoring before tau: RMST = mean of min(T, tau); one step at 2 of 1/2
    one = rmst([2.0, 10.0], [1, 0], 5.0)
    assert one.rmst[0] == pytest.approx(2 * 1.0 + 3 * 0.5)
    assert one.difference is None
    with pytest.raises(SurvivalInputError, match="tau"):
        rmst([1.0, 2.0], [1, 0], 0.0)
    assert "tau = 5" in repr(one)


def test_landmark_keeps_the_rows_at_risk_and_times_them_from_it() -> None:
    time = np.array([1.0, 3.0, 3.0, 5.0, 8.0, 12.0])
    event = np.array([1, 0, 1, 1, 0, 1])
    lm = landmark(time, event, 3.0)
    assert lm.row.tolist() == [3, 4, 5] and lm.n_excluded == 3
    assert lm.time.tolist() == [2.0, 5.0, 9.0] and lm.start.tolist() == [3.0] * 3
    # Kaplan-Meier from the landmark is the conditional survival S(t) / S(3)
    whole = kaplan_meier(time, event)
    after = kaplan_meier(lm.time, lm.event)
    s3 = whole.at([3.0]).survival[0]
    np.testing.assert_allclose(after.at([5.0]).survival, whole.at([8.0]).survival / s3)
    with pytest.raises(SurvivalInputError, match="no row is still at risk"):
        landmark(time, event, 20.0)
