"""Survival statistics: pure numpy/scipy numerics that know nothing of radiotherapy."""

from rtoutcomes.stats._validate import SurvivalInputError
from rtoutcomes.stats.kaplan_meier import KaplanMeier, kaplan_meier
from rtoutcomes.stats.quantiles import QuantileEstimate, SurvivalQuantiles
from rtoutcomes.stats.survival_at import RiskTable, SurvivalAt

__all__ = [
    "KaplanMeier",
    "QuantileEstimate",
    "RiskTable",
    "SurvivalAt",
    "SurvivalInputError",
    "SurvivalQuantiles",
    "kaplan_meier",
]
