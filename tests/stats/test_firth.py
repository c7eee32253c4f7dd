"""Firth-penalised Cox (Heinze and Schemper 2001, Biometrics 57:114-119; R's coxphf).

No R package for it is on this machine, so the checks are:
- a closed form: two subjects, the one with x = 1 dies first, the other is censored. The
  partial likelihood is pi = e^b / (e^b + 1), the information pi (1 - pi), so the penalised
  log-likelihood is 1.5 log pi + 0.5 log(1 - pi), maximal at pi = 3/4: b = log 3 exactly,
  while the ordinary estimate is infinite (the negative control: cox flags it);
- a stratified closed form: two such strata give l* = 2.5 log pi + 0.5 log(1 - pi), b = log 5
  (the penalty is the information of the stratified partial likelihood);
- the definitions: the penalised LR statistic is 2 (l*(b) - l*(0)), the profile limits are
  where the profile penalised deviance equals the chi-square quantile, each coefficient's test
  is that deviance at 0; whole-number case weights equal repeated rows; Efron equals Breslow
  without ties;
- the firthmodels package (PyPI; its authors report ~1e-6 agreement with coxphf) on a separated
  data set: coefficients, standard errors and penalised log-likelihood to 1e-8, profile limits
  to 1e-6 (firthmodels' own root tolerance).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import chi2

from rtoutcomes.stats import (
    CoxConvergenceWarning,
    CoxInputError,
    FirthCox,
    MonotoneLikelihoodWarning,
    cox,
    firth_cox,
)


def test_closed_form_two_subjects() -> None:
    fit = firth_cox([[1.0], [0.0]], [1.0, 2.0], [1, 0], names=["x"], profile=False)
    assert fit.coef[0] == pytest.approx(np.log(3.0), abs=1e-9)
    # l*(log 3) = 1.5 log(3/4) + 0.5 log(1/4); l*(0) = 2 log(1/2)
    assert fit.loglik == pytest.approx(1.5 * np.log(0.75) + 0.5 * np.log(0.25), abs=1e-12)
    assert fit.loglik_null == pytest.approx(2 * np.log(0.5), abs=1e-12)
    assert fit.lr_statistic == pytest.approx(2 * (fit.loglik - fit.loglik_null), abs=0)
    with pytest.warns((MonotoneLikelihoodWarning, CoxConvergenceWarning)):
        plain = cox([[1.0], [0.0]], [1.0, 2.0], [1, 0], ties="breslow")
    assert plain.coef[0] > 10  # the unpenalised estimate diverges


def _separated() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 80
    x = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    t = rng.exponential(10 * np.exp(-0.7 * x[:, 1]))
    e = (rng.random(n) < 0.7).astype(int)
    e[x[:, 0] == 1] = 0  # no event when g = 1: the ordinary Cox estimate runs to -inf
    return x, t, e


def _profile_deviance(fit: FirthCox, j: int, coef: float) -> float:
    """2 (l*(b_hat) - max l* with coefficient j at ``coef``), from the fit's own likelihood."""
    assert fit._penalised is not None and fit._beta is not None and fit._scale is not None
    at = fit._penalised.at_fixed(fit._beta, {j: coef / fit._scale[j]})
    return float(2 * (fit.loglik + np.log(fit._scale).sum() - at))


def test_profile_limits_are_where_the_deviance_crosses_the_quantile() -> None:
    x, t, e = _separated()
    fit = firth_cox(x, t, e, names=["g", "z"])
    assert np.all(fit.lower < fit.hr) and np.all(fit.hr < fit.upper)
    assert np.isfinite(fit.coef).all() and fit.coef[0] < -2
    assert "Firth" in repr(fit) and list(fit.to_frame().index) == ["g", "z"]
    quantile = float(chi2.ppf(0.95, 1))
    for j in range(2):
        for limit in (fit.lower[j], fit.upper[j]):
            assert _profile_deviance(fit, j, np.log(limit)) == pytest.approx(quantile, abs=1e-7)
        # the coefficient's test: the same deviance at 0, and test_zero of that column
        assert fit.term_statistic[j] == pytest.approx(_profile_deviance(fit, j, 0.0), abs=1e-9)
        assert fit.test_zero([j]).statistic == pytest.approx(fit.term_statistic[j], abs=1e-9)
    # both columns at 0: the model's penalised likelihood-ratio test
    assert fit.test_zero([0, 1]).statistic == pytest.approx(fit.lr_statistic, abs=1e-9)
    assert fit.p == pytest.approx(chi2.sf(fit.term_statistic, 1), rel=1e-12)


def test_stratified_closed_form() -> None:
    """Two strata of two subjects, in each the exposed one dies first: the stratified
    likelihood is 2 log pi and its information 2 pi (1 - pi), so l* = 2.5 log pi +
    0.5 log(1 - pi) + const, maximal at pi = 5/6: b = log 5. Unstratified (negative control)
    the second death has the unexposed subject of the other stratum at risk too, and the
    estimate is another."""
    x, time, event = [[1.0], [0.0], [1.0], [0.0]], [1.0, 5.0, 3.0, 4.0], [1, 0, 1, 0]
    strata = ["A", "A", "B", "B"]
    fit = firth_cox(x, time, event, strata=strata, profile=False)
    assert fit.coef[0] == pytest.approx(np.log(5.0), abs=1e-9)
    assert fit.stratified and fit.loglik == pytest.approx(
        2.5 * np.log(5 / 6) + 0.5 * np.log(1 / 6) + 0.5 * np.log(2), abs=1e-12
    )
    pooled = firth_cox(x, time, event, profile=False)
    assert abs(pooled.coef[0] - np.log(5.0)) > 0.1


def test_whole_weights_equal_repeated_rows() -> None:
    x, t, e = _separated()
    weights = np.tile([1.0, 2.0, 3.0], len(t))[: len(t)]
    weighted = firth_cox(x, t, e, weights=weights)
    rows = np.repeat(np.arange(len(t)), weights.astype(int))
    repeated = firth_cox(x[rows], t[rows], e[rows])
    for key in ("coef", "se", "lower", "upper", "term_statistic"):
        np.testing.assert_allclose(
            getattr(weighted, key), getattr(repeated, key), rtol=1e-7, err_msg=key
        )
    assert weighted.loglik == pytest.approx(repeated.loglik, rel=1e-10)


def test_efron_equals_breslow_without_ties_and_differs_with_them() -> None:
    x, t, e = _separated()
    breslow = firth_cox(x, t, e, profile=False)
    efron = firth_cox(x, t, e, ties="efron", profile=False)
    np.testing.assert_allclose(efron.coef, breslow.coef, rtol=1e-9)
    tied = np.ceil(t)  # whole units: many ties
    assert (
        abs(
            firth_cox(x, tied, e, ties="efron", profile=False).coef[1]
            - firth_cox(x, tied, e, profile=False).coef[1]
        )
        > 1e-3
    )
    with pytest.raises(CoxInputError, match="ties"):
        firth_cox(x, t, e, ties="exact")  # type: ignore[arg-type]


def test_agrees_with_firthmodels() -> None:
    firthmodels = pytest.importorskip(
        "firthmodels", reason="firthmodels (test extra) not installed: cross-check skipped"
    )
    x, t, e = _separated()
    fit = firth_cox(x, t, e, names=["g", "z"])
    y = np.array(
        list(zip(e.astype(bool), t, strict=True)), dtype=[("event", bool), ("time", float)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its profile search warns on the unbounded side
        ref = firthmodels.FirthCoxPH(backend="numpy", gtol=1e-10, xtol=1e-12, max_iter=200).fit(
            x, y
        )
        limits = np.exp(ref.conf_int(method="pl", tol=1e-9, max_iter=200))
    np.testing.assert_allclose(fit.coef, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(fit.se, ref.bse_, rtol=1e-8)
    assert fit.loglik == pytest.approx(ref.loglik_, rel=1e-10)
    np.testing.assert_allclose(fit.lower, limits[:, 0], rtol=1e-6)
    np.testing.assert_allclose(fit.upper, limits[:, 1], rtol=1e-6)
