"""Counting-process Cox models, (start, stop] data, against R's coxph (survival 3.x).

Fixtures from tests/reference/r/cox_counting.R: heart (time-varying transplant; also with
cluster(id)), cgd (recurrent events in survSplit-style rows, strata(hos.cat) + cluster(id)),
channing (left truncation at the age of entry; also with fractional case weights, which makes
R's fit robust). Everything the right-censored model has is compared: estimates, naive and robust
errors, log-likelihoods, the four global tests, concordance, cox.zph and residuals. Tolerances are
relative, 1e-8 or tighter (agreement found: ~1e-12, see docs/counting-process.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from cox_fixtures import load, model_inputs, numbers

from rtoutcomes.stats import CoxResult, cox, cox_residuals, cox_zph

CASES = ["heart", "heart_cluster", "cgd", "channing", "channing_weights"]
TIES = ["efron", "breslow"]
RTOL = 1e-8


def close(actual: Any, expected: Any, what: str, rtol: float = RTOL, atol: float = 0.0) -> None:
    np.testing.assert_allclose(
        np.ravel(np.asarray(actual, dtype=float)),
        numbers(np.ravel(np.asarray(expected, dtype=object)).tolist()),
        rtol=rtol,
        atol=atol,
        err_msg=what,
    )


def fit(case: str, ties: str) -> tuple[CoxResult, dict[str, Any]]:
    fixture = load(f"coxcp_{case}")
    return cox(**model_inputs(fixture), ties=ties), fixture[ties]


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", CASES)
def test_estimates_and_tests_match_r(case: str, ties: str) -> None:
    model, r = fit(case, ties)
    assert (model.n, model.n_events) == (r["n"], r["nevent"])
    close(model.coef, r["coef"], "coef")
    close(model.naive_se, r["se"], "se")
    if r["robust_se"] is None:
        assert model.robust_se is None
    else:
        close(model.robust_se, r["robust_se"], "robust se")
        assert model.robust_score_test is not None
        close(model.robust_score_test.statistic, r["robust_score"]["statistic"], "robust score")
    close([model.loglik_null, model.loglik], r["loglik"], "loglik", rtol=1e-10)
    for mine, theirs in (
        (model.lr_test, r["lr"]),
        (model.wald_test, r["wald"]),
        (model.score_test, r["score"]),
    ):
        close([mine.statistic, mine.p], [theirs["statistic"], theirs["p"]], "test")
    assert model.iterations == r["iter"]


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", CASES)
def test_concordance_matches_r(case: str, ties: str) -> None:
    model, r = fit(case, ties)
    c, rc = model.concordance, r["concordance"]
    close(
        [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy],
        [rc["concordant"], rc["discordant"], rc["tied.x"], rc["tied.y"], rc["tied.xy"]],
        "pair counts",
        rtol=1e-10,
    )
    close([c.concordance, c.std], [rc["concordance"], rc["std"]], "concordance", rtol=1e-10)


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("case", CASES)
def test_zph_and_residuals_match_r(case: str, ties: str) -> None:
    model, r = fit(case, ties)
    for transform in ("identity", "km", "rank"):
        z = cox_zph(model, transform)  # type: ignore[arg-type]
        frame, expected = z.to_frame(), r["zph"][transform]
        close(frame["chisq"], expected["chisq"], f"zph chisq {transform}")
        close(frame["p"], expected["p"], f"zph p {transform}")
        close(z.x, expected["x"], f"zph transformed time {transform}")
    # residuals are differences of O(1) terms: relative where large, 1e-10 absolute near 0
    for kind, key in (
        ("martingale", "martingale"),
        ("score", "score_residuals"),
        ("schoenfeld", "schoenfeld"),
        ("dfbeta", "dfbeta"),
    ):
        mine = cox_residuals(model, kind).values  # type: ignore[arg-type]
        close(mine, r[key], kind, rtol=RTOL, atol=1e-10)


def test_intervals_are_checked_and_missing_starts_dropped() -> None:
    from rtoutcomes.stats import CoxInputError

    x = np.array([[0.0], [1.0], [0.0], [1.0]])
    with pytest.raises(CoxInputError, match=r"time: row 1 .* after the start time"):
        cox(x, ([0.0, 3.0, 0.0, 1.0], [2.0, 3.0, 4.0, 5.0]), [1, 1, 0, 1])
    with pytest.raises(CoxInputError, match="pair"):
        cox(x, ([0.0] * 4, [1.0] * 4, [1.0] * 4), [1, 1, 0, 1])  # type: ignore[arg-type]
    inputs = model_inputs(load("coxcp_heart"))
    start, stop = inputs.pop("time")
    start = start.copy()
    start[5] = np.nan
    fit = cox(**inputs, time=(start, stop))
    assert fit.n == start.shape[0] - 1 and fit.n_dropped == 1


def test_entry_at_zero_is_the_right_censored_fit() -> None:
    """(0, t] intervals are the right-censored model: same numbers to rounding."""
    fixture = load("coxcp_heart")
    inputs = model_inputs(fixture)
    start, stop = inputs.pop("time")
    rows = np.flatnonzero(start == 0)
    x = inputs["X"].matrix[rows]
    plain = cox(x, stop[rows], inputs["event"][rows])
    counting = cox(x, (start[rows], stop[rows]), inputs["event"][rows])
    np.testing.assert_allclose(counting.coef, plain.coef, rtol=1e-12)
    np.testing.assert_allclose(counting.naive_se, plain.naive_se, rtol=1e-12)
    assert counting.concordance.concordance == pytest.approx(
        plain.concordance.concordance, rel=1e-13
    )
