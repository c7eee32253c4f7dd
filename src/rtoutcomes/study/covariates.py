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
from rtoutcomes.study.schema import _code
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


def codes_of(raw: pd.Series) -> pd.Series:
    """Each value as its text code (``1``, ``1.0`` -> ``"1"``); empty text and NaN -> NaN.

    Codes are worked out once per distinct value, so a million rows cost a handful of lookups.
    """
    distinct = raw.dropna().unique()
    lookup = {value: _code(str(value).strip()) for value in distinct}
    lookup = {value: code for value, code in lookup.items() if code != ""}
    return raw.map(lookup)


def _codes(table: pd.DataFrame, column: str, what: str) -> pd.Series:
    _require_column(table, column, what)
    return codes_of(table[column])


def levels_of(covariate: Covariate, table: pd.DataFrame) -> tuple[pd.Series, tuple[str, ...]]:
    """Level of each row (missing as NaN) and the levels in display order."""
    what = f"covariate '{covariate.name}'"
    if covariate.type == "continuous":
        raise AnalysisTableError(f"{what} is continuous: it has no levels to group by")
    if covariate.type == "binary":
        values = numeric_column(table, covariate.column, what)
        cut = float(covariate.cut if covariate.cut is not None else 0.0)
        lower = values <= cut if covariate.cut_in == "lower" else values < cut
        levels = values.where(
            values.isna(), lower.map({True: covariate.labels[0], False: covariate.labels[1]})
        )
        return levels, covariate.labels
    codes = _codes(table, covariate.column, what)
    if not covariate.recode:
        present = sorted(set(codes.dropna()), key=_sort_key)
        return codes, tuple(present)
    lookup = {code: level for level, values in covariate.recode for code in values}
    unknown = codes.notna() & ~codes.isin(list(lookup))
    if unknown.any():
        row = int(unknown.to_numpy().nonzero()[0][0])
        raise AnalysisTableError(
            f"{what}: column '{covariate.column}', row {sheet_row(row)}: value "
            f"'{codes.iloc[row]}' is in "
            f"no level of the recode ({', '.join(sorted(lookup, key=_sort_key))})"
        )
    return codes.map(lookup, na_action="ignore"), covariate.levels


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


def _sort_key(code: str) -> tuple[int, float, str]:
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
        level_series, levels = levels_of(covariate, table)
        if drop and covariate.name in drop:
            level_series = level_series.where(~level_series.isin(list(drop[covariate.name])))
        if fixed is not None and covariate.name in fixed:
            with_column, reference = fixed[covariate.name]
        else:
            reference = reference_of(covariate, levels)
            # A level with no rows gives an all-zero column and no estimate: leave it out.
            with_column = tuple(level for level in levels
                                if level != reference and (level_series == level).any())
        present = level_series.notna().to_numpy()
        complete &= present
        for level in with_column:
            columns.append((level_series == level).to_numpy(dtype=float))
            terms.append(Term(covariate.name, f"{level} vs {reference}"))
    x = np.column_stack(columns) if columns else np.empty((len(table), 0))
    return Design(x=x[complete], terms=tuple(terms), complete=complete)


def continuous_term(covariate: Covariate) -> str:
    """Label of a continuous covariate's term, e.g. "per 10 years" or "per 1 unit"."""
    unit = f" {covariate.unit}" if covariate.unit else ""
    return f"per {covariate.per:g}{unit}" if (unit or covariate.per != 1) else "per unit"
