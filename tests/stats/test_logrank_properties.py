"""Properties of the log-rank family that hold for any data (hypothesis, derandomised)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rtoutcomes.stats import SurvivalInputError, logrank

PROPERTY = settings(derandomize=True, max_examples=60, deadline=None, database=None)


@st.composite
def grouped_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(4, 50))
    time = np.array(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), dtype=float)
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    group = np.array(draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n)))
    strata = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    return time, event, group, strata


@PROPERTY
@given(grouped_data(), st.sampled_from([0.0, 1.0]), st.booleans())
def test_relabelling_groups_changes_nothing(
    data: tuple[np.ndarray, ...], rho: float, stratified: bool
) -> None:
    time, event, group, strata = data
    assume(len(set(group.tolist())) >= 2 and event.any())
    rename = {"x": "b", "y": "c", "z": "a"}
    try:
        logrank(time, event, group, strata=strata if stratified else None, rho=rho)
    except SurvivalInputError:
        return  # singular variance: covered by the next test
    a = logrank(time, event, group, strata=strata if stratified else None, rho=rho)
    b = logrank(
        time,
        event,
        np.array([rename[g] for g in group]),
        strata=strata if stratified else None,
        rho=rho,
    )
    idx = [list(b.levels).index(rename[str(level)]) for level in a.levels]
    np.testing.assert_allclose(b.observed[idx], a.observed, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.expected[idx], a.expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.variance[np.ix_(idx, idx)], a.variance, rtol=1e-12, atol=1e-12)
    assert b.df == a.df
    assert b.statistic == pytest.approx(a.statistic, rel=1e-9, abs=1e-12)


@PROPERTY
@given(grouped_data())
def test_row_order_and_time_scale_change_nothing(data: tuple[np.ndarray, ...]) -> None:
    time, event, group, strata = data
    assume(len(set(group.tolist())) >= 2 and event.any())
    perm = np.random.default_rng(len(time)).permutation(len(time))
    try:
        a = logrank(time, event, group, strata=strata)
    except SurvivalInputError:  # no information in some group (R's solve() fails too)
        with pytest.raises(SurvivalInputError, match="singular"):
            logrank(time[perm] * 30.4375, event[perm], group[perm], strata=strata[perm])
        return
    b = logrank(time[perm] * 30.4375, event[perm], group[perm], strata=strata[perm])
    np.testing.assert_allclose(b.observed, a.observed, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.expected, a.expected, rtol=1e-12, atol=1e-12)
    assert b.statistic == pytest.approx(a.statistic, rel=1e-9, abs=1e-12)


@PROPERTY
@given(grouped_data())
def test_observed_minus_expected_sums_to_zero_and_variance_is_singular(
    data: tuple[np.ndarray, ...],
) -> None:
    time, event, group, _ = data
    result = logrank(time, event, group)
    assert np.sum(result.observed - result.expected) == pytest.approx(0, abs=1e-9)
    np.testing.assert_allclose(result.variance.sum(axis=1), 0, atol=1e-9)
    np.testing.assert_allclose(result.variance, result.variance.T, atol=1e-12)


def test_trend_with_two_groups_is_the_logrank_test() -> None:
    time = [1, 2, 2, 3, 4, 5, 6, 6, 7, 9]
    event = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1]
    group = [0, 1, 0, 1, 0, 1, 0, 1, 1, 1]
    result = logrank(time, event, group)
    assert result.trend().statistic == pytest.approx(result.statistic, rel=1e-12)
    # Scores only matter up to a linear map.
    assert result.trend([5.0, 7.0]).statistic == pytest.approx(result.statistic, rel=1e-12)


def test_one_stratum_equals_no_strata() -> None:
    time = [1, 2, 2, 3, 4, 5, 6, 6, 7, 9]
    event = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1]
    group = ["a", "b", "c", "b", "a", "b", "a", "c", "b", "b"]
    plain = logrank(time, event, group)
    one = logrank(time, event, group, strata=["s"] * 10)
    assert one.statistic == pytest.approx(plain.statistic, rel=1e-14)
    assert one.observed_by_stratum.shape == (1, 3)
    assert "chisq" in str(one) and "<table" in one._repr_html_()


def test_single_group_has_no_test() -> None:
    result = logrank([1, 2, 3], [1, 0, 1], ["a", "a", "a"])
    assert result.statistic == 0 and result.df == 0 and result.p == 1  # as R


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rho": -1}, "rho"),
        ({"group": ["a", "b"]}, "group: has 2 rows"),
        ({"strata": [1, None, 2], "nan_policy": "raise"}, "strata: row 1"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"time": [1, 2, 3], "event": [1, 0, 1], "group": ["a", "b", "a"]}
    args.update(kwargs)
    with pytest.raises(SurvivalInputError, match=message):
        logrank(**args)  # type: ignore[arg-type]


def test_trend_scores_must_fit_the_groups() -> None:
    result = logrank([1, 2, 3, 4], [1, 0, 1, 1], ["a", "b", "a", "b"])
    with pytest.raises(SurvivalInputError, match="scores"):
        result.trend([1.0])
    with pytest.raises(SurvivalInputError, match="no score"):
        result.trend({"a": 1.0})
