"""The distribution functions from scipy.special give scipy.stats' values, edge cases included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rtoutcomes.stats._distributions import chi2_sf, norm_ppf, norm_sf

X = np.array([-1.0, -0.0, 0.0, 1e-300, 1e-8, 0.5, 3.841458820694124, 50.0, 1e6, np.inf, np.nan])


@pytest.mark.parametrize("df", [0, 1, 2, 3.5, 7, 40, -1, np.nan])
def test_chi2_sf(df: float) -> None:
    np.testing.assert_array_equal(chi2_sf(X, df), stats.chi2.sf(X, df))
    for x in X:
        ours, theirs = chi2_sf(x, df), stats.chi2.sf(x, df)
        assert type(ours) is type(theirs)
        np.testing.assert_array_equal(ours, theirs)


def test_chi2_sf_with_arrays_of_df() -> None:
    df = np.array([1, 2, 3, 0, 4, 1, 2, 5, 6, 1, 1])
    np.testing.assert_array_equal(chi2_sf(X, df), stats.chi2.sf(X, df))


def test_normal() -> None:
    z = np.concatenate([X, -X, [37.5, -37.5, 8.3]])
    np.testing.assert_array_equal(norm_sf(z), stats.norm.sf(z))
    q = np.array([-0.1, 0.0, 1e-300, 1e-10, 0.025, 0.5, 0.975, 1 - 1e-16, 1.0, 1.1, np.nan])
    np.testing.assert_array_equal(norm_ppf(q), stats.norm.ppf(q))
    assert norm_ppf(0.975) == stats.norm.ppf(0.975) and type(norm_ppf(0.975)) is np.float64
    assert norm_sf(1.5) == stats.norm.sf(1.5) and type(norm_sf(1.5)) is np.float64
