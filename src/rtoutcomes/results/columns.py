"""A curve's list in the in-memory results, with its values kept beside it as a numpy array.

results.json holds every step of each Kaplan-Meier and incidence curve as lists (a million-row
table: million-element lists). ``study.summaries`` makes those lists from numpy arrays, and
the figures need arrays again: converting a list back costs ~15 ns a value and list, and a
figure with a confidence band reads five of them (time, estimate, n_censor, lower, upper).
A ``Column`` is that list, unchanged (``json`` writes it as a list: results.json's bytes are
the same), which also carries ``array``: the same values as a read-only array, None as NaN.
``report.step_curves`` reads the array when it is there and converts the list otherwise, so
results read back from results.json (plain lists) draw the same figures, converting as before.

A ``Column`` is made once, from its array, and never changed afterwards (nothing in the results
is); the array is read-only, so no reader can change it either.
"""

from __future__ import annotations

from typing import Any


class Column(list[Any]):
    """A results list (``list(column)`` is what results.json holds) and ``array``, its values
    as a read-only numpy array (floats with None as NaN, or integer counts; ``nones``: the
    list has None where the array has NaN).

    Pickled (the results sent to the report process) as its array alone, the list made again
    from it on loading: a million floats pickle as 9 MB that ``pickle.loads`` turns back into
    float objects one by one (~0.35 CPU s for a million-row curve's eight lists), where
    ``ndarray.tolist`` makes the same list in a tenth of the time."""

    __slots__ = ("array", "nones")

    def __init__(self, values: list[Any], array: Any, nones: bool = False) -> None:
        super().__init__(values)
        self.array, self.nones = array, nones

    def __reduce__(self) -> tuple[Any, ...]:
        if len(self) != self.array.shape[0]:  # changed after it was made: the list alone
            return (list, (list(self),))
        return (_from_array, (self.array, self.nones))


def _from_array(array: Any, nones: bool) -> Column:
    """The ``Column`` pickled from ``array`` (``Column.__reduce__``)."""
    return Column(_listed(array, nones), _read_only(array), nones)


def floats(values: Any) -> Column:
    """Finite floats (times, estimates) as a ``Column``: the list ``[float(v) for v in
    values]``."""
    import numpy as np

    array = _read_only(np.array(values, dtype=float))
    return Column(array.tolist(), array)


def optional_floats(values: Any) -> Column:
    """Floats that may not exist (limits, standard errors): the list with ``None`` for each
    NaN or infinite value, as results.json has them; the array with NaN there."""
    import numpy as np

    array = np.array(values, dtype=float)
    missing = ~np.isfinite(array)
    array[missing] = np.nan
    return Column(_listed(array, True), _read_only(array), nones=True)


def counts(values: Any) -> list[int]:
    """Whole counts (numbers at risk, events, censored) as a ``Column``: the list
    ``[int(v) for v in values]``, the array of the same integers."""
    import numpy as np

    array = np.asarray(values)
    if not (np.issubdtype(array.dtype, np.integer) or np.isfinite(array).all()):
        return [int(v) for v in values]  # int() refuses NaN, as it did
    ints = _read_only(array.astype(np.int64))  # int() and astype both truncate toward 0
    return Column(ints.tolist(), ints)


def _listed(array: Any, nones: bool) -> list[Any]:
    """``array`` as a list of floats, with None where it has NaN if ``nones``."""
    import numpy as np

    listed = array.tolist()
    if nones:
        for i in np.flatnonzero(np.isnan(array)).tolist():
            listed[i] = None
    return listed


def _read_only(array: Any) -> Any:
    array.flags.writeable = False
    return array
