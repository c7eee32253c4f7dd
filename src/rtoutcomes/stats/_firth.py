"""Firth-penalised Cox regression (Heinze and Schemper 2001, Stat Med 21:2409), as R's coxphf.

The penalised log partial likelihood l*(beta) = l(beta) + 1/2 log|I(beta)| (Jeffreys' prior)
has a finite maximum even under monotone likelihood (separation: no events in one group), where
the ordinary estimate runs to infinity. Breslow ties, as coxphf. The estimate solves the
modified score U*(beta) = U(beta) + 1/2 d log|I| / d beta = 0 by Newton steps (the Hessian of
l*: I minus half the second derivative of log|I|), step halving on l*; the derivatives of log|I|
are taken by central differences with Richardson extrapolation (error ~1e-11). Confidence
limits are profile penalised likelihood limits (coxphf's default): the beta_j where
2 (l*(beta_hat) - max over the others of l*(beta_j, .)) equals the chi-square quantile; the
likelihood-ratio test is 2 (l*(beta_hat) - l*(0)), coxphf's penalised LR test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._cox._input import CoxInputError, prepare
from rtoutcomes.stats._cox._likelihood import evaluate
from rtoutcomes.stats._cox._model import _centre_and_scale
from rtoutcomes.stats._cox._risksets import RiskSets, build
from rtoutcomes.stats._cox.result import coefficient_frame
from rtoutcomes.stats._distributions import chi2_sf, norm_ppf, norm_sf
from rtoutcomes.stats._result import TabularResult
from rtoutcomes.stats._validate import FloatArray

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, repr=False)
class FirthCox(TabularResult):
    """A Firth-penalised Cox fit: coefficients, Wald errors from the inverse information at the
    estimate, profile penalised likelihood limits, the penalised LR test."""

    names: tuple[str, ...]
    coef: FloatArray
    var: FloatArray
    lower: FloatArray  # profile likelihood limits of the hazard ratios
    upper: FloatArray
    conf_level: float
    loglik: float  # penalised, at the estimate
    loglik_null: float  # penalised, at beta = 0
    n: int
    n_dropped: int
    n_events: int
    iterations: int

    @property
    def se(self) -> FloatArray:
        out: FloatArray = np.sqrt(np.diag(self.var))
        return out

    @property
    def hr(self) -> FloatArray:
        out: FloatArray = np.exp(self.coef)
        return out

    @property
    def lr_statistic(self) -> float:
        return 2.0 * (self.loglik - self.loglik_null)

    @property
    def lr_p(self) -> float:
        return float(chi2_sf(self.lr_statistic, self.coef.shape[0]))

    def _headline(self) -> str:
        return (f"Firth (penalised), n = {self.n}, events = {self.n_events}, penalised loglik = "
                f"{self.loglik:.6g}, LR = {self.lr_statistic:.4g} on {self.coef.shape[0]} df, "
                f"p = {self.lr_p:.3g}")

    def to_frame(self) -> pd.DataFrame:
        """Coefficients as ``cox``'s table; limits are the profile likelihood ones, and ``p`` is
        the Wald p-value (coxphf prints the profile LR p per coefficient; see ``profile_p``)."""
        z = self.coef / self.se
        return coefficient_frame(self.names, {"coef": self.coef, "hr": self.hr, "se": self.se,
                                              "z": z, "p": 2 * norm_sf(np.abs(z))},
                                 self.conf_level, self.lower, self.upper)


class _Penalised:
    """l*(beta) and its modified score on laid-out risk sets (scaled covariates)."""

    def __init__(self, rs: RiskSets) -> None:
        self.rs = rs

    def value(self, beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        ev = evaluate(self.rs, beta)
        sign, logdet = np.linalg.slogdet(ev.information)
        pen = ev.loglik + 0.5 * logdet if sign > 0 else -np.inf
        return pen, ev.score, ev.information

    def logdet(self, beta: FloatArray) -> float:
        sign, logdet = np.linalg.slogdet(evaluate(self.rs, beta, information=True).information)
        return float(logdet) if sign > 0 else -np.inf

    def penalty_gradient(self, beta: FloatArray, free: np.ndarray) -> FloatArray:
        """d log|I| / d beta over the ``free`` coordinates (Richardson-extrapolated central
        differences: error O(h^4))."""
        out = np.zeros(int(free.sum()))
        for k, j in enumerate(np.flatnonzero(free).tolist()):
            def diff(h: float, j: int = j) -> float:
                step = np.zeros_like(beta)
                step[j] = h
                return (self.logdet(beta + step) - self.logdet(beta - step)) / (2 * h)
            out[k] = (4 * diff(5e-4) - diff(1e-3)) / 3
        return out

    def score(self, beta: FloatArray, score: FloatArray, free: np.ndarray) -> FloatArray:
        """The modified score U* = U + 1/2 d log|I| / d beta (free coordinates)."""
        out: FloatArray = score[free] + 0.5 * self.penalty_gradient(beta, free)
        return out

    def hessian(self, beta: FloatArray, info: FloatArray, free: np.ndarray) -> FloatArray:
        """-d U* / d beta: I minus half the second derivative of log|I| (differences of the
        penalty gradient); I alone if that is not positive definite."""
        idx = np.flatnonzero(free)
        second = np.zeros((idx.shape[0], idx.shape[0]))
        h = 1e-4
        for k, j in enumerate(idx):
            step = np.zeros_like(beta)
            step[j] = h
            second[:, k] = (self.penalty_gradient(beta + step, free)
                            - self.penalty_gradient(beta - step, free)) / (2 * h)
        out: FloatArray = info[np.ix_(free, free)] - 0.25 * (second + second.T)
        if np.all(np.linalg.eigvalsh(out) > 0):
            return out
        fallback: FloatArray = info[np.ix_(free, free)]
        return fallback


def _maximise(pen: _Penalised, beta: FloatArray, free: np.ndarray, *, tol: float,
              iter_max: int) -> tuple[FloatArray, float, FloatArray, int]:
    """Newton steps on the free coordinates (the others fixed), step halving on l*."""
    value, score, info = pen.value(beta)
    iterations = 0
    for iterations in range(1, iter_max + 1):  # noqa: B007 - the count is reported
        u = pen.score(beta, score, free)
        if np.max(np.abs(u)) < tol:
            break
        step = np.linalg.solve(pen.hessian(beta, info, free), u)
        step = np.clip(step, -5.0, 5.0)  # coxphf's maxstep
        for _ in range(30):
            trial = beta.copy()
            trial[free] += step
            t_value, t_score, t_info = pen.value(trial)
            if np.isfinite(t_value) and t_value >= value - 1e-12 * max(1.0, abs(value)):
                break
            step /= 2
        beta, value, score, info = trial, t_value, t_score, t_info
        if np.max(np.abs(step)) < 1e-12:
            break
    return beta, value, info, iterations


def firth_cox(
    X: Any,
    time: ArrayLike,
    event: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    conf_level: float = 0.95,
    tol: float = 1e-10,
    iter_max: int = 100,
    profile: bool = True,
) -> FirthCox:
    """Firth-penalised Cox model (R's ``coxphf``, Breslow ties): finite estimates under
    separation, profile penalised likelihood limits, penalised likelihood-ratio test.

    ``time`` may be (start, stop) intervals as for ``cox``. ``profile=False`` skips the profile
    limits (Wald limits from the inverse information instead).
    """
    data = prepare(X, time, event, names=names, strata=None, weights=None, cluster=None)
    p = data.x.shape[1]
    if p == 0:
        raise CoxInputError("X: a Cox model needs at least one covariate")
    if not data.event.any():
        raise CoxInputError("event: no events; a Cox model needs at least one")
    means, scale = _centre_and_scale(data)
    rs = build(data.x, data.time, data.event, None, None, efron=False, means=means,
               scale=scale, start=data.start)
    pen = _Penalised(rs)
    all_free = np.ones(p, dtype=bool)
    beta, value, info, iterations = _maximise(pen, np.zeros(p), all_free, tol=tol,
                                              iter_max=iter_max)
    null_value = pen.value(np.zeros(p))[0]
    unscale = np.log(scale).sum()  # log|I| in original units = scaled - 2 sum log(scale)
    coef = beta * scale
    var = np.linalg.inv(info) * np.outer(scale, scale)
    z = float(norm_ppf(1 - (1 - conf_level) / 2))
    se = np.sqrt(np.diag(var))
    lower, upper = coef - z * se, coef + z * se
    if profile:
        from scipy.optimize import brentq

        crit = float(z * z)  # chi-square(1) quantile at conf_level
        for j in range(p):
            free = all_free.copy()
            free[j] = False

            def excess(b: float, j: int = j, free: np.ndarray = free) -> float:
                start = beta.copy()
                start[j] = b
                _, prof, _, _ = _maximise(pen, start, free, tol=tol, iter_max=iter_max) \
                    if free.any() else (start, pen.value(start)[0], None, 0)
                return 2 * (value - prof) - crit

            for side, out in ((-1.0, lower), (1.0, upper)):
                width = max(se[j] / scale[j], 1e-3)
                far = beta[j] + side * width
                while excess(far) < 0 and abs(far - beta[j]) < 1e3:
                    width *= 2
                    far = beta[j] + side * width
                out[j] = brentq(excess, beta[j], far, xtol=1e-10) * scale[j] if excess(
                    far) > 0 else side * np.inf
    return FirthCox(
        names=data.names, coef=coef, var=var, lower=np.exp(lower), upper=np.exp(upper),
        conf_level=conf_level, loglik=value - unscale, loglik_null=null_value - unscale,
        n=int(data.x.shape[0]), n_dropped=data.n_dropped, n_events=int(data.event.sum()),
        iterations=iterations,
    )
