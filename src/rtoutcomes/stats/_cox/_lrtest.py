"""Likelihood-ratio test of two nested Cox models (R's ``anova(smaller, larger)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rtoutcomes.stats._cox._input import CoxInputError
from rtoutcomes.stats._cox.result import CoxResult
from rtoutcomes.stats._distributions import chi2_sf
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class LikelihoodRatioTest(TabularResult):
    """2 (loglik_larger - loglik_smaller) against chi-square with the difference in parameters."""

    statistic: float
    df: int
    loglik: tuple[float, float]  # (smaller, larger)
    added: tuple[str, ...]  # covariates in the larger model only

    @property
    def p(self) -> float:
        return float(chi2_sf(self.statistic, self.df))

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "loglik": list(self.loglik),
                "chisq": [np.nan, self.statistic],
                "df": [np.nan, self.df],
                "p": [np.nan, self.p],
            },
            index=["smaller", "larger"],
        )


def _df(model: CoxResult) -> int:
    return int(np.isfinite(model.coef).sum())


def lr_test(smaller: CoxResult, larger: CoxResult) -> LikelihoodRatioTest:
    """Test whether the covariates ``larger`` adds to ``smaller`` improve the fit.

    The models must be nested: fitted to the same rows (same n, times and events after
    complete-case filtering), with the same tie method and stratification, and every covariate
    of ``smaller`` also in ``larger``. Fit both on the rows complete for the larger model, as
    R's ``anova`` requires.
    """
    if smaller.n != larger.n:
        raise CoxInputError(
            f"lr_test: the models were fitted to different numbers of rows ({smaller.n} and "
            f"{larger.n}); fit both on the rows complete for the larger model"
        )
    a, b = smaller._concordance_inputs, larger._concordance_inputs
    if not (np.array_equal(a.time, b.time) and np.array_equal(a.event, b.event)):
        raise CoxInputError("lr_test: the models were fitted to different rows (times differ)")
    if smaller.ties != larger.ties or smaller.stratified != larger.stratified:
        raise CoxInputError("lr_test: the models differ in tie method or stratification")
    missing = [name for name in smaller.names if name not in larger.names]
    if missing:
        raise CoxInputError(
            f"lr_test: the models are not nested: {missing} of the smaller model are not in the "
            "larger one"
        )
    df = _df(larger) - _df(smaller)
    if df <= 0:
        raise CoxInputError("lr_test: the larger model has no more parameters than the smaller")
    return LikelihoodRatioTest(
        statistic=2 * (larger.loglik - smaller.loglik),
        df=df,
        loglik=(smaller.loglik, larger.loglik),
        added=tuple(name for name in larger.names if name not in smaller.names),
    )
