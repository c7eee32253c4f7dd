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


def _fail(
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
        shown = value.item() if isinstance(value, np.generic) else value
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
    _fail(name, ~np.isfinite(out), array, "values must be finite numbers (no NaN or inf)")
    return out


def as_times(time: ArrayLike, name: str = "time") -> FloatArray:
    """Follow-up times: finite and >= 0, in any unit (days, months...)."""
    out = as_float(time, name)
    _fail(name, out < 0, out, "times must be >= 0")
    return out


def as_events(event: ArrayLike, n: int, name: str = "event") -> BoolArray:
    """Event indicators: 1/True = event, 0/False = censored; nothing else is accepted."""
    array = as_vector(event, name)
    _same_length(name, array, n)
    if array.dtype == np.bool_:
        return array
    numeric = as_float(array, name)
    _fail(name, (numeric != 0) & (numeric != 1), array, "events must be 0 (censored) or 1")
    return numeric == 1


def as_weights(weights: ArrayLike | None, n: int, name: str = "weights") -> FloatArray | None:
    """Case weights (finite, >= 0) or ``None`` for unweighted data."""
    if weights is None:
        return None
    out = as_float(weights, name)
    _same_length(name, out, n)
    _fail(name, out < 0, out, "weights must be >= 0")
    return out


def as_labels(labels: ArrayLike, n: int, name: str) -> tuple[IntArray, NDArray[Any]]:
    """Group or stratum labels as (codes 0..k-1, sorted distinct levels); no missing labels."""
    array = as_vector(labels, name)
    _same_length(name, array, n)
    if array.dtype == object:
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in array],
                           dtype=bool)
        _fail(name, missing, array, "labels must not be missing")
    elif np.issubdtype(array.dtype, np.floating):
        _fail(name, np.isnan(array), array, "labels must not be missing")
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
