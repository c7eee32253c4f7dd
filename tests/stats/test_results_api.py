"""The Python API a statistician meets first: missing values, reprs, tables, group labels.

Each test pins one reported defect (issue 13, item 4): a string Series as the group of
cumulative_incidence, to_frame's se being the one the fit reports, one coefficient layout for
Cox and Fine-Gray, NaN handling shared by every estimator (nan_policy), bounded text/HTML views.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtoutcomes.stats import (
    CoxInputError,
    SurvivalInputError,
    cox,
    cumulative_incidence,
    fine_gray,
    gray_test,
    kaplan_meier,
    logrank,
)

TIME = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
EVENT = np.array([1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1])
STATUS = np.array([1, 2, 1, 0, 1, 2, 1, 0, 2, 1, 0, 1])
GROUP = list("aabbabbaabab")


def test_cumulative_incidence_takes_a_string_series_as_group() -> None:
    fit = cumulative_incidence(TIME, STATUS, group=pd.Series(GROUP))
    by_list = cumulative_incidence(TIME, STATUS, group=GROUP)
    assert [c.group for c in fit] == [c.group for c in by_list] == ["a", "b", "a", "b"]
    assert all(type(c.group) is str for c in fit)
    np.testing.assert_array_equal(fit.curve(1, "a").estimate, by_list.curve(1, "a").estimate)


def test_to_frame_se_is_the_reported_se_robust_when_clustered() -> None:
    x = np.column_stack([np.arange(12) % 3, (np.arange(12) * 7) % 5])
    cluster = np.repeat(np.arange(6), 2)
    fit = cox(x, TIME, EVENT, names=["a", "b"], cluster=cluster)
    frame = fit.to_frame()
    assert fit.robust_se is not None
    np.testing.assert_array_equal(frame["se"].to_numpy(), fit.se)
    np.testing.assert_array_equal(frame["se"].to_numpy(), fit.robust_se)
    np.testing.assert_array_equal(frame["naive_se"].to_numpy(), fit.naive_se)
    assert not np.allclose(fit.se, fit.naive_se)  # the two differ, so the test can fail
    plain = cox(x, TIME, EVENT, names=["a", "b"]).to_frame()
    assert "naive_se" not in plain.columns


def test_cox_and_fine_gray_tables_share_column_names() -> None:
    x = np.column_stack([np.arange(12) % 2])
    c = cox(x, TIME, EVENT, names=["arm"]).to_frame()
    f = fine_gray(x, TIME, STATUS, names=["arm"]).to_frame()
    assert c.index.name == f.index.name == "covariate"
    shared = ["coef", "hr", "se", "z", "p", "lower 95%", "upper 95%"]
    assert [k for k in c.columns if k in shared] == shared
    assert [k for k in f.columns if k in shared] == shared


def test_missing_values_are_dropped_and_counted_everywhere() -> None:
    t = np.append(TIME, [np.nan, 3.0])
    e = np.append(EVENT, [1, np.nan])
    s = np.append(STATUS, [1, np.nan])
    g = [*GROUP, "a", None]
    km = kaplan_meier(t, e)
    assert km.n == 12 and km.n_dropped == 2
    np.testing.assert_array_equal(km.survival, kaplan_meier(TIME, EVENT).survival)
    lr = logrank(t, e, g)
    assert lr.n_dropped == 2 and lr.statistic == logrank(TIME, EVENT, GROUP).statistic
    ci = cumulative_incidence(t, s, group=g)
    assert ci.n == 12 and ci.n_dropped == 2
    gt = gray_test(t, s, g)
    np.testing.assert_array_equal(gt.statistic, gray_test(TIME, STATUS, GROUP).statistic)
    fit = cox(np.append(np.arange(12) % 2, [0, 1]), t, e)
    assert fit.n == 12 and fit.n_dropped == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda: kaplan_meier([1.0, np.nan], [1, 0], nan_policy="raise"),
        lambda: logrank([1.0, 2.0], [1, 0], ["a", None], nan_policy="raise"),
        lambda: cumulative_incidence([1.0, np.nan], [1, 0], nan_policy="raise"),
        lambda: gray_test([1.0, 2.0, 3], [1, np.nan, 1], ["a", "b", "a"], nan_policy="raise"),
        lambda: cox([[0.0], [np.nan], [1.0]], [1, 2, 3], [1, 1, 0], nan_policy="raise"),
        lambda: fine_gray([[0.0], [np.nan], [1.0]], [1, 2, 3], [1, 2, 0], nan_policy="raise"),
        lambda: kaplan_meier([1.0, 2.0], [1, 0], nan_policy="propagate"),
    ],
)
def test_nan_policy_raise_refuses_missing_values(call: object) -> None:
    with pytest.raises(SurvivalInputError, match=r"row 1|nan_policy"):
        call()  # type: ignore[operator]


def test_cox_nan_policy_raise_is_a_cox_input_error() -> None:
    with pytest.raises(CoxInputError, match=r"row 1 .*nan_policy=.raise."):
        cox([[0.0], [np.nan], [1.0]], [1, 2, 3], [1, 1, 0], nan_policy="raise")


def test_kaplan_meier_by_group_is_one_curve_per_level() -> None:
    fits = kaplan_meier(TIME, EVENT, group=pd.Series(GROUP))
    assert fits.levels == ["a", "b"] and len(fits) == 2
    for level in fits.levels:
        rows = np.array(GROUP) == level
        alone = kaplan_meier(TIME[rows], EVENT[rows])
        np.testing.assert_array_equal(fits[level].survival, alone.survival)
        np.testing.assert_array_equal(fits[level].upper, alone.upper)
        assert fits[level].group == level
    frame = fits.to_frame()
    in_b = np.array(GROUP) == "b"
    assert frame.loc["a", "n"] == 6 and frame.loc["b", "events"] == EVENT[in_b].sum()


def test_views_are_short_and_bounded() -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    t = rng.exponential(10, n)
    km = kaplan_meier(t, rng.random(n) < 0.7)
    assert repr(km).startswith("<KaplanMeier: n = 100000") and "\n" not in repr(km)
    assert len(km._repr_html_()) < 20_000
    assert len(str(km).splitlines()) < 30
    ci = cumulative_incidence(t[:5000], rng.integers(0, 3, 5000))
    assert len(str(ci).splitlines()) < 40
    x = rng.normal(size=(500, 2))
    fit = cox(x, t[:500], rng.random(500) < 0.6, names=["a", "b"])
    text = str(fit)
    for needle in (
        "n = 500",
        "events = ",
        "loglik = ",
        "likelihood ratio",
        "wald",
        "score (log-rank)",
        "Concordance",
    ):
        assert needle in text, needle
    assert "\n" not in repr(fit) and len(repr(fit)) < 200
    assert fit.summary() == text
