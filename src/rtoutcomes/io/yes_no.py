"""Yes/no values: the one vocabulary every part of rtoutcomes reads.

Yes: ``yes``, ``y``, ``true``; no: ``no``, ``n``, ``false`` (any case, spaces around ignored),
and real booleans (Python, NumPy, pandas, Excel). Missing: ``None``, NaN/NA, an empty cell,
``NA``, ``N/A``. Anything else, ``1`` and ``0`` included, is refused: a 1 in a yes/no column is as
likely a count or a code as a yes (docs/registry-format.md says the same to people filling in
a registry).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rtoutcomes.errors import RtOutcomesError

if TYPE_CHECKING:
    import pandas as pd

YES = frozenset({"yes", "y", "true"})
NO = frozenset({"no", "n", "false"})
MISSING_TEXT = frozenset({"", "na", "n/a"})
VOCABULARY = "yes or no (also y/n, true/false)"


class YesNoError(RtOutcomesError, ValueError):
    """A value that is neither yes, no nor missing."""


def parse_yes_no(value: Any, what: str = "value") -> bool | None:
    """``True``, ``False`` or ``None`` (missing) for one value; :class:`YesNoError` otherwise.

    >>> parse_yes_no(" Yes "), parse_yes_no("n"), parse_yes_no(""), parse_yes_no(False)
    (True, False, None, False)
    """
    if value is None:
        return None
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        return bool(value)  # Python, NumPy (pandas) booleans
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas.NA, pandas.NaT
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in YES:
            return True
        if text in NO:
            return False
        if text in MISSING_TEXT:
            return None
    raise YesNoError(f"{what}: {value!r} is not {VOCABULARY}")


def yes_no(series: pd.Series, what: str | None = None) -> pd.Series:
    """A yes/no column as ``True``/``False``/``None`` (object dtype, same index); the first
    value outside the vocabulary raises, naming the column and the row's index label."""
    name = what or str(series.name)
    out = []
    for label, value in series.items():
        out.append(parse_yes_no(value, f"{name}, row {label}"))
    import pandas as pd

    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def is_yes(series: pd.Series, what: str | None = None) -> pd.Series:
    """``True`` where the column says yes; no and missing are ``False`` (bool dtype)."""
    return yes_no(series, what).map(lambda v: v is True).astype(bool)
