"""Result objects of Cox models: coefficients table, global tests, concordance."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.stats._cox._concordance import Concordance, concordance, concordance_index
from rtoutcomes.stats._cox._input import CoxData
from rtoutcomes.stats._distributions import chi2_sf, norm_ppf, norm_sf
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


class MonotoneLikelihoodWarning(UserWarning):
    """The partial likelihood kept rising as a coefficient ran to +-infinity (separation).

    Typical cause: no events in one level of a categorical covariate. The reported coefficient
    is then only where the iterations stopped, not an estimate, and its hazard ratio and Wald
    test are meaningless; use the likelihood-ratio test, merge levels or a penalised model.
    """


class CoxConvergenceWarning(UserWarning):
    """Newton-Raphson used all its iterations without meeting the convergence rule."""


@dataclass(frozen=True)
class ChiSquareTest:
    """A chi-square test: statistic, degrees of freedom and p-value."""

    statistic: float
    df: int

    @property
    def p(self) -> float:
        return float(chi2_sf(self.statistic, self.df)) if self.df > 0 else float("nan")


@dataclass(frozen=True)
class ConcordanceInputs:
    """What the (lazily computed) concordance needs, in complete-case input order."""

    time: FloatArray
    event: BoolArray
    linear_predictor: FloatArray
    weights: FloatArray | None
    strata: IntArray | None
    cluster: IntArray | None
    start: FloatArray | None = None  # counting-process data: entry times


def coefficient_frame(
    names: tuple[str, ...],
    columns: dict[str, FloatArray],
    conf_level: float,
    lower: FloatArray,
    upper: FloatArray,
) -> pd.DataFrame:
    """The coefficient table of a hazard model (Cox, Fine-Gray): one layout for both.

    Index ``covariate``; columns coef, hr, se (the one the fit reports), [naive_se], z, p,
    ``lower 95%``, ``upper 95%`` (the level of the fit).
    """
    import pandas as pd

    level = f"{100 * conf_level:g}%"
    out = dict(columns)
    out.update({f"lower {level}": lower, f"upper {level}": upper})
    return pd.DataFrame(out, index=pd.Index(list(names), name="covariate"))


@dataclass(frozen=True, repr=False)
class CoxResult(TabularResult):
    """A fitted Cox proportional hazards model.

    ``coef`` are log hazard ratios per unit of each covariate (NaN for an aliased column). ``se``
    is the standard error used for inference: the robust one when the model is robust (a
    ``cluster`` was given, or case weights are not whole numbers, as R decides), else the naive
    one; both are kept in ``naive_se`` and ``robust_se``. ``z``, ``p`` and the hazard-ratio
    limits ``lower``/``upper`` (at ``conf_level``) use ``se``.
    """

    names: tuple[str, ...]
    coef: FloatArray
    var: FloatArray
    naive_var: FloatArray
    robust_var: FloatArray | None
    conf_level: float
    loglik: float  # log partial likelihood at the estimate
    loglik_null: float  # at beta = 0
    lr_test: ChiSquareTest
    wald_test: ChiSquareTest  # robust when the model is robust, as R prints it
    score_test: ChiSquareTest  # log-rank test for a single binary covariate
    robust_score_test: ChiSquareTest | None
    n: int
    n_dropped: int
    n_events: int
    n_clusters: int | None
    ties: str
    stratified: bool
    iterations: int
    converged: bool
    warnings: tuple[str, ...]
    infinite: tuple[str, ...]  # covariates whose coefficient may be infinite
    terms: dict[str, tuple[int, ...]]
    means: FloatArray
    linear_predictor: FloatArray = field(repr=False)
    _concordance_inputs: ConcordanceInputs = field(repr=False)
    # the complete cases the model was fitted to, for residuals and cox_zph (no copy is made)
    data: CoxData | None = field(default=None, repr=False)
    # the fit's sorted, centred and scaled rows (RiskSets), its scale and its last likelihood
    # evaluation: cox_zph and residuals start from them instead of sorting again
    _fitted: tuple[Any, FloatArray, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def strata_levels(self) -> tuple[Any, ...] | None:
        """The strata labels in code order (sorted), None for an unstratified fit."""
        return None if self.data is None else self.data.strata_levels

    @property
    def robust(self) -> bool:
        return self.robust_var is not None

    @property
    def se(self) -> FloatArray:
        return np.sqrt(np.diag(self.var))

    @property
    def naive_se(self) -> FloatArray:
        return np.sqrt(np.diag(self.naive_var))

    @property
    def robust_se(self) -> FloatArray | None:
        return None if self.robust_var is None else np.sqrt(np.diag(self.robust_var))

    @property
    def hr(self) -> FloatArray:
        with np.errstate(over="ignore"):  # a diverging coefficient's HR is inf, as R's exp()
            return np.exp(self.coef)

    @property
    def z(self) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.coef / self.se

    @property
    def p(self) -> FloatArray:
        return 2 * norm_sf(np.abs(self.z))

    def _limit(self, sign: float) -> FloatArray:
        q = float(norm_ppf(1 - (1 - self.conf_level) / 2))
        # A diverging coefficient (monotone likelihood, flagged in ``infinite``) has a huge se:
        # its limits are 0 and inf, as R reports them, not an overflow warning.
        with np.errstate(over="ignore"):
            return np.exp(self.coef + sign * q * self.se)

    @property
    def lower(self) -> FloatArray:
        return self._limit(-1.0)

    @property
    def upper(self) -> FloatArray:
        return self._limit(1.0)

    @cached_property
    def concordance(self) -> Concordance:
        """Harrell's C with R's standard error; computed on first access (O(n log T) for T
        distinct times, after an O(n log n) sort)."""
        c = self._concordance_inputs
        return concordance(
            c.time, c.event, c.linear_predictor, c.weights, c.strata, c.cluster, start=c.start
        )

    @cached_property
    def c_index(self) -> float:
        """Harrell's C alone (``concordance.concordance`` without the standard error and pair
        counts): a few passes over the rows for a categorical model, where the full
        concordance takes one per bit of the number of distinct times."""
        c = self._concordance_inputs
        if "concordance" in self.__dict__ or c.start is not None:  # computed, or intervals
            return self.concordance.concordance
        return concordance_index(c.time, c.event, c.linear_predictor, c.weights, c.strata)

    def to_frame(self) -> pd.DataFrame:
        """Coefficients: ``se`` is the one the fit reports and tests with (robust when the fit
        is robust, as R's summary), the naive one is then in ``naive_se``."""
        columns: dict[str, FloatArray] = {"coef": self.coef, "hr": self.hr, "se": self.se}
        if self.robust:
            columns["naive_se"] = self.naive_se
        columns.update({"z": self.z, "p": self.p})
        return coefficient_frame(self.names, columns, self.conf_level, self.lower, self.upper)

    def _headline(self) -> str:
        strata = ", stratified" if self.stratified else ""
        robust = f", robust ({self.n_clusters} clusters)" if self.robust else ""
        return (
            f"n = {self.n}, events = {self.n_events}"
            f"{f', dropped = {self.n_dropped}' if self.n_dropped else ''}, "
            f"ties = {self.ties}{strata}{robust}, loglik = {self.loglik:.6g} "
            f"(null {self.loglik_null:.6g})"
        )

    def summary(self) -> str:
        """As R's summary.coxph: counts, coefficients, concordance and the global tests."""
        c = self.concordance
        lines = [super().summary(), f"Concordance = {c.concordance:.4g} (se = {c.std:.4g})"]
        for label, test in self.tests_frame().iterrows():
            lines.append(
                f"{label}: {test['statistic']:.6g} on {test['df']:g} df, p = {test['p']:.4g}"
            )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def tests_frame(self) -> pd.DataFrame:
        """The global tests (likelihood ratio, Wald, score and robust score) as a table."""
        import pandas as pd

        rows = {
            "likelihood ratio": self.lr_test,
            "wald": self.wald_test,
            "score (log-rank)": self.score_test,
        }
        if self.robust_score_test is not None:
            rows["robust score"] = self.robust_score_test
        return pd.DataFrame(
            {
                "statistic": [t.statistic for t in rows.values()],
                "df": [t.df for t in rows.values()],
                "p": [t.p for t in rows.values()],
            },
            index=list(rows),
        )
