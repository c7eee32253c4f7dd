"""Regenerate src/rtoutcomes/report/data/xlsx_parts.json: the parts of tables.xlsx that are the
same in every workbook (styles with the bold font, theme, package relationships, application
properties), taken from what openpyxl writes.

    python scripts/make_xlsx_parts.py

``report.tabular_files.write_xlsx`` writes the rest itself; tests/test_xlsx_writer.py checks
that its files are openpyxl's bytes (run this after an openpyxl upgrade if that test fails).
"""

from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rtoutcomes.report.table import Table  # noqa: E402
from rtoutcomes.report.tabular_files import (  # noqa: E402
    STATIC_XLSX_PARTS,
    XLSX_PARTS,
    write_xlsx_openpyxl,
)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.xlsx"
        table = Table(key="t", title="T", columns=["a"])
        table.add("1")
        write_xlsx_openpyxl([table], path)
        with zipfile.ZipFile(path) as archive:
            parts = {name: archive.read(name).decode("utf-8") for name in STATIC_XLSX_PARTS}
    XLSX_PARTS.write_text(json.dumps(parts, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {XLSX_PARTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
