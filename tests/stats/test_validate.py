"""Input checks shared by the survival estimators: clean arrays out, clear errors for bad rows."""

from __future__ import annotations

import numpy as np
import pytest

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.stats._validate import (
    SurvivalInputError,
    as_labels,
    as_weights,
    survival_data,
)


def test_clean_input_passes_through() -> None:
    t, e, w = survival_data([1, 2.5, 0], [1, 0, True], None)
    assert t.dtype == np.float64 and t.tolist() == [1.0, 2.5, 0.0]
    assert e.dtype == np.bool_ and e.tolist() == [True, False, True]
    assert w is None


@pytest.mark.parametrize(
    ("time", "event", "weights", "message"),
    [
        ([1, np.nan, 3], [1, 1, 1], None, "time: row 1 (0-based) has value nan"),
        ([1, 2, -3], [1, 1, 1], None, "times must be >= 0"),
        ([1, 2, np.inf], [1, 1, 1], None, "finite"),
        ([1, 2, 3], [1, 2, 0], None, "event: row 1 (0-based) has value 2"),
        ([1, 2, 3], [1, 0], None, "event: has 2 rows but time has 3"),
        ([1, 2, 3], [1, 0, 1], [1, -1, 1], "weights must be >= 0"),
        ([1, 2, 3], [1, 0, 1], [1, 1], "weights: has 2 rows"),
        (["a", "b"], [1, 0], None, "expected numbers"),
        ([], [], None, "no rows"),
        ([[1, 2]], [[1, 0]], None, "1-D"),
    ],
)
def test_bad_input_names_argument_row_and_rule(
    time: list[float], event: list[float], weights: list[float] | None, message: str
) -> None:
    with pytest.raises(SurvivalInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        survival_data(time, event, weights)


def test_error_is_both_rtoutcomes_error_and_value_error() -> None:
    assert issubclass(SurvivalInputError, RtOutcomesError)
    assert issubclass(SurvivalInputError, ValueError)


def test_labels_are_coded_in_sorted_order() -> None:
    codes, levels = as_labels(["b", "a", "b", "c"], 4, "group")
    assert codes.tolist() == [1, 0, 1, 2]
    assert levels.tolist() == ["a", "b", "c"]
    with pytest.raises(SurvivalInputError, match="group: row 1"):
        as_labels(np.array([1.0, np.nan]), 2, "group")
    with pytest.raises(SurvivalInputError, match="must not be missing"):
        as_labels(np.array(["a", None], dtype=object), 2, "group")


def test_zero_weights_allowed() -> None:
    w = as_weights([0, 1.5], 2)
    assert w is not None and w.tolist() == [0.0, 1.5]
