"""Newton-Raphson for the Cox partial likelihood with R's coxph convergence rule.

Iterations start at beta = 0. A step is accepted when the log-likelihood does not decrease;
otherwise the step is halved (back towards the last accepted beta). Convergence is declared when
|1 - loglik_old / loglik_new| <= eps on an iteration that was not a halving, exactly as R's
coxph.control (eps = 1e-9, iter.max = 20, toler.chol = .Machine$double.eps^0.75). Newton-Raphson
is invariant to centring and scaling of the covariates, so fitting the scaled covariates
reproduces R's iterates in the original units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._cox._likelihood import Evaluation, evaluate
from rtoutcomes.stats._cox._linalg import generalized_inverse, quadratic_test
from rtoutcomes.stats._cox._risksets import RiskSets

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

EPS = 1e-9
ITER_MAX = 20
TOLER_CHOL = float(np.finfo(np.float64).eps ** 0.75)


@dataclass(frozen=True)
class NewtonResult:
    beta: FloatArray  # scaled units
    var: FloatArray  # inverse information at beta (scaled units)
    singular: BoolArray
    loglik_null: float
    loglik: float
    score_test: float
    score_null: FloatArray  # score vector at beta = 0 (scaled units)
    null: Evaluation  # at beta = 0
    final: Evaluation
    iterations: int
    converged: bool


def _finite(ev: Evaluation) -> bool:
    return bool(
        np.isfinite(ev.loglik) and np.isfinite(ev.score).all() and np.isfinite(ev.information).all()
    )


def newton_raphson(
    rs: RiskSets, *, eps: float = EPS, iter_max: int = ITER_MAX, toler_chol: float = TOLER_CHOL
) -> NewtonResult:
    """R's coxph Newton-Raphson (step halving, convergence on the relative loglik change)."""
    return newton_iterations(
        lambda beta: evaluate(rs, beta),
        rs.x.shape[1],
        eps=eps,
        iter_max=iter_max,
        toler_chol=toler_chol,
    )


def newton_iterations(
    evaluate_at: Callable[[FloatArray], Evaluation],
    p: int,
    *,
    eps: float = EPS,
    iter_max: int = ITER_MAX,
    toler_chol: float = TOLER_CHOL,
) -> NewtonResult:
    """``newton_raphson`` with the loglik, score and information at beta from
    ``evaluate_at`` (in scaled units): one set of rows, or the sum over centres of a model
    stratified by centre (``rtoutcomes.federated``), whose iterates are then the same."""
    beta = np.zeros(p)
    current = evaluate_at(beta)
    null = current
    inverse, singular = generalized_inverse(current.information, toler_chol)
    step = inverse @ current.score
    score_test, _ = quadratic_test(current.information, current.score, toler_chol)
    loglik = current.loglik
    new_beta = beta + step
    halving, converged, iterations = False, False, 0
    final = current
    for iterations in range(1, iter_max + 1):  # the count is reported
        trial = evaluate_at(new_beta)
        finite = _finite(trial)
        if finite and not halving and abs(1 - loglik / trial.loglik) <= eps:
            converged = True
            beta, final = new_beta, trial
            break
        if iterations == iter_max:
            beta, final = new_beta, trial
            break
        if not finite or trial.loglik < loglik:
            halving = True
            new_beta = (new_beta + beta) / 2
        else:
            halving = False
            loglik = trial.loglik
            inverse, singular = generalized_inverse(trial.information, toler_chol)
            beta = new_beta
            new_beta = new_beta + inverse @ trial.score
    if iter_max == 0:
        final = current
    var, singular = generalized_inverse(final.information, toler_chol)
    return NewtonResult(
        beta=beta,
        var=var,
        singular=singular,
        loglik_null=null.loglik,
        loglik=final.loglik,
        score_test=score_test,
        score_null=null.score,
        null=null,
        final=final,
        iterations=iterations,
        converged=converged or iter_max == 0,
    )
