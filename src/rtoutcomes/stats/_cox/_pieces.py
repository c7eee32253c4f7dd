"""A Cox model stratified by centre, fitted from each centre's sums (no row leaves a centre).

The partial log-likelihood of a model stratified by centre is the sum of the centres' own, and
so are its score and information at any beta; the robust variance needs only the cross
products of the cluster sums of score residuals (clusters within a centre), and Harrell's C
of a stratified model only pair counts within strata. A centre therefore builds a
:class:`CoxPiece` on its rows and answers four questions: its weighted column sums (for the
centring), its weighted absolute deviations from the pooled means (for R's scaling), its
loglik/score/information at a beta, and its robust and concordance sums at the estimate.
:func:`cox_from_pieces` runs R's Newton-Raphson (``newton_iterations``) on the summed answers and
assembles the same :class:`CoxResult` as :func:`cox` would on the pooled rows with the centre
among the strata: the same iterates, so equal to rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._cox._concordance import Concordance, concordance
from rtoutcomes.stats._cox._fit import EPS, ITER_MAX, TOLER_CHOL, newton_iterations
from rtoutcomes.stats._cox._input import CoxData, CoxInputError, prepare
from rtoutcomes.stats._cox._likelihood import Evaluation, GroupSums, evaluate, score_residual_sums
from rtoutcomes.stats._cox._model import assemble
from rtoutcomes.stats._cox._risksets import RiskSets, build
from rtoutcomes.stats._cox._robust import robust_from_sums
from rtoutcomes.stats._cox.result import CoxResult

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CoxPiece:
    """One centre's complete cases of a Cox model (its rows never leave it)."""

    data: CoxData
    ties: str

    @classmethod
    def of(
        cls,
        X: Any,
        time: ArrayLike,
        event: ArrayLike,
        *,
        names: Sequence[str],
        ties: Literal["efron", "breslow"] = "efron",
        strata: ArrayLike | None = None,
        cluster: ArrayLike | None = None,
    ) -> CoxPiece:
        """As :func:`cox`'s arguments (rows with a missing value dropped and counted)."""
        return cls(
            prepare(X, time, event, names=names, strata=strata, weights=None, cluster=cluster), ties
        )

    @property
    def p(self) -> int:
        return int(self.data.x.shape[1])

    def column_sums(self) -> tuple[FloatArray, float]:
        """Sum of each covariate and the number of rows (pooled means = sums / rows)."""
        return self.data.x.sum(axis=0), float(self.data.x.shape[0])

    def absolute_deviations(self, means: FloatArray) -> FloatArray:
        """Sum over rows of |x - pooled mean| per covariate (R's scaling, as ``cox``)."""
        return np.abs(self.data.x - means).sum(axis=0)

    def _risk_sets(self, means: FloatArray, scale: FloatArray) -> RiskSets:
        d = self.data
        return build(
            d.x,
            d.time,
            d.event,
            d.weights,
            d.strata,
            efron=self.ties == "efron",
            means=means,
            scale=scale,
        )

    def evaluate(
        self, beta: FloatArray, means: FloatArray, scale: FloatArray
    ) -> tuple[float, FloatArray, FloatArray]:
        """Log partial likelihood, score and information at ``beta`` (scaled units)."""
        ev = evaluate(self._risk_sets(means, scale), beta)
        return ev.loglik, ev.score, ev.information

    def robust_sums(
        self, beta: FloatArray, means: FloatArray, scale: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, int]:
        """U'U at ``beta``, U0'U0 and the column totals of U0 at 0 (cluster sums of weighted
        score residuals, scaled units) and the number of clusters (each row its own without
        a cluster)."""
        rs = self._risk_sets(means, scale)
        d = self.data
        if d.cluster is None:
            n_clusters, cluster_sorted = int(d.x.shape[0]), None
        else:
            n_clusters, cluster_sorted = int(d.cluster.max()) + 1, d.cluster[rs.order]
        u = score_residual_sums(rs, evaluate(rs, beta).sums, cluster_sorted, n_clusters)
        u0 = score_residual_sums(
            rs, evaluate(rs, np.zeros_like(beta)).sums, cluster_sorted, n_clusters
        )
        return u.T @ u, u0.T @ u0, u0.sum(axis=0), n_clusters

    def concordance_counts(self, coef: FloatArray) -> tuple[float, float, float, float, float]:
        """Pair counts (concordant, discordant, tied on score, tied on time, tied on both) of
        the linear predictor within this centre's strata."""
        d = self.data
        used = np.where(np.isfinite(coef), coef, 0.0)
        c = concordance(d.time, d.event, d.x @ used, d.weights, d.strata, None)
        return c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy


Evaluator = Callable[[FloatArray], tuple[float, FloatArray, FloatArray]]
RobustSums = Callable[[FloatArray], tuple[FloatArray, FloatArray, FloatArray, int]]
ConcordanceSums = Callable[[FloatArray], tuple[float, float, float, float, float]]


def pooled_scaling(
    sums: FloatArray, rows: float, deviations: Callable[[FloatArray], FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """Pooled means and R's scale (1 / mean absolute deviation, 1 where it is 0), from the
    centres' column sums and (given the means) their summed absolute deviations."""
    means = sums / rows
    spread = deviations(means) / rows
    return means, np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), 1.0)


def cox_from_pieces(
    evaluate_sum: Evaluator,
    *,
    names: Sequence[str],
    terms: dict[str, tuple[int, ...]],
    means: FloatArray,
    scale: FloatArray,
    counts: tuple[int, int, int],
    ties: str = "efron",
    robust_sums: RobustSums | None = None,
    concordance_sums: ConcordanceSums | None = None,
    conf_level: float = 0.95,
) -> CoxResult:
    """The Cox model stratified by centre from the centres' summed answers.

    ``evaluate_sum(beta)``: summed (loglik, score, information) at beta in scaled units;
    ``robust_sums(beta)``: summed (U'U, U0'U0, U0 totals, clusters) for the robust variance
    (``None``: naive variance only); ``concordance_sums(coef)``: summed pair counts;
    ``counts``: pooled (rows, rows dropped, events).
    """
    p = len(names)
    if p == 0:
        raise CoxInputError("X: a Cox model needs at least one covariate")
    if counts[2] == 0:
        raise CoxInputError(
            f"event: no events among the {counts[0]} complete rows; a Cox model needs at least one"
        )

    def evaluate_at(beta: FloatArray) -> Evaluation:
        loglik, score, information = evaluate_sum(beta)
        return Evaluation(
            loglik=loglik, score=score, information=information, sums=_no_group_sums(beta)
        )

    fit = newton_iterations(evaluate_at, p, eps=EPS, iter_max=ITER_MAX, toler_chol=TOLER_CHOL)
    robust = None
    if robust_sums is not None:
        utu, u0tu0, u0_total, n_clusters = robust_sums(fit.beta)
        var, statistic = robust_from_sums(utu, u0tu0, u0_total, fit.var, TOLER_CHOL)
        robust = (var, statistic, n_clusters)
    result = assemble(
        fit,
        scale=scale,
        means=means,
        robust=robust,
        conf_level=conf_level,
        ties=ties,
        eps=EPS,
        iter_max=ITER_MAX,
        toler_chol=TOLER_CHOL,
        data=None,
        counts=(*counts, True),
        names=tuple(names),
        terms=terms,
    )
    if concordance_sums is not None:
        # cached properties of the result: the pooled pair counts, as concordance() would give
        n_conc, n_disc, tied_x, tied_y, tied_xy = concordance_sums(result.coef)
        pairs = n_conc + n_disc + tied_x
        c_index = (n_conc + tied_x / 2) / pairs if pairs else float("nan")
        result.__dict__["concordance"] = Concordance(
            concordance=c_index,
            std=float("nan"),
            concordant=n_conc,
            discordant=n_disc,
            tied_x=tied_x,
            tied_y=tied_y,
            tied_xy=tied_xy,
        )
        result.__dict__["c_index"] = c_index
    return result


def _no_group_sums(beta: FloatArray) -> GroupSums:
    """Newton's bookkeeping wants per-group sums; a fit from centres' sums has none (they stay
    with the centres, which compute residual sums themselves)."""
    empty = np.zeros(0)
    return GroupSums(
        beta=beta.copy(),
        shift=0.0,
        s1=np.zeros((0, beta.shape[0])),
        d_s1=np.zeros((0, beta.shape[0])),
        a=empty,
        b=empty,
        c0=empty,
        c1=empty,
        c2=empty,
        cum_a=empty,
    )
