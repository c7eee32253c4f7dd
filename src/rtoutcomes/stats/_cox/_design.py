"""Design matrices for Cox models: numeric columns and categorical terms with a reference level.

A categorical term with k levels becomes k - 1 indicator (dummy) columns, one per non-reference
level, named ``"term[level vs reference]"`` (e.g. ``"grade[G3 vs G1]"``); each coefficient is then
the log hazard ratio of that level against the reference, which is what a results table reports.
Missing values (``None``, NaN, empty string) give NaN in every dummy column, so the row is dropped
by the complete-case rule of :func:`rtoutcomes.stats._cox`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._validate import CoxInputError

FloatArray = NDArray[np.float64]


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return isinstance(value, str) and value.strip() == ""


@dataclass(frozen=True)
class Categorical:
    """A categorical covariate coded as indicator columns against a reference level."""

    name: str
    reference: str
    levels: tuple[str, ...]  # the non-reference levels, in column order
    matrix: FloatArray = field(repr=False)  # n x len(levels); NaN rows where the value is missing

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(f"{self.name}[{level} vs {self.reference}]" for level in self.levels)


def categorical(
    values: ArrayLike | Sequence[Any],
    *,
    reference: Any,
    name: str,
    levels: Sequence[Any] | None = None,
) -> Categorical:
    """Code ``values`` as dummies against ``reference``.

    ``levels`` fixes the order of the dummy columns (all levels, the reference included); by
    default the distinct non-missing values sorted as strings. Values are compared as strings, so
    ``1`` and ``"1"`` are the same level. A value outside ``levels`` is an error naming its row.
    """
    raw = list(np.asarray(values, dtype=object).reshape(-1))
    missing = np.array([_is_missing(v) for v in raw], dtype=bool)
    text = np.array(["" if m else str(v) for v, m in zip(raw, missing, strict=True)], dtype=object)
    present = sorted({str(v) for v, m in zip(text, missing, strict=True) if not m})
    all_levels = [str(v) for v in levels] if levels is not None else present
    if len(set(all_levels)) != len(all_levels):
        raise CoxInputError(f"{name}: levels {all_levels} contain duplicates")
    ref = str(reference)
    if ref not in all_levels:
        raise CoxInputError(f"{name}: reference level {ref!r} is not among the levels {all_levels}")
    known = set(all_levels)
    for row, (value, miss) in enumerate(zip(text, missing, strict=True)):
        if not miss and value not in known:
            raise CoxInputError(
                f"{name}: row {row} (0-based) has value {value!r}, which is not one of the "
                f"levels {all_levels}"
            )
    others = tuple(level for level in all_levels if level != ref)
    matrix = (
        np.column_stack([(text == level).astype(np.float64) for level in others])
        if others
        else np.empty((len(raw), 0))
    )
    matrix[missing, :] = np.nan
    return Categorical(name=name, reference=ref, levels=others, matrix=matrix)


@dataclass(frozen=True)
class Design:
    """A design matrix with column names and the term each column belongs to.

    ``terms`` maps a term name (a numeric covariate, or a categorical's name) to its column
    positions; :func:`rtoutcomes.stats.lr_test` uses it to check that two models are nested.
    """

    matrix: FloatArray = field(repr=False)
    names: tuple[str, ...]
    terms: Mapping[str, tuple[int, ...]]


def design_matrix(columns: Mapping[str, ArrayLike | Categorical]) -> Design:
    """Assemble covariates in order: a numeric array is one column, a categorical its dummies.

    Example: ``design_matrix({"age": age, "grade": categorical(grade, reference="G1",
    name="grade")})``. Numeric columns must be numbers (NaN marks a missing value).
    """
    blocks: list[FloatArray] = []
    names: list[str] = []
    terms: dict[str, tuple[int, ...]] = {}
    n: int | None = None
    for term, column in columns.items():
        if isinstance(column, Categorical):
            block, block_names = column.matrix, list(column.column_names)
        else:
            try:
                block = np.asarray(column, dtype=np.float64).reshape(-1, 1)
            except (TypeError, ValueError) as exc:
                raise CoxInputError(f"{term}: expected numbers ({exc})") from None
            block_names = [term]
        if n is not None and block.shape[0] != n:
            raise CoxInputError(f"{term}: has {block.shape[0]} rows, earlier columns have {n}")
        n = block.shape[0]
        terms[term] = tuple(range(len(names), len(names) + len(block_names)))
        blocks.append(block)
        names.extend(block_names)
    if n is None:
        raise CoxInputError("design_matrix: no columns given")
    return Design(matrix=np.hstack(blocks), names=tuple(names), terms=terms)
