"""Input checks shared by every estimator in ``rtoutcomes.stats``.

Each check returns a clean 1-D numpy array or raises ``SurvivalInputError`` naming the argument,
the first offending row (0-based position in the input), its value and the rule it breaks.
Checks are vectorised: they cost a few passes over the data, never a Python loop over rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.errors import RtOutcomesError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


class SurvivalInputError(RtOutcomesError, ValueError):
    """Survival data that cannot be analysed (NaN time, negative time, event not 0/1, ...)."""


class CoxInputError(SurvivalInputError):
    """Data a Cox model cannot be fitted to (negative time, event not 0/1, bad weights...)."""


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value (labels of an object array already are)."""
    return value.item() if isinstance(value, np.generic) else value


def fail_rows(
    name: str,
    bad: BoolArray,
    values: NDArray[Any],
    rule: str,
    error: type[SurvivalInputError] = SurvivalInputError,
) -> None:
    """Raise ``error`` naming the first row where ``bad`` holds, its value and the rule."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = values[row]
        shown = plain(value)
        raise error(
            f"{name}: row {row} (0-based) has value {shown!r}; {rule} "
            f"({int(bad.sum())} row(s) break this rule)"
        )


def as_vector(values: ArrayLike, name: str) -> NDArray[Any]:
    """``values`` as a 1-D array (a scalar or a 2-D input is an error)."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise SurvivalInputError(f"{name}: expected a 1-D sequence, got shape {array.shape}")
    return array


def as_float(values: ArrayLike, name: str) -> FloatArray:
    """``values`` as finite float64 numbers."""
    array = as_vector(values, name)
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == object
    ):
        raise SurvivalInputError(f"{name}: expected numbers, got dtype {array.dtype}")
    try:
        out = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise SurvivalInputError(f"{name}: expected numbers ({exc})") from None
    fail_rows(name, ~np.isfinite(out), array, "values must be finite numbers (no NaN or inf)")
    return out


def as_times(time: ArrayLike, name: str = "time") -> FloatArray:
    """Follow-up times: finite and >= 0, in any unit (days, months...)."""
    out = as_float(time, name)
    fail_rows(name, out < 0, out, "times must be >= 0")
    return out


def as_events(event: ArrayLike, n: int, name: str = "event") -> BoolArray:
    """Event indicators: 1/True = event, 0/False = censored; nothing else is accepted."""
    array = as_vector(event, name)
    _same_length(name, array, n)
    if array.dtype == np.bool_:
        return array
    numeric = as_float(array, name)
    fail_rows(name, (numeric != 0) & (numeric != 1), array, "events must be 0 (censored) or 1")
    return numeric == 1


def as_weights(weights: ArrayLike | None, n: int, name: str = "weights") -> FloatArray | None:
    """Case weights (finite, >= 0) or ``None`` for unweighted data."""
    if weights is None:
        return None
    out = as_float(weights, name)
    _same_length(name, out, n)
    fail_rows(name, out < 0, out, "weights must be >= 0")
    return out


def as_labels(labels: ArrayLike, n: int, name: str) -> tuple[IntArray, NDArray[Any]]:
    """Group or stratum labels as (codes 0..k-1, sorted distinct levels); no missing labels."""
    array = as_vector(labels, name)
    _same_length(name, array, n)
    if array.dtype == object:
        missing = np.array(
            [v is None or (isinstance(v, float) and v != v) for v in array], dtype=bool
        )
        fail_rows(name, missing, array, "labels must not be missing")
    elif np.issubdtype(array.dtype, np.floating):
        fail_rows(name, np.isnan(array), array, "labels must not be missing")
    if (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_) and array.shape[0]:
        small = array.astype(np.int64, copy=False)
        low = int(small.min())
        if int(small.max()) - low < 1_000_000:  # a lookup table beats sorting 1e7 labels
            offset = small - low if low else small
            present = np.bincount(offset) > 0
            levels = (np.flatnonzero(present) + low).astype(array.dtype)
            if present.all():  # labels are already low, low + 1, ...: no lookup needed
                return offset.astype(np.intp, copy=False), levels
            lookup = np.cumsum(present) - 1
            return lookup[offset].astype(np.intp, copy=False), levels
    try:
        levels = np.unique(array)
    except TypeError as exc:
        raise SurvivalInputError(f"{name}: labels cannot be ordered ({exc})") from None
    return np.searchsorted(levels, array).astype(np.intp), levels


def _same_length(name: str, array: NDArray[Any], n: int) -> None:
    if array.shape[0] != n:
        raise SurvivalInputError(f"{name}: has {array.shape[0]} rows but time has {n}")


def survival_data(
    time: ArrayLike, event: ArrayLike, weights: ArrayLike | None = None
) -> tuple[FloatArray, BoolArray, FloatArray | None]:
    """The common triple (time, event, weights), checked together; at least one row."""
    t = as_times(time)
    if t.shape[0] == 0:
        raise SurvivalInputError("time: no rows to analyse")
    return t, as_events(event, t.shape[0]), as_weights(weights, t.shape[0])


NAN_POLICIES = ("omit", "raise")


def missing_values(array: NDArray[Any]) -> BoolArray:
    """Missing values of a 1-D array: NaN, None, pandas' NA/NaT."""
    if np.issubdtype(array.dtype, np.floating):
        return np.isnan(array)
    if array.dtype.kind == "M":
        return np.isnat(array)
    if array.dtype == object:
        return np.array(
            [
                v is None
                or (isinstance(v, float) and v != v)
                or type(v).__name__ in ("NAType", "NaTType")
                for v in array.tolist()
            ],
            dtype=bool,
        )
    return np.zeros(array.shape[0], dtype=bool)


def check_nan_policy(nan_policy: str) -> str:
    if nan_policy not in NAN_POLICIES:
        raise SurvivalInputError(
            f"nan_policy: expected 'omit' (drop rows with a missing value and count them) or "
            f"'raise', got {nan_policy!r}"
        )
    return nan_policy


def omit_missing(nan_policy: str, **arrays: ArrayLike | None) -> tuple[dict[str, Any], int]:
    """Drop the rows with a missing value in any of ``arrays`` (``nan_policy="omit"``, R's
    ``na.omit``); return the arrays (None stays None) and how many rows were dropped.

    With ``"raise"`` nothing is dropped and the checks downstream name the first missing
    value. Arrays of different lengths or shapes are passed through for those checks to refuse.
    """
    check_nan_policy(nan_policy)
    if nan_policy == "raise":
        return dict(arrays), 0
    given = {k: np.asarray(v) for k, v in arrays.items() if v is not None}
    if any(a.ndim != 1 for a in given.values()) or len({a.shape[0] for a in given.values()}) > 1:
        return dict(arrays), 0
    missing = np.zeros(next(iter(given.values())).shape[0] if given else 0, dtype=bool)
    for a in given.values():
        missing |= missing_values(a)
    if not missing.any():
        return dict(arrays), 0
    keep = ~missing
    out = {k: (None if v is None else given[k][keep]) for k, v in arrays.items()}
    return out, int(missing.sum())


def refuse_dropped(
    nan_policy: str, keep: BoolArray, error: type[SurvivalInputError] = SurvivalInputError
) -> None:
    """With ``nan_policy="raise"``, a row with a missing value is an error naming it."""
    check_nan_policy(nan_policy)
    if nan_policy == "raise":
        fail_rows(
            "data",
            ~keep,
            np.arange(keep.shape[0]),
            "has a missing value (NaN or None) in some input; nan_policy='raise' refuses it "
            "(the value shown is the row index)",
            error,
        )
