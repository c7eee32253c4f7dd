"""Cox proportional hazards models that match R's ``coxph`` (survival 3.x)."""

from rtoutcomes.stats._cox._concordance import Concordance, concordance
from rtoutcomes.stats._cox._design import Categorical, Design, categorical, design_matrix
from rtoutcomes.stats._cox._input import CoxInputError
from rtoutcomes.stats._cox._lrtest import LikelihoodRatioTest, lr_test
from rtoutcomes.stats._cox._model import cox
from rtoutcomes.stats._cox.result import (
    ChiSquareTest,
    CoxConvergenceWarning,
    CoxResult,
    MonotoneLikelihoodWarning,
)

__all__ = [
    "Categorical",
    "ChiSquareTest",
    "Concordance",
    "CoxConvergenceWarning",
    "CoxInputError",
    "CoxResult",
    "Design",
    "LikelihoodRatioTest",
    "MonotoneLikelihoodWarning",
    "categorical",
    "concordance",
    "cox",
    "design_matrix",
    "lr_test",
]
