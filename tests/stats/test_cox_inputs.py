"""Cox inputs: complete cases, clear errors, categorical design columns, lr_test nesting."""

from __future__ import annotations

import numpy as np
import pytest
from cox_fixtures import load, numbers

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.stats import (
    CoxConvergenceWarning,
    CoxInputError,
    categorical,
    cox,
    design_matrix,
    lr_test,
)

LUNG = load("cox_lung")["data"]


def lung(columns: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.column_stack([numbers(LUNG[c]) for c in columns])
    return x, numbers(LUNG["time"]), numbers(LUNG["event"])


def test_rows_with_missing_values_are_dropped_and_counted() -> None:
    x, time, event = lung(["age", "ph_ecog", "wt_loss"])
    time[0] = np.nan
    model = cox(x, time, event, names=["age", "ph_ecog", "wt_loss"])
    missing = np.isnan(x).any(axis=1) | np.isnan(time)
    assert model.n_dropped == int(missing.sum()) > 1
    assert model.n == len(time) - model.n_dropped
    assert model.n_events == int(event[~missing].sum())


def test_dataframe_input_gives_the_same_fit_as_an_array() -> None:
    pd = pytest.importorskip("pandas")
    x, time, event = lung(["age", "sex"])
    frame = pd.DataFrame(x, columns=["age", "sex"])
    a = cox(frame, time, event)
    b = cox(x, time, event, names=["age", "sex"])
    assert a.names == ("age", "sex")
    np.testing.assert_array_equal(a.coef, b.coef)
    assert list(a.to_frame().index) == ["age", "sex"]
    assert "coef" in a._repr_html_()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time": -1.0}, r"time: row 4 \(0-based\) has value -1.0; times must be >= 0"),
        ({"event": 2.0}, r"event: row 4 \(0-based\) has value 2.0; events must be 0"),
        ({"weights": 0.0}, r"weights: row 4 \(0-based\) has value 0.0; weights must be > 0"),
    ],
)
def test_bad_values_name_argument_row_and_rule(change: dict[str, float], message: str) -> None:
    x, time, event = lung(["age"])
    args = {"time": time, "event": event, "weights": np.ones(len(time))}
    for key, value in change.items():
        args[key] = args[key].copy()
        args[key][4] = value
    with pytest.raises(CoxInputError, match=message) as info:
        cox(x, args["time"], args["event"], weights=args["weights"])
    assert isinstance(info.value, RtOutcomesError)


def test_mismatched_lengths_and_bad_ties_are_errors() -> None:
    x, time, event = lung(["age"])
    with pytest.raises(CoxInputError, match="time: has 227 rows but X has 228"):
        cox(x, time[:-1], event)
    with pytest.raises(CoxInputError, match="ties"):
        cox(x, time, event, ties="exact")  # type: ignore[arg-type]


def test_categorical_codes_levels_against_the_reference() -> None:
    grade = categorical(["G2", "G1", None, "G3", "G1"], reference="G1", name="grade")
    assert grade.column_names == ("grade[G2 vs G1]", "grade[G3 vs G1]")
    np.testing.assert_array_equal(grade.matrix, [[1, 0], [0, 0], [np.nan, np.nan], [0, 1], [0, 0]])
    design = design_matrix({"age": [60, 70, 65, 80, 55], "grade": grade})
    assert design.names == ("age", "grade[G2 vs G1]", "grade[G3 vs G1]")
    assert design.terms == {"age": (0,), "grade": (1, 2)}


def test_categorical_rejects_unknown_values_and_references() -> None:
    with pytest.raises(CoxInputError, match=r"grade: row 1 \(0-based\) has value 'G4'"):
        categorical(["G1", "G4"], reference="G1", name="grade", levels=["G1", "G2"])
    with pytest.raises(CoxInputError, match="reference level 'G9'"):
        categorical(["G1", "G2"], reference="G9", name="grade")


def test_lr_test_refuses_models_that_are_not_nested() -> None:
    x, time, event = lung(["age", "sex", "ph_ecog"])
    keep = ~np.isnan(x).any(axis=1)
    x, time, event = x[keep], time[keep], event[keep]
    small = cox(x[:, :2], time, event, names=["age", "sex"])
    other = cox(x[:, [0, 2]], time, event, names=["age", "ph_ecog"])
    with pytest.raises(CoxInputError, match=r"not nested: \['sex'\]"):
        lr_test(small, other)
    with pytest.raises(CoxInputError, match="different numbers of rows"):
        lr_test(cox(x[1:, :1], time[1:], event[1:], names=["age"]), small)
    with pytest.raises(CoxInputError, match="no more parameters"):
        lr_test(small, small)


def test_running_out_of_iterations_is_a_warning_not_a_result() -> None:
    x, time, event = lung(["age", "sex", "ph_karno"])
    with pytest.warns(CoxConvergenceWarning, match=r"Ran out of iterations \(2\)"):
        model = cox(x, time, event, iter_max=2)
    assert not model.converged and model.iterations == 2
    assert model.warnings == ("Ran out of iterations (2) and did not converge",)
    assert cox(x, time, event).converged


def test_a_model_without_events_is_an_error() -> None:
    x, time, event = lung(["age"])
    with pytest.raises(CoxInputError, match="no events among the 228 complete rows"):
        cox(x, time, np.zeros_like(event))
