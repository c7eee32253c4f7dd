"""Covariate levels as integer codes (one hash factorisation per column) equal the rule applied
value by value: the text code of each value (``1``, ``1.0`` and `` 1 `` are ``"1"``, empty text
is missing), recoded or sorted, and the design columns and Table 1 counts built on them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rtoutcomes.study.covariates import design, level_codes, levels_of
from rtoutcomes.study.schema import level_code
from rtoutcomes.study.spec import Covariate

VALUES: list[Any] = ["1", "2", " 2 ", "", None, "1.0", "x", 3, 3.0, float("nan"), "G1"]


def by_value(covariate: Covariate, column: pd.Series) -> tuple[list[Any], tuple[str, ...]]:
    """Each row's level by the rule, one value at a time (None where missing)."""

    def code(value: Any) -> str | None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        return level_code(str(value).strip()) or None

    codes = [code(v) for v in column]
    if not covariate.recode:
        present = {c for c in codes if c is not None}
        return codes, tuple(
            sorted(present, key=lambda c: (0, float(c), c) if _is_number(c) else (1, 0.0, c))
        )
    lookup = {c: level for level, values in covariate.recode for c in values}
    return [None if c is None else lookup[c] for c in codes], covariate.levels


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("seed", range(6))
def test_level_codes_equal_the_rule_value_by_value(seed: int) -> None:
    rng = np.random.default_rng(seed)
    column = pd.Series([VALUES[i] for i in rng.integers(0, len(VALUES), 300)], dtype=object)
    table = pd.DataFrame({"g": column})
    plain = Covariate(name="g", column="g", type="categorical")
    expected, levels = by_value(plain, column)
    found = level_codes(plain, table)
    assert found.levels == levels
    assert [None if c < 0 else found.levels[c] for c in found.codes] == expected
    series, _ = levels_of(plain, table)
    assert [None if isinstance(v, float) else v for v in series] == expected
    # the design: one indicator per non-reference level present, rows with a level complete
    matrix = design(table, [plain])
    assert matrix.complete.tolist() == [v is not None for v in expected]
    for j, term in enumerate(matrix.terms):
        level = term.label.split(" vs ")[0]
        assert matrix.x[:, j].tolist() == [float(v == level) for v in expected if v is not None]
    recoded = Covariate(
        name="g",
        column="g",
        type="categorical",
        reference="low",
        recode=(("low", ("1", "2")), ("high", ("3", "x", "G1"))),
    )
    expected, levels = by_value(recoded, column)
    found = level_codes(recoded, table)
    assert found.levels == levels == ("low", "high")
    assert [None if c < 0 else found.levels[c] for c in found.codes] == expected
    # the log-rank groups: numbered as the sorted labels would be
    present = found.present
    labels = np.array([v for v in expected if v is not None])
    by_label = np.unique(labels, return_inverse=True)[1]
    assert found.sorted_codes(present).tolist() == by_label.tolist()
