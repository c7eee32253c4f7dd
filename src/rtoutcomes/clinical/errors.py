"""Errors of the clinical rules: each names where the bad value is and which rule it breaks."""

from __future__ import annotations

from typing import Any

from rtoutcomes.errors import RtOutcomesError


class ClinicalRuleError(RtOutcomesError):
    """A value that a clinical rule cannot accept (unknown CTCAE term, impossible grade...).

    The message names the table, the row (its id where there is one), the column, the value and
    the rule, so that a user can find and fix the record.
    """

    def __init__(
        self,
        rule: str,
        *,
        table: str | None = None,
        row: Any = None,
        column: str | None = None,
        value: Any = None,
        suggestion: str | None = None,
    ) -> None:
        self.rule = rule
        self.table = table
        self.row = row
        self.column = column
        self.value = value
        self.suggestion = suggestion
        where = []
        if table is not None:
            where.append(f"table {table}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        location = ", ".join(where)
        text = f"{location}: " if location else ""
        if value is not None:
            text += f"value {value!r}: "
        text += rule
        if suggestion:
            text += f" (did you mean {suggestion!r}?)"
        super().__init__(text)
