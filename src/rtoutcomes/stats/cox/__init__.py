"""Cox proportional hazards models that match R's ``coxph`` (survival 3.x)."""

from rtoutcomes.stats.cox._concordance import Concordance, concordance
from rtoutcomes.stats.cox._design import Categorical, Design, categorical, design_matrix
from rtoutcomes.stats.cox._input import CoxInputError
from rtoutcomes.stats.cox._lrtest import LikelihoodRatioTest, lr_test
from rtoutcomes.stats.cox._model import cox
from rtoutcomes.stats.cox.result import (
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
