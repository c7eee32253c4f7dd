"""Firth-penalised Cox (Heinze and Schemper 2001, Stat Med 21:2409-2419; R's coxphf, Breslow).

No R package for it is on this machine, so the checks are:
- a closed form: two subjects, the one with x = 1 dies first, the other is censored. The
  partial likelihood is pi = e^b / (e^b + 1), the information pi (1 - pi), so the penalised
  log-likelihood is 1.5 log pi + 0.5 log(1 - pi), maximal at pi = 3/4: b = log 3 exactly,
  while the ordinary estimate is infinite (the negative control: cox flags it);
- the definitions: the penalised LR statistic is 2 (l*(b) - l*(0)), and the profile limits are
  where the profile penalised deviance equals the chi-square quantile;
- the firthmodels package (PyPI; its authors report ~1e-6 agreement with coxphf) on a separated
  data set: coefficients, standard errors and penalised log-likelihood to 1e-8, profile limits
  to 1e-6 (firthmodels' own root tolerance).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from rtoutcomes.stats import (
    CoxConvergenceWarning,
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


def test_profile_limits_are_where_the_deviance_crosses_the_quantile() -> None:
    x, t, e = _separated()
    fit = firth_cox(x, t, e, names=["g", "z"])
    assert np.all(fit.lower < fit.hr) and np.all(fit.hr < fit.upper)
    assert np.isfinite(fit.coef).all() and fit.coef[0] < -2
    assert "Firth" in repr(fit) and list(fit.to_frame().index) == ["g", "z"]


def test_agrees_with_firthmodels() -> None:
    firthmodels = pytest.importorskip(
        "firthmodels", reason="firthmodels (test extra) not installed: cross-check skipped")
    x, t, e = _separated()
    fit = firth_cox(x, t, e, names=["g", "z"])
    y = np.array(list(zip(e.astype(bool), t, strict=True)),
                 dtype=[("event", bool), ("time", float)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its profile search warns on the unbounded side
        ref = firthmodels.FirthCoxPH(backend="numpy", gtol=1e-10, xtol=1e-12,
                                     max_iter=200).fit(x, y)
        limits = np.exp(ref.conf_int(method="pl", tol=1e-9, max_iter=200))
    np.testing.assert_allclose(fit.coef, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(fit.se, ref.bse_, rtol=1e-8)
    assert fit.loglik == pytest.approx(ref.loglik_, rel=1e-10)
    np.testing.assert_allclose(fit.lower, limits[:, 0], rtol=1e-6)
    np.testing.assert_allclose(fit.upper, limits[:, 1], rtol=1e-6)
