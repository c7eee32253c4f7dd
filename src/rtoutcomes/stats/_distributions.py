"""The few scipy.stats functions the estimators need, imported on first use.

``scipy.stats`` takes longer to import than the rest of ``rtoutcomes.stats`` together, and the
commands that only need result tables or Kaplan-Meier curves (``dosimetry``, ``--help``) never
ask for a p-value; importing it here, at the first call, keeps them quick. The values are
scipy's own (same functions, same arguments).
"""

from __future__ import annotations

from typing import Any


def chi2_sf(statistic: Any, df: Any) -> Any:
    """Upper tail of the chi-square distribution (``scipy.stats.chi2.sf``)."""
    from scipy.stats import chi2

    return chi2.sf(statistic, df)


def norm_sf(z: Any) -> Any:
    """Upper tail of the standard normal distribution (``scipy.stats.norm.sf``)."""
    from scipy.stats import norm

    return norm.sf(z)


def norm_ppf(q: Any) -> Any:
    """Quantile of the standard normal distribution (``scipy.stats.norm.ppf``)."""
    from scipy.stats import norm

    return norm.ppf(q)


def rankdata(values: Any, method: str) -> Any:
    """Ranks, ties by ``method`` (``scipy.stats.rankdata``)."""
    from scipy.stats import rankdata as scipy_rankdata

    return scipy_rankdata(values, method=method)
