"""Invariances of the Cox fit (hypothesis, derandomised so every run checks the same cases)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rtoutcomes.stats import CoxResult, cox

CASES = settings(derandomize=True, max_examples=40, deadline=None)


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, Any]:
    """Small data with many tied times (1..8), a continuous and a 3-level covariate."""
    n = draw(st.integers(min_value=12, max_value=50))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n).round(2), rng.integers(0, 3, n)])
    time = rng.integers(1, 9, n).astype(float)
    event = (rng.random(n) < 0.7).astype(float)
    event[:3] = 1.0  # enough events in both x2 groups to keep the likelihood bounded
    x[:3, 1] = [0, 1, 2]
    x[3:6, 1] = [0, 1, 2]
    event[3:6] = 0.0
    time[3:6] = 9.0  # censored after every event: each level stays in every risk set
    ties = draw(st.sampled_from(["efron", "breslow"]))
    strata = rng.integers(0, 2, n) if draw(st.booleans()) else None
    return {"X": x, "time": time, "event": event, "ties": ties, "strata": strata}


def same_fit(a: CoxResult, b: CoxResult) -> None:
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-8)
    np.testing.assert_allclose([a.loglik_null, a.loglik], [b.loglik_null, b.loglik], rtol=1e-10)
    np.testing.assert_allclose(a.score_test.statistic, b.score_test.statistic, rtol=1e-8)
    np.testing.assert_allclose(a.concordance.concordance, b.concordance.concordance, rtol=1e-12)
    np.testing.assert_allclose(a.concordance.std, b.concordance.std, rtol=1e-8)


@CASES
@given(datasets(), st.integers(min_value=0, max_value=2**31 - 1))
def test_row_order_does_not_matter(data: dict[str, Any], seed: int) -> None:
    perm = np.random.default_rng(seed).permutation(len(data["time"]))
    shuffled = {k: (v[perm] if isinstance(v, np.ndarray) else v) for k, v in data.items()}
    same_fit(cox(**data), cox(**shuffled))


@CASES
@given(datasets(), st.sampled_from([1 / 30.4375, 7.0, 365.25, 1e-3]))
def test_time_unit_does_not_matter(data: dict[str, Any], factor: float) -> None:
    same_fit(cox(**data), cox(**{**data, "time": data["time"] * factor}))


@CASES
@given(datasets(), st.floats(min_value=-1e3, max_value=1e3, allow_nan=False))
def test_shifting_a_covariate_changes_no_hazard_ratio(data: dict[str, Any], shift: float) -> None:
    moved = data["X"].copy()
    moved[:, 0] += shift
    same_fit(cox(**data), cox(**{**data, "X": moved}))
