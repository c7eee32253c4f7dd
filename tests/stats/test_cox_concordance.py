"""Concordance against a brute-force count over all pairs (independent of R's fixtures)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtoutcomes.stats import cox
from rtoutcomes.stats._cox import _concordance
from rtoutcomes.stats._cox._concordance import concordance, concordance_index


def brute_force(
    time: np.ndarray,
    event: np.ndarray,
    score: np.ndarray,
    w: np.ndarray,
    strata: np.ndarray,
    cluster: np.ndarray,
) -> tuple[float, ...]:
    n = len(time)
    counts = np.zeros(3)
    influence = np.zeros((n, 3))  # concordant, discordant, tied on score
    for i in range(n):
        if not event[i]:
            continue
        for j in range(n):
            later = time[j] > time[i] or (time[j] == time[i] and not event[j])
            if j == i or strata[j] != strata[i] or not later:
                continue
            kind = 0 if score[i] > score[j] else 1 if score[i] < score[j] else 2
            counts[kind] += w[i] * w[j]
            influence[i, kind] += w[j]
            influence[j, kind] += w[i]
    npair = counts.sum()
    if npair == 0:
        return (0.0, 0.0, 0.0, np.nan, np.nan)
    somers = (counts[0] - counts[1]) / npair
    dfbeta = w * (
        (influence[:, 0] - influence[:, 1]) / npair - somers / npair * influence.sum(axis=1)
    )
    dfbeta = np.bincount(cluster, weights=dfbeta)
    return (*counts, (somers + 1) / 2, float(np.sqrt(dfbeta @ dfbeta / 4)))


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    st.integers(min_value=2, max_value=60),
    st.integers(min_value=0, max_value=2**31 - 1),
    st.booleans(),
    st.booleans(),
)
@pytest.mark.parametrize("radix", [True, False])
def test_counts_and_standard_error_match_all_pairs(
    radix: bool, n: int, seed: int, weighted: bool, stratified: bool
) -> None:
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 6, n).astype(float)  # many tied times
    event = rng.random(n) < 0.6
    event[0] = True
    score = rng.integers(0, 4, n) * 0.5  # many tied scores
    w = rng.integers(1, 4, n).astype(float) if weighted else np.ones(n)
    strata = rng.integers(0, 2, n) if stratified else np.zeros(n, dtype=np.intp)
    cluster = np.arange(n) // 2
    expected = brute_force(time, event, score, w, strata, cluster)
    if expected[0] + expected[1] + expected[2] == 0:
        return
    limit = _concordance.RADIX_LIMIT
    try:
        _concordance.RADIX_LIMIT = limit if radix else 0  # 0: the arithmetic partition
        c = concordance(
            time, event, score, w if weighted else None, strata if stratified else None, cluster
        )
    finally:
        _concordance.RADIX_LIMIT = limit
    np.testing.assert_allclose([c.concordant, c.discordant, c.tied_x], expected[:3], rtol=1e-12)
    np.testing.assert_allclose([c.concordance, c.std], expected[3:], rtol=1e-10)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=2**31 - 1),
    st.booleans(),
    st.booleans(),
    st.sampled_from([2, 3, 7, 1000]),
)
@pytest.mark.parametrize("path", ["table", "radix", "partition"])
def test_concordance_index_equals_the_full_concordance(
    path: str, n: int, seed: int, weighted: bool, stratified: bool, n_scores: int
) -> None:
    # C alone, from the table of counts or counted over the bits of the score rank, is the
    # full computation's C: equal floats for whole-number weights, where every pair count is
    # exact
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 8, n).astype(float)
    event = rng.random(n) < 0.6
    score = rng.integers(0, n_scores, n) * 0.25
    w = rng.integers(1, 4, n).astype(float) if weighted else None
    strata = rng.integers(0, 3, n) if stratified else None
    saved = (
        _concordance.RADIX_LIMIT,
        _concordance.TABLE_CELLS_PER_ROW,
        _concordance.TABLE_CELLS_FREE,
    )
    try:
        _concordance.RADIX_LIMIT = saved[0] if path == "radix" else 0  # 0: arithmetic partition
        if path != "table":  # a table of no cells is never used
            _concordance.TABLE_CELLS_PER_ROW = _concordance.TABLE_CELLS_FREE = 0
        full = concordance(time, event, score, w, strata).concordance
        alone = concordance_index(time, event, score, w, strata)
    finally:
        (
            _concordance.RADIX_LIMIT,
            _concordance.TABLE_CELLS_PER_ROW,
            _concordance.TABLE_CELLS_FREE,
        ) = saved
    if np.isnan(full):
        assert np.isnan(alone)
    else:
        assert alone == full


def test_concordance_index_of_a_fit_is_its_concordance() -> None:
    rng = np.random.default_rng(11)
    x = np.column_stack([rng.integers(0, 2, 500), rng.standard_normal(500)])
    time = np.ceil(rng.exponential(10, 500))
    event = rng.random(500) < 0.7
    fit = cox(x, time, event)
    fresh = cox(x, time, event)
    assert fresh.c_index == fit.concordance.concordance
    assert fit.c_index == fit.concordance.concordance  # from the full one when it is there
    # negative control: another score gives another C
    assert concordance_index(time, event, -x[:, 1]) != fit.c_index
