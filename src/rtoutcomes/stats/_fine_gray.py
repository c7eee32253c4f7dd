"""Fine-Gray proportional subdistribution hazards regression, numerically as R's ``cmprsk::crr``.

Fine & Gray (1999, JASA 94:496). For the cause of interest, at each distinct failure time t_k
(d_k failures, covariate sum s_k) the risk set holds everyone still in follow-up (weight 1) and
everyone who failed earlier from a competing cause, weighted by G(t_k-) / G(T_j-), with G the
Kaplan-Meier of the censoring distribution of the row's censoring group. The negative log
partial likelihood (Breslow ties) is

    f(b) = sum_k [ -s_k'b + d_k log S0_k(b) ],   S0_k = sum_j w_kj exp(x_j'b).

Fitting follows crr step by step (same start b = 0, Newton steps with halving while the Armijo
condition f(b + step) <= f(b) + 1e-4 step'grad fails, the same stopping rule
max|grad| max(|b|, 1) < gtol max(|f|, 1), at most ``max_iter`` steps), so the estimate is
the same iterate as R's, not merely the same optimum.

Variance: crr's sandwich I^-1 (sum_i u_i u_i') I^-1, where u_i is row i's score martingale
(eta_i) plus the term for estimating G (psi_i: the integral of q_g(c) / Y_g(c) against the
censoring martingale of row i's censoring group g; as in cmprsk 2.2, q_g(c) sums, over group g's
failures at or after c, the weighted covariate deviations of group g's competing failures before
c). ``naive_var`` is I^-1 (crr's invinf).
R's G(t-) is read as R reads it: the censoring curve at t (1 - 100 eps), and 0 beyond the last
follow-up time of the group. Every sum is a cumulative sum over sorted rows or failure times:
O(n p^2), no n x n loops. Only time-fixed covariates (crr's cov1); crr's cov2/tf are not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._competing_data import competing_data
from rtoutcomes.stats._distributions import chi2_sf, norm_ppf, norm_sf
from rtoutcomes.stats._kaplan_meier import kaplan_meier
from rtoutcomes.stats._validate import (
    FloatArray,
    IntArray,
    SurvivalInputError,
    as_labels,
    missing_values,
    refuse_dropped,
)
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, repr=False)
class FineGray(TabularResult):
    """A fitted Fine-Gray model: coefficients (log subdistribution hazard ratios) and errors."""

    names: tuple[str, ...]
    cause: Any
    coef: FloatArray
    var: FloatArray  # crr's sandwich variance
    naive_var: FloatArray  # inverse information (crr's invinf)
    information: FloatArray  # crr's inf
    score: FloatArray  # gradient of the log partial likelihood at coef
    loglik: float
    loglik_null: float
    conf_level: float
    converged: bool
    iterations: int
    n: int
    n_dropped: int  # rows with a missing value (R's n.missing)
    n_events: int  # failures from the cause of interest

    @property
    def se(self) -> FloatArray:
        out: FloatArray = np.sqrt(np.diag(self.var))
        return out

    @property
    def naive_se(self) -> FloatArray:
        out: FloatArray = np.sqrt(np.diag(self.naive_var))
        return out

    @property
    def z(self) -> FloatArray:
        out: FloatArray = self.coef / self.se
        return out

    @property
    def p(self) -> FloatArray:
        out: FloatArray = 2.0 * norm_sf(np.abs(self.z))
        return out

    @property
    def hr(self) -> FloatArray:
        """Subdistribution hazard ratios exp(coef)."""
        out: FloatArray = np.exp(self.coef)
        return out

    def limits(self) -> tuple[FloatArray, FloatArray]:
        """Confidence limits of the hazard ratios (crr's summary: exp(coef ± z se))."""
        z = float(norm_ppf(1.0 - (1.0 - self.conf_level) / 2.0))
        return np.exp(self.coef - z * self.se), np.exp(self.coef + z * self.se)

    @property
    def lr_statistic(self) -> float:
        """Likelihood-ratio statistic against the null model (crr's summary logtest), p df."""
        return -2.0 * (self.loglik_null - self.loglik)

    def to_frame(self) -> pd.DataFrame:
        from rtoutcomes.stats._cox.result import coefficient_frame

        lower, upper = self.limits()
        return coefficient_frame(
            tuple(self.names),
            {
                "coef": self.coef,
                "hr": self.hr,
                "se": self.se,
                "naive_se": self.naive_se,
                "z": self.z,
                "p": self.p,
            },
            self.conf_level,
            lower,
            upper,
        )

    def _headline(self) -> str:
        return (
            f"cause {self.cause!r}, n = {self.n}, events = {self.n_events}"
            f"{f', dropped = {self.n_dropped}' if self.n_dropped else ''}, "
            f"pseudo loglik = {self.loglik:.6g} (null {self.loglik_null:.6g})"
        )

    def summary(self) -> str:
        """As crr's summary: coefficients (sandwich se, naive se) and the LR test."""
        df = int(self.coef.shape[0])
        p = float(chi2_sf(self.lr_statistic, df))
        return (
            f"{super().summary()}\nlikelihood ratio: {self.lr_statistic:.6g} on {df} df, "
            f"p = {p:.4g}"
        )


@dataclass(frozen=True)
class _Data:
    x: FloatArray  # sorted by time, centred
    time: FloatArray
    kind: IntArray  # 1 cause of interest, 2 competing, 0 censored
    weight_own: FloatArray  # G_g(T_i-) of the row's own censoring group
    cens_group: IntArray
    n_groups: int
    fail_times: FloatArray  # distinct failure times of the cause
    g_at_fail: FloatArray  # groups x failure times: G_g(t_k-)
    fail_start: IntArray  # first sorted row with time >= t_k
    d: FloatArray  # failures per distinct time
    d_by_group: FloatArray  # groups x failure times: failures of each censoring group
    x_fail: FloatArray  # covariate sums of the failures per distinct time


def fine_gray(
    X: Any,
    time: ArrayLike,
    status: ArrayLike,
    *,
    cause: Any = 1,
    censor_code: Any = 0,
    censoring_group: ArrayLike | None = None,
    names: Sequence[str] | None = None,
    conf_level: float = 0.95,
    max_iter: int = 10,
    gtol: float = 1e-6,
    nan_policy: str = "omit",
) -> FineGray:
    """Fine-Gray model for ``cause`` (R ``crr(time, status, X, failcode=cause)``).

    ``X``: covariates (2-D array with ``names``, a DataFrame or a ``design_matrix`` Design);
    ``time`` (>= 0, any unit); ``status``: ``censor_code`` censored, ``cause`` the failure of
    interest, any other code a competing event. ``censoring_group``: labels with separate
    censoring distributions (crr's cengroup). Rows with a missing value are dropped (R's
    na.omit; ``n_dropped``); ``nan_policy="raise"`` refuses them instead.
    """
    from rtoutcomes.stats._cox._input import covariates

    x, col_names, _ = covariates(X, names)
    if x.shape[1] == 0:
        raise SurvivalInputError("X: a Fine-Gray model needs at least one covariate")
    keep, t_in, s_in, g_in = _complete_rows(x, time, status, censoring_group)
    refuse_dropped(nan_policy, keep)
    data = competing_data(t_in[keep], s_in[keep], None, censor_code)
    present = data.causes.tolist()
    if cause not in present:
        raise SurvivalInputError(
            f"cause: {cause!r} never occurs in status (event codes present: {present}); "
            "no failure from the cause of interest to model"
        )
    is_cause = data.is_cause(present.index(cause))
    if not 0.0 < float(conf_level) < 1.0:
        raise SurvivalInputError(f"conf_level: {conf_level!r} must lie strictly between 0 and 1")
    groups = None if g_in is None else g_in[keep]
    prepared = _prepare(x[keep], data.time, is_cause, data.event, groups)
    b = np.zeros(x.shape[1])
    converged, iterations = False, 0
    f, grad, hess = _objective(prepared, b, derivatives=True)
    f_null = f
    for iterations in range(max_iter + 1):
        if np.max(np.abs(grad) * np.maximum(np.abs(b), 1.0)) < max(abs(f), 1.0) * gtol:
            converged = True
            break
        if iterations == max_iter:
            break
        step = -_solve(hess, grad, col_names)
        halvings = 0
        f_new = _objective(prepared, b + step, derivatives=False)[0]
        while not np.isfinite(f_new) or f_new > f + 1e-4 * float(step @ grad):
            halvings += 1
            step = step * 0.5
            f_new = _objective(prepared, b + step, derivatives=False)[0]
            if halvings > 20:
                break
        if halvings > 20:
            break
        b = b + step
        f, grad, hess = _objective(prepared, b, derivatives=True)
    naive = _solve(hess, np.eye(hess.shape[0]), col_names)
    middle = _score_residuals(prepared, b)
    sandwich = naive @ (middle.T @ middle) @ naive.T
    return FineGray(
        names=col_names,
        cause=cause,
        coef=b,
        var=sandwich,
        naive_var=naive,
        information=hess,
        score=-grad,
        loglik=-f,
        loglik_null=-f_null,
        conf_level=float(conf_level),
        converged=converged,
        iterations=iterations,
        n=int(data.n),
        n_dropped=int(keep.shape[0] - keep.sum()),
        n_events=int(is_cause.sum()),
    )


def _solve(hess: FloatArray, rhs: FloatArray, names: tuple[str, ...]) -> FloatArray:
    try:
        out: FloatArray = np.asarray(np.linalg.solve(hess, rhs), dtype=np.float64)
    except np.linalg.LinAlgError:
        raise SurvivalInputError(
            f"X: the information matrix of covariates {list(names)} is singular (a covariate "
            "is constant or a combination of others); crr stops here too"
        ) from None
    return out


def _complete_rows(
    x: FloatArray, time: ArrayLike, status: ArrayLike, group: ArrayLike | None
) -> tuple[NDArray[np.bool_], FloatArray, NDArray[Any], NDArray[Any] | None]:
    """Rows with no missing value (NaN, None) in X, time, status or the censoring group."""
    n = x.shape[0]

    def missing(values: NDArray[Any], name: str) -> NDArray[np.bool_]:
        if values.ndim != 1 or values.shape[0] != n:
            raise SurvivalInputError(
                f"{name}: expected {n} values (one per row of X), got shape {values.shape}"
            )
        return missing_values(values)

    t = np.asarray(time)
    s = np.asarray(status)
    keep = ~np.isnan(x).any(axis=1) & ~missing(t, "time") & ~missing(s, "status")
    g = None
    if group is not None:
        g = np.asarray(group)
        keep &= ~missing(g, "censoring_group")
    if not keep.any():
        raise SurvivalInputError("no complete rows to fit (every row has a missing value)")
    return keep, t, s, g


def _prepare(
    x: FloatArray,
    time: FloatArray,
    is_cause: NDArray[np.bool_],
    event: NDArray[np.bool_],
    groups: NDArray[Any] | None,
) -> _Data:
    if not is_cause.any():
        raise SurvivalInputError("status: no failure from the cause of interest to model")
    order = np.argsort(time, kind="stable")
    t, x = time[order], x[order] - x.mean(axis=0)  # centring changes no estimate, only rounding
    kind = np.where(is_cause[order], 1, np.where(event[order], 2, 0)).astype(np.intp)
    if groups is None:
        cens_group, n_groups = np.zeros(t.shape[0], dtype=np.intp), 1
    else:
        codes, levels = as_labels(groups[order], t.shape[0], "censoring_group")
        cens_group, n_groups = codes, int(levels.shape[0])
    fail_times, fail_index = np.unique(t[kind == 1], return_inverse=True)
    d = np.bincount(fail_index, minlength=fail_times.shape[0]).astype(np.float64)
    d_by_group = (
        np.bincount(
            cens_group[kind == 1] * fail_times.shape[0] + fail_index,
            minlength=n_groups * fail_times.shape[0],
        )
        .reshape(n_groups, -1)
        .astype(np.float64)
    )
    x_fail = np.zeros((fail_times.shape[0], x.shape[1]))
    np.add.at(x_fail, fail_index, x[kind == 1])
    g_at_fail = np.empty((n_groups, fail_times.shape[0]))
    weight_own = np.empty(t.shape[0])
    for g in range(n_groups):
        rows = cens_group == g
        km = kaplan_meier(t[rows], kind[rows] == 0)
        g_at_fail[g] = _censoring_before(km.time, km.survival, fail_times)
        weight_own[rows] = _censoring_before(km.time, km.survival, t[rows])
    return _Data(
        x,
        t,
        kind,
        weight_own,
        cens_group,
        n_groups,
        fail_times,
        g_at_fail,
        np.searchsorted(t, fail_times, side="left"),
        d,
        d_by_group,
        x_fail,
    )


def _censoring_before(km_time: FloatArray, km_surv: FloatArray, at: FloatArray) -> FloatArray:
    """G(t-) as crr reads it: the curve at t (1 - 100 eps); 0 past the last time (1 + 10 eps)."""
    xout = at * (1.0 - 100.0 * EPS)
    step = np.searchsorted(km_time, xout, side="right") - 1
    value = np.where(step >= 0, km_surv[np.maximum(step, 0)], 1.0)
    out: FloatArray = np.where(xout >= km_time[-1] * (1.0 + 10.0 * EPS), 0.0, value)
    return out


def _risk_sums(data: _Data, risk: FloatArray, columns: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per failure time: sums of ``columns`` (rows x m) weighted by ``risk`` over the risk set,
    and the per-group prefix sums of the competing failures (groups x (n + 1) x m)."""
    n = data.time.shape[0]
    weighted = risk[:, None] * columns
    tail = np.concatenate(
        (np.cumsum(weighted[::-1], axis=0)[::-1], np.zeros((1, weighted.shape[1])))
    )
    competing = np.zeros((data.n_groups, n + 1, columns.shape[1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where((data.kind == 2)[:, None], weighted / data.weight_own[:, None], 0.0)
    for g in range(data.n_groups):
        mine = np.where((data.cens_group == g)[:, None], scaled, 0.0)
        competing[g, 1:] = np.cumsum(mine, axis=0)
    at_fail = tail[data.fail_start] + np.einsum(
        "gk,gkm->km", data.g_at_fail, competing[:, data.fail_start]
    )
    return at_fail, competing


def _objective(
    data: _Data, b: FloatArray, *, derivatives: bool
) -> tuple[float, FloatArray, FloatArray]:
    """Negative log partial likelihood and (if asked) its gradient and Hessian."""
    p = data.x.shape[1]
    with np.errstate(over="ignore"):
        risk = np.exp(data.x @ b)
    if not derivatives:
        s0 = _risk_sums(data, risk, np.ones((risk.shape[0], 1)))[0][:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = float(-(data.x_fail @ b).sum() + (data.d * np.log(s0)).sum())
        return f, np.empty(0), np.empty((0, 0))
    outer = (data.x[:, :, None] * data.x[:, None, :]).reshape(-1, p * p)
    columns = np.column_stack((np.ones(risk.shape[0]), data.x, outer))
    sums = _risk_sums(data, risk, columns)[0]
    s0, s1, s2 = sums[:, 0], sums[:, 1 : p + 1], sums[:, p + 1 :].reshape(-1, p, p)
    mean = s1 / s0[:, None]
    f = float(-(data.x_fail @ b).sum() + (data.d * np.log(s0)).sum())
    grad = -data.x_fail.sum(axis=0) + (data.d[:, None] * mean).sum(axis=0)
    hess = np.einsum("k,kij->ij", data.d / s0, s2) - np.einsum("k,ki,kj->ij", data.d, mean, mean)
    return f, grad, hess


def _score_residuals(data: _Data, b: FloatArray) -> FloatArray:
    """Per row: eta_i + psi_i, whose outer products make the middle of crr's sandwich."""
    x, t, kind, group = data.x, data.time, data.kind, data.cens_group
    risk = np.exp(x @ b)
    sums, competing = _risk_sums(data, risk, np.column_stack((np.ones(t.shape[0]), x)))
    s0, mean = sums[:, 0], sums[:, 1:] / sums[:, :1]
    a = data.d / s0  # per failure time
    ab = a[:, None] * mean
    # eta: the row's own failure, minus its share of every failure while it is in the risk set.
    k_upto = np.searchsorted(data.fail_times, t, side="right")  # failure times <= T_i
    cum_a = np.concatenate(([0.0], np.cumsum(a)))[k_upto]
    cum_ab = np.concatenate((np.zeros((1, x.shape[1])), np.cumsum(ab, axis=0)))[k_upto]
    eta = -risk[:, None] * (x * cum_a[:, None] - cum_ab)
    own = kind == 1
    eta[own] += x[own] - mean[k_upto[own] - 1]
    # ... and, for competing failures, while they stay in it with weight G(t-) / G(T_i-).
    tail_a = _tail(data.g_at_fail * a)  # groups x (K + 1): sum over failure times >= index
    tail_ab = _tail(data.g_at_fail[:, :, None] * ab[None])
    other = kind == 2
    gi, ki = group[other], k_upto[other]
    eta[other] -= (risk[other] / data.weight_own[other])[:, None] * (
        x[other] * tail_a[gi, ki][:, None] - tail_ab[gi, ki]
    )
    # The censoring term of group g follows crr: only that group's failures and competing
    # failures enter its q_g.
    a_own = data.d_by_group / s0
    own_a = _tail(data.g_at_fail * a_own)
    own_ab = _tail((data.g_at_fail * a_own)[:, :, None] * mean[None])
    return eta + _censoring_term(data, competing, own_a, own_ab)


def _tail(values: FloatArray) -> FloatArray:
    """Reverse cumulative sums along axis 1 with a trailing zero: out[:, k] = sum over >= k."""
    rev = np.cumsum(values[:, ::-1], axis=1)[:, ::-1]
    return np.concatenate((rev, np.zeros_like(rev[:, :1])), axis=1)


def _censoring_term(
    data: _Data, competing: FloatArray, tail_a: FloatArray, tail_ab: FloatArray
) -> FloatArray:
    """psi_i: the effect of estimating each censoring distribution G on row i's score.

    ``tail_a``/``tail_ab``: per censoring group, tail sums over failure times of that group's
    G(t_k-) d_gk / S0_k (and times the risk-set mean).
    """
    t, kind, group = data.time, data.kind, data.cens_group
    n, p = t.shape[0], data.x.shape[1]
    psi = np.zeros((n, p))
    cens_times = np.unique(t[kind == 0])
    if not cens_times.shape[0]:
        return psi
    start = np.searchsorted(t, cens_times, side="left")  # rows before: T < c
    k_from = np.searchsorted(data.fail_times, cens_times, side="left")  # failures t_k >= c
    # q_g(c) = B_g(c) P_g(c) - A_g(c) Q_g(c): A_g, B_g over the group's competing failures
    # before c, P_g, Q_g over the group's failures from c on
    prefix = competing[:, start]  # groups x C x (1 + p): A_g, B_g
    q_all = (
        prefix[:, :, 1:] * tail_a[:, k_from][:, :, None] - prefix[:, :, :1] * tail_ab[:, k_from]
    )  # groups x C x p
    c_index = np.searchsorted(cens_times, t, side="right") - 1  # last censoring time <= T_i
    for g in range(data.n_groups):
        rows = group == g
        q = q_all[g]
        t_g = t[rows]
        at_risk = t_g.shape[0] - np.searchsorted(np.sort(t_g), cens_times, side="left")
        censored = np.bincount(
            np.searchsorted(cens_times, t_g[kind[rows] == 0]), minlength=cens_times.shape[0]
        ).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_time = np.where(
                (censored > 0)[:, None], censored[:, None] * q / (at_risk**2)[:, None], 0.0
            )
            jump = np.where((at_risk > 0)[:, None], q / at_risk[:, None], 0.0)
        running = np.concatenate((np.zeros((1, p)), np.cumsum(per_time, axis=0)))
        ci = c_index[rows]
        term = -running[ci + 1]
        mine = kind[rows] == 0
        term[mine] += jump[ci[mine]]
        psi[rows] = term
    return psi
