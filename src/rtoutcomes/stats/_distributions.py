"""The few distribution functions the estimators need, from ``scipy.special``.

``scipy.stats`` takes longer to import than the rest of ``rtoutcomes.stats`` together (and than
the DVH computation of ``rtoutcomes dosimetry``); its ``chi2.sf``, ``norm.sf`` and ``norm.ppf``
are thin wrappers over the ``scipy.special`` functions used here, which give the same values
(tests/stats/test_distributions.py compares them on edge cases). ``scipy.special`` itself is
imported at the first call, so commands that need no p-value load neither.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def chi2_sf(statistic: Any, df: Any) -> Any:
    """Upper tail of the chi-square distribution, as ``scipy.stats.chi2.sf``: 1 for a
    statistic <= 0, NaN for df <= 0 (a float for scalar arguments)."""
    from scipy.special import chdtrc

    x = np.asarray(statistic, dtype=np.float64)
    k = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = np.where(k > 0, chdtrc(k, np.maximum(x, 0.0)), np.nan)
    return out[()]


def norm_sf(z: Any) -> Any:
    """Upper tail of the standard normal distribution (``scipy.stats.norm.sf``)."""
    from scipy.special import ndtr

    return ndtr(-np.asarray(z, dtype=np.float64))[()]


def norm_ppf(q: Any) -> Any:
    """Quantile of the standard normal distribution (``scipy.stats.norm.ppf``)."""
    from scipy.special import ndtri

    return ndtri(np.asarray(q, dtype=np.float64))[()]


def rankdata(values: Any, method: str) -> Any:
    """Ranks, ties by ``method`` (``scipy.stats.rankdata``; imported here, when needed)."""
    from scipy.stats import rankdata as scipy_rankdata

    return scipy_rankdata(values, method=method)
