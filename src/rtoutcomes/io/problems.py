"""A problem found in input data, located the way a spreadsheet user finds it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``source``: the file (``patients.csv``), the sheet (``registry.xlsx, sheet patients``) or the
    database table; ``row``: the row number as a spreadsheet shows it (header = row 1; ``None``
    for a problem of the whole file or column); ``column``: the column name (``None`` for a whole
    row or file); ``value``: the offending cell as written (``None`` when it does not apply);
    ``rule``: the rule broken, in words, with a hint to fix it when there is one; ``key``: the
    row's primary key (``A0056``) when it has one, so that a row is found by key as well.
    """

    source: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    key: str | None = None

    def __str__(self) -> str:
        where = [self.source]
        if self.key is not None:
            where.append(self.key)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        shown = "" if self.value is None else f" value {self.value!r}:"
        return f"{', '.join(where)}:{shown} {self.rule}"
