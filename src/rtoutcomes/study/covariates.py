"""Turn covariate definitions into levels (for KM groups) and design columns (for Cox).

Categorical and binary covariates become 0/1 indicator columns, one per non-reference level;
continuous ones enter as value / ``per``. Missing values stay missing: each model drops its
incomplete rows itself (complete-case, as R's default) and reports how many.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rtoutcomes.study.errors import AnalysisTableError, sheet_row
from rtoutcomes.study.schema import level_code
from rtoutcomes.study.spec import Covariate

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class Term:
    """One design column: the covariate it belongs to and its label ("G1 vs G2-G3")."""

    covariate: str
    label: str


@dataclass(frozen=True)
class Design:
    """Model matrix of complete rows, with the rows it kept (boolean mask over the table)."""

    x: np.ndarray
    terms: tuple[Term, ...]
    complete: np.ndarray


def _require_column(table: pd.DataFrame, column: str, what: str) -> None:
    if column not in table.columns:
        raise AnalysisTableError(
            f"{what}: column '{column}' is not in the analysis table "
            f"(columns: {', '.join(map(str, table.columns))})"
        )


def numeric_column(table: pd.DataFrame, column: str, what: str) -> pd.Series:
    """A numeric column; a non-numeric value is an error naming the row and the value."""
    import pandas as pd

    _require_column(table, column, what)
    raw = table[column]
    values = pd.to_numeric(raw, errors="coerce")
    # only values that failed to parse can be text that is not a number (blank text is missing)
    suspect = (values.isna() & raw.notna()).to_numpy().nonzero()[0]
    bad = [i for i in suspect if str(raw.iloc[i]).strip() != ""]
    if bad:
        row = int(bad[0])
        raise AnalysisTableError(
            f"{what}: column '{column}', row {sheet_row(row)}: value {raw.iloc[row]!r} is not "
            "a number"
        )
    return values.astype(float)


def _distinct_codes(raw: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's distinct value (-1 where missing) and each distinct value's text code
    (``1``, ``1.0`` -> ``"1"``; ``""`` for empty text). pandas' hash factorisation: a million
    rows cost one pass and a handful of code conversions."""
    import pandas as pd

    rows, distinct = pd.factorize(raw, use_na_sentinel=True)
    return rows, [level_code(str(value).strip()) for value in distinct]


def _missing_where_empty(rows: np.ndarray, text: list[str]) -> tuple[np.ndarray, list[str]]:
    """Rows whose code is empty text become missing (-1); the codes are renumbered."""
    import numpy as np

    kept = [code for code in text if code != ""]
    if len(kept) == len(text):
        return rows, text
    renumber = np.full(len(text) + 1, -1, dtype=np.intp)  # the last entry: missing stays -1
    renumber[[i for i, code in enumerate(text) if code != ""]] = np.arange(len(kept))
    return renumber[rows], kept


def _labelled(rows: np.ndarray, labels: list[str] | tuple[str, ...], index: pd.Index) -> pd.Series:
    """Each row's label as an object Series, NaN where ``rows`` is -1."""
    import numpy as np
    import pandas as pd

    text = np.empty(len(labels) + 1, dtype=object)
    text[: len(labels)] = list(labels)
    text[-1] = np.nan
    return pd.Series(text[rows], index=index, dtype=object)


def codes_of(raw: pd.Series) -> pd.Series:
    """Each value as its text code (``1``, ``1.0`` -> ``"1"``); empty text and NaN -> NaN.

    Codes are worked out once per distinct value, so a million rows cost a handful of lookups.
    """
    rows, text = _missing_where_empty(*_distinct_codes(raw))
    return _labelled(rows, text, raw.index)


def _codes(table: pd.DataFrame, column: str, what: str) -> tuple[np.ndarray, list[str]]:
    _require_column(table, column, what)
    return _missing_where_empty(*_distinct_codes(table[column]))


@dataclass(frozen=True)
class Levels:
    """A categorical or binary covariate on a table: each row's level as its position in
    ``levels`` (-1 where missing) and the levels in display order."""

    codes: np.ndarray
    levels: tuple[str, ...]

    @property
    def present(self) -> np.ndarray:
        """Rows with a level."""
        present: np.ndarray = self.codes >= 0
        return present

    def labels(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The level of each row (of ``rows``, a mask) as text; rows must have a level."""
        import numpy as np

        codes = self.codes if rows is None else self.codes[rows]
        return np.array(list(self.levels) or [""], dtype=str)[codes]

    def sorted_codes(self, rows: np.ndarray) -> np.ndarray:
        """The level of each row of ``rows`` (a mask; rows must have a level) as its position
        among the levels sorted as text: numbered as the labels themselves would be, without
        sorting a million strings."""
        import numpy as np

        position = np.empty(len(self.levels), dtype=np.intp)
        position[sorted(range(len(self.levels)), key=self.levels.__getitem__)] = np.arange(
            len(self.levels)
        )
        codes: np.ndarray = position[self.codes[rows]]
        return codes

    def series(self, index: pd.Index) -> pd.Series:
        """Each row's level (object Series, NaN where missing)."""
        return _labelled(self.codes, self.levels, index)


def level_codes(covariate: Covariate, table: pd.DataFrame) -> Levels:
    """Level of each row and the levels in display order (see ``levels_of``)."""
    import numpy as np

    what = f"covariate '{covariate.name}'"
    if covariate.type == "continuous":
        raise AnalysisTableError(f"{what} is continuous: it has no levels to group by")
    if covariate.type == "binary":
        values = numeric_column(table, covariate.column, what).to_numpy(dtype=float)
        cut = float(covariate.cut if covariate.cut is not None else 0.0)
        upper = ~(values <= cut) if covariate.cut_in == "lower" else ~(values < cut)
        codes = np.where(np.isnan(values), -1, upper.astype(np.intp))
        return Levels(codes.astype(np.intp, copy=False), tuple(covariate.labels))
    rows, text = _codes(table, covariate.column, what)
    if not covariate.recode:
        present = sorted(set(text), key=level_sort_key)
        position = {code: i for i, code in enumerate(present)}
        order = np.array([position[code] for code in text] + [-1], dtype=np.intp)
        return Levels(order[rows], tuple(present))
    levels = tuple(covariate.levels)
    position = {level: i for i, level in enumerate(levels)}
    lookup = {code: position[level] for level, values in covariate.recode for code in values}
    unknown = [i for i, code in enumerate(text) if code not in lookup]
    if unknown:
        row = int(np.flatnonzero(np.isin(rows, unknown))[0])
        raise AnalysisTableError(
            f"{what}: column '{covariate.column}', row {sheet_row(row)}: value "
            f"'{text[rows[row]]}' is in "
            f"no level of the recode ({', '.join(sorted(lookup, key=level_sort_key))})"
        )
    order = np.array([lookup[code] for code in text] + [-1], dtype=np.intp)
    return Levels(order[rows], levels)


def levels_of(covariate: Covariate, table: pd.DataFrame) -> tuple[pd.Series, tuple[str, ...]]:
    """Level of each row (missing as NaN) and the levels in display order."""
    found = level_codes(covariate, table)
    return found.series(table.index), found.levels


def reference_of(covariate: Covariate, levels: tuple[str, ...]) -> str:
    """The reference level: the study file's, else the first level."""
    if covariate.reference is not None:
        if covariate.reference not in levels:
            raise AnalysisTableError(
                f"covariate '{covariate.name}': reference '{covariate.reference}' does not occur "
                f"in column '{covariate.column}' (levels: {', '.join(levels)})"
            )
        return covariate.reference
    return levels[0]


def level_sort_key(code: str) -> tuple[int, float, str]:
    try:
        return (0, float(code), code)
    except ValueError:
        return (1, 0.0, code)


def design(
    table: pd.DataFrame,
    covariates: list[Covariate],
    fixed: Mapping[str, tuple[tuple[str, ...], str]] | None = None,
    drop: Mapping[str, frozenset[str]] | None = None,
) -> Design:
    """Indicator/continuous columns for ``covariates`` over the complete rows of ``table``.

    ``fixed`` (a federated analysis, where each centre sees only its rows): per categorical
    or binary covariate, the levels that get a column and the reference, as the pooled table
    gives them, instead of those of ``table``; ``drop``: levels whose rows count as missing
    (a centre's suppressed small cells).
    """
    import numpy as np

    columns: list[np.ndarray] = []
    terms: list[Term] = []
    complete = np.ones(len(table), dtype=bool)
    for covariate in covariates:
        if covariate.type == "continuous":
            values = numeric_column(table, covariate.column, f"covariate '{covariate.name}'")
            array = values.to_numpy(dtype=float) / covariate.per
            complete &= ~np.isnan(array)
            columns.append(array)
            terms.append(Term(covariate.name, continuous_term(covariate)))
            continue
        found = level_codes(covariate, table)
        codes, levels = found.codes, found.levels
        if drop and covariate.name in drop:
            dropped = [i for i, level in enumerate(levels) if level in drop[covariate.name]]
            codes = np.where(np.isin(codes, dropped), -1, codes)
        counts = np.bincount(codes + 1, minlength=len(levels) + 1)[1:]  # rows per level
        if fixed is not None and covariate.name in fixed:
            with_column, reference = fixed[covariate.name]
        else:
            reference = reference_of(covariate, levels)
            # A level with no rows gives an all-zero column and no estimate: leave it out.
            with_column = tuple(
                level for i, level in enumerate(levels) if level != reference and counts[i] > 0
            )
        complete &= codes >= 0
        position = {level: i for i, level in enumerate(levels)}
        for level in with_column:
            columns.append((codes == position.get(level, -2)).astype(float))
            terms.append(Term(covariate.name, f"{level} vs {reference}"))
    x = np.column_stack(columns) if columns else np.empty((len(table), 0))
    return Design(x=x[complete], terms=tuple(terms), complete=complete)


def continuous_term(covariate: Covariate) -> str:
    """Label of a continuous covariate's term, e.g. "per 10 years" or "per 1 unit"."""
    unit = f" {covariate.unit}" if covariate.unit else ""
    return f"per {covariate.per:g}{unit}" if (unit or covariate.per != 1) else "per unit"
