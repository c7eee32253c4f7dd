"""Checks and complete-case filtering of the inputs of a Cox model (R's default ``na.omit``).

A row with a missing value (NaN, or ``None`` in a label) in any covariate, the time, the event,
the weight, the stratum or the cluster is dropped and counted; any other bad value (negative
time, event not 0/1, weight <= 0, ...) is an error naming the argument, row and value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._cox._design import Design
from rtoutcomes.stats._validate import CoxInputError, fail_rows, refuse_dropped

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class CoxData:
    """Complete cases, in the caller's row order, ready for fitting."""

    x: FloatArray  # n x p
    names: tuple[str, ...]
    terms: dict[str, tuple[int, ...]]
    time: FloatArray  # the stop time of (start, stop] with counting-process data
    event: BoolArray
    weights: FloatArray | None
    strata: IntArray | None  # codes 0..s-1
    cluster: IntArray | None  # codes 0..c-1
    kept: BoolArray  # over the input rows: True where the row was used
    n_dropped: int
    start: FloatArray | None = None  # entry times of counting-process data, else None
    strata_levels: tuple[Any, ...] | None = None  # label of each stratum code


def _fail(name: str, bad: BoolArray, values: NDArray[Any], rule: str) -> None:
    fail_rows(name, bad, values, rule, CoxInputError)


def _all_finite(matrix: FloatArray) -> bool:
    """A quick screen: a NaN or inf anywhere makes the sum of all entries non-finite (the sum
    can also overflow to inf, so False only means "check element by element")."""
    if matrix.size == 0:
        return True
    return bool(np.isfinite(matrix.sum()))


def _numbers(values: ArrayLike, name: str, n: int | None) -> FloatArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise CoxInputError(f"{name}: expected a 1-D sequence, got shape {array.shape}")
    if n is not None and array.shape[0] != n:
        raise CoxInputError(f"{name}: has {array.shape[0]} rows but X has {n}")
    if array.dtype == np.bool_:
        return array.astype(np.float64)
    try:
        out = array.astype(np.float64, copy=False)  # the complete cases are copied later
    except (TypeError, ValueError) as exc:
        raise CoxInputError(f"{name}: expected numbers ({exc})") from None
    _fail(name, np.isinf(out), array, "values must be finite (NaN marks a missing value)")
    return out


def _labels(values: ArrayLike, name: str, n: int) -> tuple[NDArray[Any], BoolArray]:
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != n:
        raise CoxInputError(f"{name}: expected {n} labels, got shape {array.shape}")
    if array.dtype == object:
        missing = np.array(
            [v is None or (isinstance(v, float) and v != v) for v in array], dtype=bool
        )
    elif np.issubdtype(array.dtype, np.floating):
        missing = np.isnan(array)
    else:
        missing = np.zeros(n, dtype=bool)
    return array, missing


def _codes(array: NDArray[Any], name: str) -> tuple[IntArray, tuple[Any, ...]]:
    try:
        levels, codes = np.unique(array, return_inverse=True)
    except TypeError as exc:
        raise CoxInputError(f"{name}: labels cannot be ordered ({exc})") from None
    return codes.reshape(-1).astype(np.intp, copy=False), tuple(levels.tolist())


def covariates(
    X: Any, names: Sequence[str] | None
) -> tuple[FloatArray, tuple[str, ...], dict[str, tuple[int, ...]]]:
    """The covariate matrix, its column names and terms from an array, a DataFrame or a Design."""
    matrix, found, terms, _ = _covariates(X, names)
    return matrix, found, terms


def _covariates(
    X: Any, names: Sequence[str] | None
) -> tuple[FloatArray, tuple[str, ...], dict[str, tuple[int, ...]], bool]:
    """``covariates``, and whether every value is finite (no missing value to drop)."""
    terms: dict[str, tuple[int, ...]] | None = None
    if isinstance(X, Design):
        matrix, found = X.matrix, list(X.names)
        terms = dict(X.terms)
    elif hasattr(X, "columns") and hasattr(X, "to_numpy"):  # a pandas DataFrame, duck-typed
        found = [str(c) for c in X.columns]
        try:
            matrix = np.asarray(X.to_numpy(dtype=np.float64, na_value=np.nan))
        except (TypeError, ValueError) as exc:
            raise CoxInputError(
                f"X: every column must be numeric (use categorical() for labels): {exc}"
            ) from None
    else:
        try:
            matrix = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise CoxInputError(f"X: expected numbers ({exc})") from None
        if matrix.ndim == 1:
            matrix = matrix.reshape(-1, 1)
        found = [f"x{j + 1}" for j in range(matrix.shape[1] if matrix.ndim == 2 else 0)]
    if matrix.ndim != 2:
        raise CoxInputError(f"X: expected a 2-D matrix, got shape {matrix.shape}")
    if names is not None:
        found = [str(v) for v in names]
        if len(found) != matrix.shape[1]:
            raise CoxInputError(f"names: {len(found)} names for {matrix.shape[1]} columns of X")
    if len(set(found)) != len(found):
        raise CoxInputError(f"names: column names must be unique, got {found}")
    finite = _all_finite(matrix)
    if not finite:
        infinite = np.asarray(np.isinf(matrix).any(axis=1), dtype=bool)
        _fail(
            "X",
            infinite,
            np.arange(matrix.shape[0]),
            "covariates must be finite (NaN marks a missing value)",
        )
    if terms is None or names is not None:
        terms = {name: (j,) for j, name in enumerate(found)}
    return matrix, tuple(found), terms, finite


def prepare(
    X: Any,
    time: ArrayLike,
    event: ArrayLike,
    *,
    names: Sequence[str] | None,
    strata: ArrayLike | None,
    weights: ArrayLike | None,
    cluster: ArrayLike | None,
    nan_policy: str = "omit",
) -> CoxData:
    """Validate every input and keep the complete cases (``nan_policy="raise"``: refuse
    a row with a missing value instead). ``time`` is the follow-up, or a pair (start, stop) of
    counting-process intervals (start, stop]."""
    x, col_names, terms, x_finite = _covariates(X, names)
    n = x.shape[0]
    start = None
    if isinstance(time, tuple):
        if len(time) != 2:
            raise CoxInputError(
                f"time: expected follow-up times or a pair (start, stop), got "
                f"a tuple of {len(time)}"
            )
        start = _numbers(time[0], "start", n)
        time = time[1]
    t = _numbers(time, "time", n)
    e = _numbers(event, "event", n)
    keep = ~np.isnan(t) & ~np.isnan(e)
    if start is not None:
        keep &= ~np.isnan(start)
    if not x_finite:
        keep &= ~np.isnan(x).any(axis=1)
    w = None
    if weights is not None:
        w = _numbers(weights, "weights", n)
        keep &= ~np.isnan(w)
    label_arrays: dict[str, NDArray[Any]] = {}
    for name, values in (("strata", strata), ("cluster", cluster)):
        if values is not None:
            array, missing = _labels(values, name, n)
            label_arrays[name] = array
            keep &= ~missing
    refuse_dropped(nan_policy, keep, CoxInputError)
    if start is None:
        _fail("time", keep & (t < 0), t, "times must be >= 0")
    else:
        _fail(
            "time",
            keep & (t <= start),
            t,
            "the stop time must be after the start time of its (start, stop] interval",
        )
    _fail("event", keep & (e != 0) & (e != 1), e, "events must be 0 (censored) or 1 (event)")
    if w is not None:
        _fail("weights", keep & (w <= 0), w, "weights must be > 0")
    if not keep.any():
        raise CoxInputError("no complete rows to fit (every row has a missing value)")
    n_kept = int(keep.sum())
    codes = {name: _codes(array[keep], name) for name, array in label_arrays.items()}
    return CoxData(
        x=x if n_kept == n else x[keep],
        names=col_names,
        terms=terms,
        time=t[keep],
        event=e[keep] == 1,
        weights=None if w is None else w[keep],
        strata=codes["strata"][0] if "strata" in codes else None,
        cluster=codes["cluster"][0] if "cluster" in codes else None,
        kept=keep,
        n_dropped=n - n_kept,
        start=None if start is None else start[keep],
        strata_levels=codes["strata"][1] if "strata" in codes else None,
    )
