"""Survival statistics: pure numpy/scipy numerics that know nothing of radiotherapy.

Estimators live in private modules (``_kaplan_meier``, ``_logrank``, ``_cox``...) so that a
module never shadows the function of the same name; import them from here.
"""

from rtoutcomes.stats._cox import (
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
from rtoutcomes.stats._cox._pieces import CoxPiece, cox_from_pieces, pooled_scaling
from rtoutcomes.stats._cox_predict import (
    AdjustedSurvival,
    PredictedCurve,
    PredictedSurvival,
    adjusted_survival,
    baseline_hazard,
    predict_survival,
)
from rtoutcomes.stats._cox_residuals import CoxResiduals, cox_residuals
from rtoutcomes.stats._cox_zph import CoxZph, cox_zph
from rtoutcomes.stats._cumulative_incidence import (
    CumulativeIncidence,
    IncidenceAt,
    IncidenceCurve,
    cumulative_incidence,
)
from rtoutcomes.stats._distributions import beta_ppf
from rtoutcomes.stats._fine_gray import FineGray, fine_gray
from rtoutcomes.stats._firth import FirthCox, firth_cox, firth_from_evaluator
from rtoutcomes.stats._gray import GrayTest, gray_test
from rtoutcomes.stats._kaplan_meier import KaplanMeier, KaplanMeierGroups, kaplan_meier
from rtoutcomes.stats._landmark import Landmark, landmark
from rtoutcomes.stats._logrank import LogRank, TrendTest, logrank
from rtoutcomes.stats._rmst import Rmst, rmst
from rtoutcomes.stats._split import SplitFollowUp, split_follow_up
from rtoutcomes.stats._validate import SurvivalInputError
from rtoutcomes.stats.follow_up import FollowUp, median_follow_up
from rtoutcomes.stats.quantiles import QuantileEstimate, SurvivalQuantiles
from rtoutcomes.stats.survival_at import RiskTable, SurvivalAt

__all__ = [
    "AdjustedSurvival",
    "Categorical",
    "ChiSquareTest",
    "Concordance",
    "CoxConvergenceWarning",
    "CoxInputError",
    "CoxPiece",
    "CoxResiduals",
    "CoxResult",
    "CoxZph",
    "CumulativeIncidence",
    "Design",
    "FineGray",
    "FirthCox",
    "FollowUp",
    "GrayTest",
    "IncidenceAt",
    "IncidenceCurve",
    "KaplanMeier",
    "KaplanMeierGroups",
    "Landmark",
    "LikelihoodRatioTest",
    "LogRank",
    "MonotoneLikelihoodWarning",
    "PredictedCurve",
    "PredictedSurvival",
    "QuantileEstimate",
    "RiskTable",
    "Rmst",
    "SplitFollowUp",
    "SurvivalAt",
    "SurvivalInputError",
    "SurvivalQuantiles",
    "TrendTest",
    "adjusted_survival",
    "baseline_hazard",
    "beta_ppf",
    "categorical",
    "cox",
    "cox_from_pieces",
    "cox_residuals",
    "cox_zph",
    "cumulative_incidence",
    "design_matrix",
    "fine_gray",
    "firth_cox",
    "firth_from_evaluator",
    "gray_test",
    "kaplan_meier",
    "landmark",
    "logrank",
    "lr_test",
    "median_follow_up",
    "pooled_scaling",
    "predict_survival",
    "rmst",
    "split_follow_up",
]
