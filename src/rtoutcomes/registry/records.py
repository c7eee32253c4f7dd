"""Validated registry rows and the problems found in them: what ``validation`` produces and
the cross-row ``rules`` check (a module of its own, so the two do not import each other)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rtoutcomes.io.problems import Problem
from rtoutcomes.registry.cells import shown
from rtoutcomes.registry.spec import TABLE_BY_NAME


@dataclass
class Record:
    """A validated row: its spreadsheet row number, typed values (``None`` = missing) and the
    columns whose cell was invalid (already reported; rules skip them)."""

    row: int
    values: dict[str, object]
    invalid: set[str] = field(default_factory=set)
    source: str | None = None  # where the row came from, when not its table's source

    def get(self, column: str) -> object:
        return self.values.get(column)

    def __reduce__(self) -> tuple[type[Record], tuple[object, ...]]:
        # pickled as the constructor's arguments: a forked process sends tens of thousands
        # (validation.validate_files)
        if not self.invalid and self.source is None:
            return Record, (self.row, self.values)
        return Record, (self.row, self.values, self.invalid, self.source)

    def filled(self, column: str) -> bool:
        """The cell holds something (a valid value or an invalid one already reported)."""
        return self.values.get(column) is not None or column in self.invalid


@dataclass
class ValidatedRegistry:
    """Typed rows of every known table (parents first) and every problem found."""

    tables: dict[str, list[Record]]
    sources: dict[str, str]
    problems: list[Problem]
    missing_tables: set[str] = field(default_factory=set)
    elsewhere: frozenset[str] = frozenset()  # tables with rows beyond ``tables`` (a part)
    # per table read from files, its rows as tuples in ``spec.column_names`` order
    rows: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)
    # while ``rules.check_rules`` runs: each table's records by primary key, made once
    indexes: dict[str, dict[object, Record]] | None = field(default=None, repr=False, compare=False)

    def report(
        self, table: str, record: Record | None, column: str | None, rule: str, value: object = None
    ) -> None:
        """Add a problem located at ``record`` of ``table`` (helper for ``rules.py``)."""
        key = None if record is None else record.values.get(TABLE_BY_NAME[table].primary_key)
        self.problems.append(
            Problem(
                (record and record.source) or self.sources[table],
                None if record is None else record.row,
                column,
                None if value is None else shown(value),
                rule,
                None if key is None else str(key),
            )
        )
