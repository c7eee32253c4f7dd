"""Properties of the Kaplan-Meier estimator that hold for any data (hypothesis, derandomised)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtoutcomes.stats import SurvivalInputError, kaplan_meier

PROPERTY = settings(derandomize=True, max_examples=60, deadline=None, database=None)


@st.composite
def survival_data(draw: st.DrawFn, weighted: bool = False) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(1, 40))
    # Integer times on a short grid: ties between events, censorings and both are common.
    time = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)), dtype=float)
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    if not weighted:
        return time, event
    weights = draw(st.lists(st.sampled_from([0.5, 1.0, 1.25, 2.0, 3.0]), min_size=n, max_size=n))
    return time, event, np.array(weights)


@PROPERTY
@given(survival_data(), st.sampled_from(["plain", "log", "log-log"]))
def test_survival_is_monotone_within_unit_interval(
    data: tuple[np.ndarray, ...], conf_type: str
) -> None:
    fit = kaplan_meier(*data, conf_type=conf_type)
    assert np.all((fit.survival >= 0) & (fit.survival <= 1))
    assert np.all(np.diff(fit.survival) <= 0)
    assert np.all(np.diff(fit.time) > 0)
    defined = ~np.isnan(fit.lower)
    assert np.all(fit.lower[defined] <= fit.survival[defined] + 1e-15)
    assert np.all(fit.upper[defined] >= fit.survival[defined] - 1e-15)
    assert fit.n_risk[0] == len(data[0])
    assert fit.n_event.sum() + fit.n_censor.sum() == len(data[0])


@PROPERTY
@given(survival_data(weighted=True))
def test_row_order_changes_nothing(data: tuple[np.ndarray, ...]) -> None:
    time, event, weights = data
    perm = np.random.default_rng(len(time)).permutation(len(time))
    for w in (None, weights):
        a = kaplan_meier(time, event, weights=w)
        b = kaplan_meier(time[perm], event[perm], weights=None if w is None else w[perm])
        for name in ("time", "n_risk", "n_event", "survival", "std_err", "lower", "upper"):
            np.testing.assert_allclose(
                getattr(b, name), getattr(a, name), rtol=1e-12, atol=0, equal_nan=True, err_msg=name
            )
        if w is None:  # unweighted sums are integers: bitwise equal
            assert np.array_equal(a.survival, b.survival)


@PROPERTY
@given(survival_data(), st.sampled_from([0.5, 2.0, 7.0, 30.4375]))
def test_scaling_time_only_rescales_the_time_axis(
    data: tuple[np.ndarray, ...], scale: float
) -> None:
    time, event = data
    a = kaplan_meier(time, event)
    b = kaplan_meier(time * scale, event)
    np.testing.assert_array_equal(b.time, a.time * scale)
    for name in ("n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
    qa, qb = a.quantile([0.25, 0.5, 0.75]), b.quantile([0.25, 0.5, 0.75])
    for name in ("estimate", "lower", "upper"):
        np.testing.assert_array_equal(getattr(qb, name), getattr(qa, name) * scale)


def test_risk_table_counts_rows_still_followed() -> None:
    time = [1, 2, 2, 3, 5, 8]
    event = [1, 0, 1, 1, 0, 1]
    table = kaplan_meier(time, event).risk_table([0, 2, 4, 8, 10])
    assert table.time.tolist() == [0, 2, 4, 8, 10]
    assert table.n_risk.tolist() == [6, 5, 2, 1, 0]
    assert table.cum_event.tolist() == [0, 2, 3, 4, 4]
    assert table.cum_censor.tolist() == [0, 1, 1, 2, 2]
    frame = table.to_frame()
    assert list(frame.columns) == ["time", "n_risk", "cum_event", "cum_censor"]


def test_results_render_as_text_and_html() -> None:
    fit = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 1])
    assert "survival" in str(fit) and "<table" in fit._repr_html_()
    assert "prob" in fit.quantile([0.5]).to_frame().columns
    assert fit.at([2]).to_frame()["survival"].tolist() == [0.5]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"conf_type": "logit"}, "conf_type"),
        ({"conf_level": 1.0}, "conf_level"),
        ({"weights": [1, 1, np.nan], "nan_policy": "raise"}, "weights: row 2"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SurvivalInputError, match=message):
        kaplan_meier([1, 2, 3], [1, 0, 1], **kwargs)


def test_bad_quantile_probability_is_refused() -> None:
    with pytest.raises(SurvivalInputError, match="probs"):
        kaplan_meier([1, 2, 3], [1, 0, 1]).quantile([1.5])


def test_negative_zero_is_the_same_time_as_zero() -> None:
    fit = kaplan_meier(np.array([-0.0, 0.0, 1.0, 1.0]), [1, 1, 0, 1])
    assert fit.time.tolist() == [0.0, 1.0]
    assert fit.n_event.tolist() == [2.0, 1.0] and fit.n_risk.tolist() == [4.0, 2.0]
