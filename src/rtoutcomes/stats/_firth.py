"""Firth-penalised Cox regression (Heinze and Schemper 2001, Biometrics 57:114), as R's coxphf.

The penalised log partial likelihood l*(beta) = l(beta) + 1/2 log|I(beta)| (Jeffreys' prior)
has a finite maximum even under monotone likelihood (separation: no events in one group), where
the ordinary estimate runs to infinity. The estimate solves the modified score
U*(beta) = U(beta) + 1/2 d log|I| / d beta = 0 by Newton steps with the information I as the
step matrix (coxphf's iteration) and step halving on l*; the derivatives of log|I| are taken by
central differences with Richardson extrapolation (error ~1e-11). Confidence limits are profile
penalised likelihood limits (coxphf's default): the beta_j where
2 (l*(beta_hat) - max over the others of l*(beta_j, .)) equals the chi-square quantile; each
coefficient's test is the same profile deviance at beta_j = 0 (coxphf's per-coefficient
chi-square and p), and the model's likelihood-ratio test is 2 (l*(beta_hat) - l*(0)).

coxphf has Breslow ties and no strata or weights. The penalty is defined for any partial
likelihood, so this implementation also takes Efron ties, strata (l and I are those of the
stratified partial likelihood, a sum over strata) and case weights (I of the weighted
likelihood: whole-number weights equal repeated rows). Clustered (robust) variance is not
offered: the profile limits and tests assume independent rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._cox._concordance import concordance_index
from rtoutcomes.stats._cox._input import CoxInputError, prepare
from rtoutcomes.stats._cox._likelihood import evaluate
from rtoutcomes.stats._cox._model import risk_sets
from rtoutcomes.stats._cox.result import ChiSquareTest, coefficient_frame
from rtoutcomes.stats._distributions import chi2_sf, norm_ppf
from rtoutcomes.stats._validate import FloatArray
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

#: loglik, score and information of the (unpenalised) partial likelihood at beta, scaled units
Evaluator = Callable[[FloatArray], tuple[float, FloatArray, FloatArray]]
MAX_STEP = 5.0  # largest Newton step per coordinate (scaled units; coxphf's maxstep)
# Converged when a step is below this (scaled units): the differenced penalty gradient has noise
# of ~1e-9, so |U*| itself need not fall below ``tol``.
XTOL = 1e-10


class _Penalised:
    """l*(beta), its modified score and constrained maxima, from an :data:`Evaluator`."""

    def __init__(self, evaluate_at: Evaluator, *, tol: float, iter_max: int) -> None:
        self.evaluate_at = evaluate_at
        self.tol = tol
        self.iter_max = iter_max

    def value(self, beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        loglik, score, info = self.evaluate_at(beta)
        sign, logdet = np.linalg.slogdet(info)
        pen = loglik + 0.5 * logdet if sign > 0 else -np.inf
        return float(pen), score, info

    def logdet(self, beta: FloatArray) -> float:
        sign, logdet = np.linalg.slogdet(self.evaluate_at(beta)[2])
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

    def maximise(
        self, beta: FloatArray, free: np.ndarray
    ) -> tuple[FloatArray, float, FloatArray, int, bool]:
        """Maximum of l* over the ``free`` coordinates (the others fixed): the estimate, l*,
        the information there, the iterations and whether it converged.

        Quasi-Newton: the step matrix starts as the information I (coxphf's) and takes BFGS
        updates from the modified scores, so it approaches -d2 l* / d beta2, which the penalty
        changes by as much as I itself in a separated direction (with I alone the steps can
        overshoot by a factor of two and never settle). Step halving on l*."""
        value, score, info = self.value(beta)
        if not free.any():
            return beta, value, info, 0, True
        idx = np.ix_(free, free)
        hessian = info[idx].copy()
        u = score[free] + 0.5 * self.penalty_gradient(beta, free)
        for iteration in range(1, self.iter_max + 1):
            if np.max(np.abs(u)) < self.tol:
                return beta, value, info, iteration - 1, True
            try:
                step = np.linalg.solve(hessian, u)
            except np.linalg.LinAlgError:
                return beta, value, info, iteration, False
            tiny = np.max(np.abs(step)) < XTOL  # the differenced penalty's noise floor
            step = np.clip(step, -MAX_STEP, MAX_STEP)
            for _ in range(30):  # step halving until l* does not fall
                trial = beta.copy()
                trial[free] += step
                t_value, t_score, t_info = self.value(trial)
                if np.isfinite(t_value) and t_value >= value - 1e-12 * max(1.0, abs(value)):
                    break
                step = step / 2
            else:
                return beta, value, info, iteration, False
            beta, value, score, info = trial, t_value, t_score, t_info
            if tiny:
                return beta, value, info, iteration, True
            u_new = score[free] + 0.5 * self.penalty_gradient(beta, free)
            y = u - u_new  # the change of -U*: H s for the curvature H of -l*
            sy = float(step @ y)
            if sy > 1e-12 * float(np.linalg.norm(step) * np.linalg.norm(y)):
                hs = hessian @ step
                hessian = hessian - np.outer(hs, hs) / float(step @ hs) + np.outer(y, y) / sy
            u = u_new
        return beta, value, info, self.iter_max, False

    def at_fixed(self, beta_hat: FloatArray, fixed: dict[int, float]) -> float:
        """max l* with the coordinates of ``fixed`` held at the given values (scaled units)."""
        start = beta_hat.copy()
        free = np.ones(beta_hat.shape[0], dtype=bool)
        for j, b in fixed.items():
            start[j] = b
            free[j] = False
        return self.maximise(start, free)[1]


@dataclass(frozen=True, repr=False)
class FirthCox(TabularResult):
    """A Firth-penalised Cox fit: coefficients, Wald errors from the inverse information at the
    estimate, profile penalised likelihood limits and per-coefficient tests (coxphf's
    ``pl = TRUE``), the penalised likelihood-ratio test of the model."""

    names: tuple[str, ...]
    coef: FloatArray
    var: FloatArray
    lower: FloatArray  # profile likelihood limits of the hazard ratios (Wald: profile=False)
    upper: FloatArray
    conf_level: float
    loglik: float  # penalised, at the estimate
    loglik_null: float  # penalised, at beta = 0
    n: int
    n_dropped: int
    n_events: int
    iterations: int
    term_statistic: FloatArray = field(default_factory=lambda: np.zeros(0))
    """Per coefficient: 2 (l*(beta_hat) - max l* with that coefficient 0), coxphf's chi-square
    (the Wald z^2 with ``profile=False``)."""
    ties: str = "breslow"
    stratified: bool = False
    converged: bool = True
    profile: bool = True
    c_index: float = float("nan")  # Harrell's C of the linear predictor
    _penalised: _Penalised | None = field(default=None, compare=False)
    _scale: FloatArray | None = field(default=None, compare=False)
    _beta: FloatArray | None = field(default=None, compare=False)  # the estimate, scaled

    @property
    def se(self) -> FloatArray:
        out: FloatArray = np.sqrt(np.diag(self.var))
        return out

    @property
    def hr(self) -> FloatArray:
        out: FloatArray = np.exp(self.coef)
        return out

    @property
    def z(self) -> FloatArray:
        """Wald z of each coefficient (coef / se)."""
        out: FloatArray = self.coef / self.se
        return out

    @property
    def p(self) -> FloatArray:
        """Per-coefficient p: profile penalised likelihood-ratio (coxphf's default), or Wald
        with ``profile=False``."""
        out: FloatArray = chi2_sf(self.term_statistic, 1)
        return out

    @property
    def lr_statistic(self) -> float:
        return 2.0 * (self.loglik - self.loglik_null)

    @property
    def lr_p(self) -> float:
        return float(chi2_sf(self.lr_statistic, self.coef.shape[0]))

    @property
    def lr_test(self) -> ChiSquareTest:
        """The penalised likelihood-ratio test of the model (coxphf's summary)."""
        return ChiSquareTest(self.lr_statistic, int(self.coef.shape[0]))

    @property
    def wald_test(self) -> ChiSquareTest:
        """b' var^-1 b on p df (coxphf's Wald test)."""
        return ChiSquareTest(
            float(self.coef @ np.linalg.solve(self.var, self.coef)), int(self.coef.shape[0])
        )

    def test_zero(self, columns: Sequence[int]) -> ChiSquareTest:
        """Penalised likelihood-ratio test that the coefficients ``columns`` are all 0 (R's
        ``coxphftest(test = ~ those)``): twice the drop of l* when they are held at 0 and the
        others re-estimated, on len(columns) df. A nested model's test against the model
        without those terms."""
        if self._penalised is None or self._beta is None:
            raise ValueError(
                "test_zero needs the fit's penalised likelihood (a FirthCox from firth_cox)"
            )
        fixed = {int(j): 0.0 for j in columns}
        constrained = self._penalised.at_fixed(self._beta, fixed)
        unscale = float(np.log(self._scale).sum()) if self._scale is not None else 0.0
        return ChiSquareTest(2.0 * (self.loglik - (constrained - unscale)), len(fixed))

    def _headline(self) -> str:
        return (
            f"Firth (penalised, {self.ties}), n = {self.n}, events = {self.n_events}, "
            f"penalised loglik = {self.loglik:.6g}, LR = {self.lr_statistic:.4g} on "
            f"{self.coef.shape[0]} df, p = {self.lr_p:.3g}"
        )

    def to_frame(self) -> pd.DataFrame:
        """Coefficients as coxphf's summary: coef, hr, se, chisq and p (profile penalised
        likelihood-ratio test of the coefficient, or Wald with ``profile=False``) and the
        limits (profile penalised likelihood, or Wald)."""
        return coefficient_frame(
            self.names,
            {
                "coef": self.coef,
                "hr": self.hr,
                "se": self.se,
                "chisq": self.term_statistic,
                "p": self.p,
            },
            self.conf_level,
            self.lower,
            self.upper,
        )


def _profile_limit(
    pen: _Penalised, beta: FloatArray, value: float, j: int, side: float, width: float, crit: float
) -> float:
    """Where the profile penalised deviance of coordinate j crosses ``crit`` on one side of
    the estimate (scaled units; +-inf when it never does within 1e3 units)."""
    from scipy.optimize import brentq

    warm = {"beta": beta.copy()}  # each inner maximum starts from the previous one

    def excess(b: float) -> float:
        start = warm["beta"].copy()
        start[j] = b
        free = np.ones(beta.shape[0], dtype=bool)
        free[j] = False
        found, prof, _, _, _ = pen.maximise(start, free)
        warm["beta"] = found
        return 2 * (value - prof) - crit

    far = beta[j] + side * width
    while excess(far) < 0:
        if abs(far - beta[j]) >= 1e3:
            return side * np.inf
        width *= 2
        far = beta[j] + side * width
    warm["beta"] = beta.copy()
    return float(brentq(excess, beta[j], far, xtol=1e-10))


def firth_from_evaluator(
    evaluate_at: Evaluator,
    *,
    names: Sequence[str],
    means: FloatArray,
    scale: FloatArray,
    counts: tuple[int, int, int],
    ties: str = "breslow",
    stratified: bool = False,
    conf_level: float = 0.95,
    tol: float = 1e-10,
    iter_max: int = 200,
    profile: bool = True,
    linear_predictor_c: Callable[[FloatArray], float] | None = None,
) -> FirthCox:
    """The Firth fit from ``evaluate_at(beta)`` (loglik, score, information of the partial
    likelihood at beta in scaled units: x centred by ``means``, multiplied by ``scale``);
    ``counts``: (rows, rows dropped, events); ``linear_predictor_c(coef)``: Harrell's C of
    the fitted linear predictor."""
    p = len(names)
    pen = _Penalised(evaluate_at, tol=tol, iter_max=iter_max)
    all_free = np.ones(p, dtype=bool)
    beta, value, info, iterations, converged = pen.maximise(np.zeros(p), all_free)
    null_value = pen.value(np.zeros(p))[0]
    unscale = float(np.log(scale).sum())  # log|I| in original units = scaled - 2 sum log(scale)
    coef = beta * scale
    var = np.linalg.inv(info) * np.outer(scale, scale)
    z = float(norm_ppf(1 - (1 - conf_level) / 2))
    se = np.sqrt(np.diag(var))
    lower, upper = coef - z * se, coef + z * se
    statistic = (coef / se) ** 2
    if profile:
        crit = z * z  # the chi-square(1) quantile at conf_level
        for j in range(p):
            width = max(float(np.sqrt(np.linalg.inv(info)[j, j])), 1e-3)
            lower[j], upper[j] = (
                _profile_limit(pen, beta, value, j, side, width, crit) * scale[j]
                for side in (-1.0, 1.0)
            )
            statistic[j] = 2 * (value - pen.at_fixed(beta, {j: 0.0}))
        statistic = np.maximum(statistic, 0.0)
    else:
        statistic = np.where(np.isfinite(statistic), statistic, np.nan)
    return FirthCox(
        names=tuple(names),
        coef=coef,
        var=var,
        lower=np.exp(lower),
        upper=np.exp(upper),
        conf_level=conf_level,
        loglik=value - unscale,
        loglik_null=null_value - unscale,
        n=counts[0],
        n_dropped=counts[1],
        n_events=counts[2],
        iterations=iterations,
        term_statistic=statistic,
        ties=ties,
        stratified=stratified,
        converged=converged,
        profile=profile,
        c_index=float("nan") if linear_predictor_c is None else linear_predictor_c(coef),
        _penalised=pen,
        _scale=scale,
        _beta=beta,
    )


def firth_cox(
    X: Any,
    time: ArrayLike,
    event: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    ties: Literal["breslow", "efron"] = "breslow",
    strata: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    conf_level: float = 0.95,
    tol: float = 1e-10,
    iter_max: int = 200,
    profile: bool = True,
) -> FirthCox:
    """Firth-penalised Cox model (R's ``coxphf``): finite estimates under separation, profile
    penalised likelihood limits and tests, penalised likelihood-ratio test.

    ``time`` may be (start, stop) intervals as for ``cox``. ``ties="breslow"`` (coxphf's) or
    ``"efron"``; ``strata``: labels giving each stratum its own baseline hazard (the penalty is
    the information of the stratified partial likelihood); ``weights``: case weights > 0.
    ``profile=False`` gives Wald limits and tests instead (coxphf's ``pl = FALSE``).
    """
    if ties not in ("breslow", "efron"):
        raise CoxInputError(f"ties: expected 'breslow' or 'efron', got {ties!r}")
    data = prepare(X, time, event, names=names, strata=strata, weights=weights, cluster=None)
    p = data.x.shape[1]
    if p == 0:
        raise CoxInputError("X: a Cox model needs at least one covariate")
    if not data.event.any():
        raise CoxInputError("event: no events; a Cox model needs at least one")
    rs = risk_sets(data, ties)
    means, scale = rs.means, rs.scale

    def evaluate_at(beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        ev = evaluate(rs, beta)
        return ev.loglik, ev.score, ev.information

    def harrell_c(coef: FloatArray) -> float:
        if data.start is not None:
            from rtoutcomes.stats._cox._concordance import concordance

            return float(
                concordance(
                    data.time,
                    data.event,
                    data.x @ coef,
                    data.weights,
                    data.strata,
                    start=data.start,
                ).concordance
            )
        return float(
            concordance_index(data.time, data.event, data.x @ coef, data.weights, data.strata)
        )

    return firth_from_evaluator(
        evaluate_at,
        names=data.names,
        means=means,
        scale=scale,
        counts=(int(data.x.shape[0]), data.n_dropped, int(data.event.sum())),
        ties=ties,
        stratified=data.strata is not None,
        conf_level=conf_level,
        tol=tol,
        iter_max=iter_max,
        profile=profile,
        linear_predictor_c=harrell_c,
    )
