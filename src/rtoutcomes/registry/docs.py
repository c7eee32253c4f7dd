"""The registry data format in Markdown, generated from the column specification.

``docs/registry-format.md`` and the README's "Registry data format" section are this text; a
test keeps them equal. Regenerate both after changing ``spec.py``::

    PYTHONPATH=src python -m rtoutcomes.registry.docs --write
"""

from __future__ import annotations

import sys
from pathlib import Path

from rtoutcomes.registry.spec import TABLES

INTRO = """\
One CSV file per table (`<table>.csv`, UTF-8 with or without BOM, `,` or `;` delimiter) or one
Excel workbook (`.xlsx`) with one sheet per table (sheet name = table name). Every table must be
there (a table with no rows still needs its header row) except those marked optional, which
rtoutcomes fills itself (`dosimetry-import`); other CSV files or sheets are refused
(files that are not `.csv` and sheets left empty are ignored).
Column names are exact; the **req** and "cond" columns must be present, *opt* columns may be left
out. The first row is the header; rows are numbered as a spreadsheet shows them (header = row 1).
Blank rows are skipped.

- Dates are ISO `YYYY-MM-DD`, between 1900 and 2100. Excel cells may be real dates; plain numbers
  in a date column of a workbook are converted explicitly with the workbook's 1900 or 1904 date
  system; a number in a date column of a CSV file is refused (it is probably an Excel serial: the
  message says which date it would be in each system).
- Numbers use a decimal point and no unit (the unit is in the column name: `_gy` Gy, `_cm` cm,
  `_mm` mm, `_cc` cm3, `_pct` %). Integer columns take whole numbers only.
- Yes/no columns take `yes`/`no` (also `y`/`n`, `true`/`false`, Excel booleans).
- Allowed values are matched ignoring case and stored as listed.
- Missing = an empty cell, `NA` or `N/A`. Codes for "unknown" (`999`, `9999`, `-9`, `-99`,
  `-999`, `.`, `-`, `?`; `99` and `-1` where out of range) are refused: leave the cell empty.
- A text cell exported with a leading apostrophe before `=`, `+`, `-` or `@` (a defence against
  spreadsheet formula injection) is read back without it.
- An import goes into an empty registry, all or nothing: every problem is listed with file or
  sheet, row, column, value and rule, and nothing is written unless there is none.

Legend: **req** = required (non-empty) in every row; *opt* = may be empty; "cond" = required under
the stated condition; FK = must name an existing row of that table."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _req(rule: str) -> str:
    if rule.startswith("req"):
        return "**req**" + rule[3:]
    if rule.startswith("opt"):
        return "*opt*" + rule[3:]
    return rule


def format_markdown(level: int) -> str:
    """The format's description with table headings at Markdown heading ``level``."""
    parts = [INTRO]
    for spec in TABLES:
        lines = [
            f"{'#' * level} {spec.name} ({spec.description}"
            f"{'; optional table' if spec.optional else ''})",
            "",
            "| column | type | rule |",
            "|---|---|---|",
        ]
        for col in spec.columns:
            lines.append(f"| {col.name} | {col.kind} | {_cell(_req(col.rule_text()))} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


DOC_TITLE = "# Registry data format (contract)\n\n"
README_HEADING = "## Registry data format"


def contract_document() -> str:
    """The full text of ``docs/registry-format.md``."""
    return (
        DOC_TITLE
        + "Generated from `src/rtoutcomes/registry/spec.py` by `python -m "
        "rtoutcomes.registry.docs --write`; do not edit by hand.\n\n"
        + format_markdown(2)
    )


def readme_section() -> str:
    """The README's "Registry data format" section (up to the next ``## `` heading)."""
    return f"{README_HEADING}\n\n{format_markdown(3)}"


def replace_readme_section(readme: str) -> str:
    """``readme`` with its "Registry data format" section replaced (or appended)."""
    section = readme_section()
    start = readme.find(README_HEADING + "\n")
    if start < 0:
        return readme.rstrip("\n") + "\n\n" + section
    end = readme.find("\n## ", start + len(README_HEADING))
    tail = "" if end < 0 else readme[end:]
    return readme[:start] + section + tail


def main(argv: list[str]) -> int:  # pragma: no cover - a developer's tool
    root = Path(__file__).resolve().parents[3]
    if "--write" not in argv:
        sys.stdout.write(contract_document())
        return 0
    (root / "docs" / "registry-format.md").write_text(contract_document(), encoding="utf-8")
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else "# rtoutcomes\n"
    readme.write_text(replace_readme_section(text), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
