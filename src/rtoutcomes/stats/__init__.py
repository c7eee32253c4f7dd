"""Survival statistics: pure numpy/scipy numerics that know nothing of radiotherapy."""

from rtoutcomes.stats._validate import SurvivalInputError

__all__ = [
    "SurvivalInputError",
]
