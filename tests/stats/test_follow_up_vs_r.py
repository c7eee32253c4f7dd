"""Median follow-up against R (fixture follow_up.json): reverse Kaplan-Meier median and limits
identical to quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5); observed median and range equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rtoutcomes.stats import SurvivalInputError, median_follow_up

Close = Callable[[Any, Any, float, str], float]
Ref = Callable[[str], dict[str, Any]]


def test_follow_up_matches_r(r_reference: Ref, assert_close: Close) -> None:
    cases = r_reference("follow_up")["cases"]
    assert len(cases) == 5
    for case in cases:
        fu = median_follow_up(case["data"]["time"], case["data"]["event"])
        label, ref = case["label"], case["reverse_km"]
        rkm = fu.reverse_km
        for name in ("estimate", "lower", "upper"):
            expected = np.nan if ref[name] is None else ref[name]
            assert_close(getattr(rkm, name), expected, 0.0, f"{label}: reverse KM {name}")
        for name in ("median", "min", "max"):
            assert_close(getattr(fu, f"observed_{name}"), case["observed"][name], 0.0, label)
            assert_close(getattr(fu, f"censored_{name}"), case["censored"][name], 0.0, label)


def test_follow_up_table_and_errors() -> None:
    fu = median_follow_up([1, 2, 3, 4, 5], [1, 0, 1, 0, 0])
    frame = fu.to_frame()
    assert frame.loc["observed, all", "median"] == 3
    assert frame.loc["observed, censored", "n"] == 3
    all_events = median_follow_up([1, 2], [1, 1])
    assert np.isnan(all_events.censored_median) and np.isnan(all_events.reverse_km.estimate)
    with pytest.raises(SurvivalInputError, match="event"):
        median_follow_up([1, 2], [1, 3])
