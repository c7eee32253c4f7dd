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
- Yes/no columns take `yes`/`no` (also `y`/`n`, `true`/`false`, any case, Excel booleans);
  `1`/`0` are refused (a count or a code as often as a yes). Every part of rtoutcomes reads
  yes/no with these words (`rtoutcomes.io.yes_no`).
- Allowed values are matched ignoring case and stored as listed.
- Missing = an empty cell, `NA` or `N/A`. Codes for "unknown" (`999`, `9999`, `-9`, `-99`,
  `-999`, `.`, `-`, `?`; `99` and `-1` where out of range) are refused: leave the cell empty.
- A text cell exported with a leading apostrophe before `=`, `+`, `-` or `@` (a defence against
  spreadsheet formula injection) is read back without it.
- Identifiers (`*_id` columns) are printable ASCII (single inner spaces): invisible characters
  (zero-width or no-break space, NUL) and look-alike letters of other scripts are refused, and
  two ids that differ only by case are duplicates. Text cells hold no control character; a cell
  holds one line (a line break in a CSV cell is almost always an unclosed quote).
- Plausibility across tables: no date of a patient before their birth or in the future; a
  grade-5 toxicity needs the patient's death; every enrolled patient is among the screened
  candidates (when screening is recorded); `registry_meta` keys are the known ones. In a
  workbook, formula cells need their calculated values stored (open and save it in Excel).
- A first import goes into an empty registry, all or nothing: every problem is listed with file
  or sheet, row key, row, column, value and rule, and nothing is written unless there is none.
  Later changes are updates (below); every write is recorded in the audit trail.

Legend: **req** = required (non-empty) in every row; *opt* = may be empty; "cond" = required under
the stated condition; FK = must name an existing row of that table."""


UPDATES = """\
{h} Updating a registry

Each month brings new scans, deaths, last contacts, corrections and new patients. The routine of
a data manager:

1. Put only what is new or corrected in a folder of CSV files or a workbook: one file or sheet
   per table touched, with the table's key column (`assessment_id`, `lesion_id`...) and the
   columns you fill. Files or sheets that are not tables (a `notes` sheet) are listed as
   ignored; tables left out are not touched.
2. Preview: `rtoutcomes import month-12/ --db registry.db --update --dry-run` lists per table
   the rows added, the cells changed (key, column, old -> new), the rows deleted and the rows
   unchanged (`--json`: the same as data). Nothing is written.
3. Apply: `rtoutcomes import month-12/ --db registry.db --update --reason "December follow-up"
   --user jdoe` shows the same preview and writes exactly it. Changing a stored value or
   deleting a row needs `--reason`; additions alone do not. Every check of a first import runs
   on the registry as it would be after (a new scan may name a lesion that is already in the
   database); any problem refuses the whole update and names file, row, key, column and rule.
4. Check: `rtoutcomes audit --db registry.db --record lesions:L13` shows one row's history
   (when, who, command, reason, old -> new); `rtoutcomes audit --db registry.db --verify` checks
   the hash chain and that replaying it gives the registry exactly, or names the first break.
5. Before the analysis of a paper: `rtoutcomes freeze --db registry.db --label paper-2026`;
   `rtoutcomes run study.yaml --db registry.db --as-of paper-2026` (or `as_of: paper-2026` in
   the study file) and `rtoutcomes export --db registry.db --out frozen/ --as-of paper-2026`
   give that day's data years later, and the report's provenance names the state (label, batch,
   chain hash). `--as-of` also takes a batch number or a UTC time (`YYYY-MM-DD`: end of day).

In an update a blank cell (empty, `NA`, `N/A`) leaves the stored value as it is and `<erase>`
empties it. Rows are never deleted because they are absent: list them in a CSV file with the
header `table,key` and give it as `--delete KEYS.csv` (a lesion that still has scans cannot be
deleted: list the scans too). One writer at a time: a second update waits up to 10 s for the
first and then stops with a message; a study run during an update reads the registry as it was
before or after, never a mix. Each entry of the audit trail is chained to the previous one by
SHA-256, so that an edited, deleted or reordered entry, or a cell changed behind rtoutcomes'
back, is reported by `--verify`. An update of 1,000 changed rows into a registry of 68,000 rows
takes about 0.2 s on SQLite and 0.6 s on PostgreSQL (`benchmarks/registry_update.py`)."""


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
    parts = [INTRO, UPDATES.format(h="#" * level)]
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
        DOC_TITLE + "Generated from `src/rtoutcomes/registry/spec.py` by `python -m "
        "rtoutcomes.registry.docs --write`; do not edit by hand.\n\n" + format_markdown(2)
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
