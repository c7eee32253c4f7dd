"""Survival statistics: pure numpy/scipy numerics that know nothing of radiotherapy."""
