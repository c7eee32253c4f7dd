"""The table every renderer (HTML, Word, Excel, CSV) draws: title, header, rows, notes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """A body row; a ``heading`` row is a section label spanning the table (e.g. "Sex")."""

    cells: tuple[str, ...]
    heading: bool = False


@dataclass
class Table:
    """A journal table. ``key`` names its CSV file and Excel sheet (``table3_univariate``);
    a ``supplement`` table goes after the main ones, numbered S1, S2... in the manuscript."""

    key: str
    title: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    supplement: bool = False

    def add(self, *cells: object) -> None:
        self.rows.append(Row(tuple("" if c is None else str(c) for c in cells)))

    def section(self, label: str) -> None:
        self.rows.append(Row((label,), heading=True))

    def grid(self) -> list[list[str]]:
        """Header and body as a rectangular grid of text (heading rows padded with blanks)."""
        width = len(self.columns)
        body = [list(r.cells) + [""] * (width - len(r.cells)) for r in self.rows]
        return [list(self.columns), *body]

    def as_dict(self) -> dict[str, object]:
        return {
            "title": self.title,
            "columns": self.columns,
            "rows": [list(r.cells) for r in self.rows],
            "notes": self.notes,
        }
