"""Properties of the cumulative incidence and Gray's test that hold for any data (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rtoutcomes.stats import cumulative_incidence, gray_test, kaplan_meier

PROPERTY = settings(derandomize=True, max_examples=60, deadline=None, database=None)


@st.composite
def competing_data(draw: st.DrawFn, max_cause: int = 2) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 40))
    # Integer times on a short grid: ties between causes, censorings and both are common.
    time = np.array(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), dtype=float)
    status = np.array(draw(st.lists(st.integers(0, max_cause), min_size=n, max_size=n)))
    if not (status > 0).any():
        status[draw(st.integers(0, n - 1))] = draw(st.integers(1, max_cause))
    return time, status


@PROPERTY
@given(competing_data(max_cause=3))
def test_curves_rise_and_add_up_with_survival_to_one(data: tuple[np.ndarray, ...]) -> None:
    time, status = data
    fit = cumulative_incidence(time, status)
    km = kaplan_meier(time, status > 0)
    total = np.zeros(km.time.shape[0])
    for curve in fit:
        assert np.all(np.diff(curve.estimate) > 0)  # a step only where this cause has events
        assert np.all((curve.estimate > 0) & (curve.estimate <= 1 + 1e-12))
        assert np.all(curve.variance >= -1e-15)
        lo_ok = ~np.isnan(curve.lower)
        assert np.all(curve.lower[lo_ok] <= curve.estimate[lo_ok] + 1e-12)
        assert np.all(curve.upper[lo_ok] >= curve.estimate[lo_ok] - 1e-12)
        total += fit.at(km.time).estimate[list(fit.curves).index(curve)]
    # Every curve read at every distinct time (event or censoring) plus overall KM is 1.
    np.testing.assert_allclose(total + km.survival, 1.0, rtol=0, atol=1e-12)


@PROPERTY
@given(competing_data(max_cause=1))
def test_single_cause_is_one_minus_kaplan_meier(data: tuple[np.ndarray, ...]) -> None:
    time, status = data
    curve = cumulative_incidence(time, status).curve(1)
    km = kaplan_meier(time, status == 1)
    steps = np.searchsorted(km.time, curve.time)
    np.testing.assert_allclose(curve.estimate, 1.0 - km.survival[steps], rtol=0, atol=1e-12)
    # Without competing events cmprsk's variance is not Greenwood's S^2 sum d / (n (n - d)) but
    # reduces (with its tie factor (n - d) / (n - 1)) to S(t)^2 sum d / ((n - 1) (n - d)),
    # worked out by hand from the module's formula; it needs S(t) > 0.
    n, d = km.n_risk, km.n_event
    defined = km.survival[steps] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        increments = np.where(d > 0, d / ((n - 1) * (n - d)), 0.0)
        expected = km.survival[steps] ** 2 * np.cumsum(increments)[steps]
    np.testing.assert_allclose(curve.variance[defined], expected[defined], rtol=1e-9, atol=1e-15)


@PROPERTY
@given(competing_data(), st.randoms(use_true_random=False), st.sampled_from([1.0, 30.4375]))
def test_row_order_and_time_unit_change_nothing(
    data: tuple[np.ndarray, ...], rnd: object, scale: float
) -> None:
    time, status = data
    n = time.shape[0]
    group = np.arange(n) % 2
    perm = np.array(sorted(range(n), key=lambda _: rnd.random()))  # type: ignore[attr-defined]
    base = cumulative_incidence(time, status, group=group)
    moved = cumulative_incidence(time[perm] * scale, status[perm], group=group[perm])
    for a, b in zip(base, moved, strict=True):
        np.testing.assert_allclose(a.time * scale, b.time, rtol=1e-15)
        np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-12)
        np.testing.assert_allclose(a.variance, b.variance, rtol=1e-9, atol=1e-15)
    if base.tests is not None and moved.tests is not None:
        np.testing.assert_allclose(base.tests.statistic, moved.tests.statistic, rtol=1e-9)


@PROPERTY
@given(competing_data())
def test_gray_statistic_does_not_depend_on_group_labels(data: tuple[np.ndarray, ...]) -> None:
    time, status = data
    group = np.arange(time.shape[0]) % 2
    if (np.bincount(group) < 2).any():
        return
    one = gray_test(time, status, group)
    # Swapping which group is dropped from the K - 1 scores leaves the quadratic form unchanged.
    two = gray_test(time, status, 1 - group)
    np.testing.assert_allclose(one.statistic, two.statistic, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(one.scores, -two.scores, rtol=1e-10, atol=1e-12)
