"""Reference numbers for the study file's ``cox.firth`` (tests/test_study_firth.py).

R's coxphf cannot be installed on the development machine (neither Debian nor the reachable
registries hold it), so the references come from two sources independent of rtoutcomes:

- the ``firthmodels`` package (PyPI; its authors report ~1e-6 agreement with coxphf) for what it
  covers, as coxphf: Breslow ties, no strata. Coefficients, standard errors, penalised
  log-likelihood, profile penalised likelihood limits and the per-coefficient penalised
  likelihood-ratio p-values (``lrt()``).
- a plain re-statement of the definitions for what neither covers (Efron ties, strata: the
  penalty is the information of the stratified partial likelihood): the partial likelihood
  and its information written out with loops over strata and event times (Breslow, Efron),
  l* = l + 1/2 log|I|, its maximum found by scipy's root finder on a differenced gradient,
  profile limits and tests by scipy's scalar minimiser and Brent's root finder.

The analysis table is synthetic (seeded): 120 patients, a ``grade`` with no events at ``low``
(so the ordinary Cox estimate of low vs high runs to -infinity), ``age`` per 10 years, a
``centre`` (A/B) and times on a half-month grid (tied event times, so Efron differs from
Breslow). Run from the repository root; writes tests/reference/fixtures/study_firth.csv and
study_firth.json:

    python tests/reference/python/firth_study.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import brentq, minimize_scalar, root

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
Z975 = 1.959963984540054


def make_table() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2013)
    n = 120
    grade = np.where(rng.random(n) < 0.3, "low", "high")
    age = np.round(rng.normal(60, 10, n), 0)
    centre = np.where(rng.random(n) < 0.5, "A", "B")
    t = rng.exponential(24 * np.exp(-0.03 * (age - 60)), n)
    c = rng.uniform(6, 48, n)
    time = np.ceil(np.minimum(t, c) * 2) / 2  # half-month grid: ties
    status = (t <= c).astype(int)
    status[grade == "low"] = 0  # separation
    return {
        "id": np.arange(1, n + 1),
        "time": time,
        "status": status,
        "grade": grade,
        "age": age,
        "centre": centre,
    }


# --- the definitions, written out ------------------------------------------------------------


def partial_likelihood(
    beta: np.ndarray,
    x: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    strata: np.ndarray,
    efron: bool,
) -> tuple[float, np.ndarray]:
    """log partial likelihood and information, a loop over strata and event times."""
    p = x.shape[1]
    loglik, info = 0.0, np.zeros((p, p))
    for s in np.unique(strata):
        xs, ts, es = x[strata == s], time[strata == s], event[strata == s]
        risk = np.exp(xs @ beta)
        for t in np.unique(ts[es == 1]):
            at_risk = ts >= t
            dead = (ts == t) & (es == 1)
            d = int(dead.sum())
            s0, s1 = risk[at_risk].sum(), risk[at_risk] @ xs[at_risk]
            s2 = (xs[at_risk] * risk[at_risk, None]).T @ xs[at_risk]
            d0, d1 = risk[dead].sum(), risk[dead] @ xs[dead]
            d2 = (xs[dead] * risk[dead, None]).T @ xs[dead]
            loglik += float((xs[dead] @ beta).sum())
            for k in range(d):
                f = k / d if efron else 0.0
                den = s0 - f * d0
                mean = (s1 - f * d1) / den
                loglik -= np.log(den)
                info += (s2 - f * d2) / den - np.outer(mean, mean)
    return loglik, info


def penalised(beta: np.ndarray, *args: Any) -> float:
    loglik, info = partial_likelihood(beta, *args)
    return loglik + 0.5 * float(np.linalg.slogdet(info)[1])


def _gradient(beta: np.ndarray, args: tuple[Any, ...], free: list[int]) -> np.ndarray:
    out = np.zeros(len(free))
    for k, j in enumerate(free):
        step = np.zeros_like(beta)
        step[j] = 1e-5
        out[k] = (penalised(beta + step, *args) - penalised(beta - step, *args)) / 2e-5
    return out


def maximum(args: tuple[Any, ...], p: int, fixed: dict[int, float]) -> tuple[np.ndarray, float]:
    """max of l* over the coordinates not in ``fixed``."""
    free = [j for j in range(p) if j not in fixed]

    def full(z: np.ndarray) -> np.ndarray:
        beta = np.zeros(p)
        beta[free] = z
        for j, b in fixed.items():
            beta[j] = b
        return beta

    if not free:
        beta = full(np.zeros(0))
        return beta, penalised(beta, *args)
    if len(free) == 1:
        found = minimize_scalar(
            lambda z: -penalised(full(np.array([z])), *args),
            bracket=(-1.0, 1.0),
            method="brent",
            tol=1e-12,
        )
        beta = full(np.array([found.x]))
        return beta, penalised(beta, *args)
    found = root(lambda z: _gradient(full(z), args, free), np.zeros(len(free)), tol=1e-12)
    beta = full(found.x)
    return beta, penalised(beta, *args)


def firth_by_definition(
    x: np.ndarray, time: np.ndarray, event: np.ndarray, strata: np.ndarray, efron: bool
) -> dict[str, Any]:
    args = (x, time, event, strata, efron)
    p = x.shape[1]
    beta, top = maximum(args, p, {})
    _, info = partial_likelihood(beta, *args)
    lower, upper, chisq = [], [], []
    for j in range(p):

        def excess(b: float, j: int = j) -> float:
            return 2 * (top - maximum(args, p, {j: b})[1]) - Z975**2

        se = np.sqrt(np.linalg.inv(info)[j, j])
        for side, out in ((-1, lower), (1, upper)):
            far = beta[j] + side * 2 * se
            while excess(far) < 0:
                far += side * 2 * se
            out.append(float(np.exp(brentq(excess, beta[j], far, xtol=1e-12))))
        chisq.append(2 * (top - maximum(args, p, {j: 0.0})[1]))
    return {
        "coef": beta.tolist(),
        "se": np.sqrt(np.diag(np.linalg.inv(info))).tolist(),
        "loglik": top,
        "loglik_null": penalised(np.zeros(p), *args),
        "lower": lower,
        "upper": upper,
        "chisq": chisq,
    }


# --- firthmodels (Breslow, no strata: coxphf's case) -----------------------------------------


def firth_by_firthmodels(x: np.ndarray, time: np.ndarray, event: np.ndarray) -> dict[str, Any]:
    from importlib.metadata import version

    import firthmodels
    from scipy.stats import chi2

    y = np.array(
        list(zip(event.astype(bool), time, strict=True)), dtype=[("event", bool), ("time", float)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = firthmodels.FirthCoxPH(backend="numpy", gtol=1e-10, xtol=1e-12, max_iter=200).fit(
            x, y
        )
        limits = np.exp(fit.conf_int(method="pl", tol=1e-10, max_iter=200))
        # its LRT refuses a fit whose last step halving failed (at the tight tolerances above,
        # the noise floor), so the per-coefficient tests come from a fit at its defaults
        tested = firthmodels.FirthCoxPH(backend="numpy").fit(x, y).lrt()
    p = np.asarray(tested.lrt_pvalues_, dtype=float)
    return {
        "coef": fit.coef_.tolist(),
        "se": fit.bse_.tolist(),
        "loglik": float(fit.loglik_),
        "lower": limits[:, 0].tolist(),
        "upper": limits[:, 1].tolist(),
        "p": p.tolist(),
        "chisq": chi2.isf(p, 1).tolist(),
        "version": version("firthmodels"),
    }


def main() -> None:
    table = make_table()
    columns = list(table)
    lines = [",".join(columns)]
    for i in range(len(table["id"])):
        lines.append(
            ",".join(
                f"{table[c][i]:g}" if c in ("time", "age") else str(table[c][i]) for c in columns
            )
        )
    (FIXTURES / "study_firth.csv").write_text("\n".join(lines) + "\n")

    time, event = table["time"].astype(float), table["status"].astype(int)
    low = (table["grade"] == "low").astype(float)
    age10 = table["age"] / 10
    models = {"grade": np.column_stack([low]), "multivariate": np.column_stack([low, age10])}
    one = np.zeros(len(time), dtype=int)
    centre = (table["centre"] == "B").astype(int)
    out: dict[str, Any] = {"firthmodels": {}, "definition": {}}
    for name, x in models.items():
        out["firthmodels"][name] = firth_by_firthmodels(x, time, event)
        for ties in ("breslow", "efron"):
            for strata_name, strata in (("none", one), ("centre", centre)):
                out["definition"][f"{name}/{ties}/{strata_name}"] = firth_by_definition(
                    x, time, event, strata, ties == "efron"
                )
    (FIXTURES / "study_firth.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
