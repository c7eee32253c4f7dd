"""Distinct times by counting (whole numbers in a modest range) equal those by sorting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtoutcomes.stats import _ties


def by_sorting(function, *args):  # type: ignore[no-untyped-def]
    saved = _ties.WHOLE_RANGE_PER_ROW
    try:
        _ties.WHOLE_RANGE_PER_ROW = -(2**20)  # no range qualifies: the sorting path
        return function(*args)
    finally:
        _ties.WHOLE_RANGE_PER_ROW = saved


@settings(derandomize=True, max_examples=80, deadline=None)
@given(
    st.integers(min_value=1, max_value=300),
    st.integers(min_value=0, max_value=2**31 - 1),
    st.sampled_from([1, 5, 400, 10**6]),
    st.sampled_from([0.0, 1e12]),
)
def test_counting_equals_sorting(n: int, seed: int, spread: int, offset: float) -> None:
    rng = np.random.default_rng(seed)
    time = rng.integers(0, spread, n).astype(np.float64) + offset
    time[(time == 0) & (rng.random(n) < 0.5)] = -0.0  # merges with 0.0
    event = rng.random(n) < 0.6
    counted = _ties._distinct_with_events(time, event)
    sorted_ = by_sorting(_ties._distinct_with_events, time, event)
    for a, b in zip(counted, sorted_, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert not np.signbit(counted[0]).any()
    for values in (time, time - 7.0):  # ranks of any whole numbers, negative ones too
        assert np.array_equal(_ties.dense_rank(values), by_sorting(_ties.dense_rank, values))


@pytest.mark.parametrize(
    "values",
    [[0.5, 1.5, 2.0], [1.0, np.nan], [1.0, np.inf], [0.0, 1e9], [2.0**60, 2.0**60 + 2**10]],
)
def test_counting_only_for_whole_numbers_in_a_modest_range(values: list[float]) -> None:
    assert _ties.whole_number_codes(np.array(values)) is None
    codes = _ties.whole_number_codes(np.array([3.0, -2.0, 3.0, 0.0]))
    assert codes is not None
    assert codes[0].tolist() == [5, 0, 5, 2] and codes[1:] == (-2, 6)
