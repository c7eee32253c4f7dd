"""Survival statistics: pure numpy/scipy numerics that know nothing of radiotherapy."""

from rtoutcomes.stats._validate import SurvivalInputError
from rtoutcomes.stats.cox import (
    Categorical,
    ChiSquareTest,
    Concordance,
    CoxConvergenceWarning,
    CoxInputError,
    CoxResult,
    Design,
    LikelihoodRatioTest,
    MonotoneLikelihoodWarning,
    categorical,
    cox,
    design_matrix,
    lr_test,
)
from rtoutcomes.stats.kaplan_meier import KaplanMeier, kaplan_meier
from rtoutcomes.stats.quantiles import QuantileEstimate, SurvivalQuantiles
from rtoutcomes.stats.survival_at import RiskTable, SurvivalAt

__all__ = [
    "Categorical",
    "ChiSquareTest",
    "Concordance",
    "CoxConvergenceWarning",
    "CoxInputError",
    "CoxResult",
    "Design",
    "KaplanMeier",
    "LikelihoodRatioTest",
    "MonotoneLikelihoodWarning",
    "QuantileEstimate",
    "RiskTable",
    "SurvivalAt",
    "SurvivalInputError",
    "SurvivalQuantiles",
    "categorical",
    "cox",
    "design_matrix",
    "kaplan_meier",
    "lr_test",
]
