#!/usr/bin/env python3
"""Store results.json and the table CSVs of the lung study and the demo as the reference that
tests/test_study_determinism.py compares every later version with.

Run it only when a change of results is intended (and say why in the commit)::

    python scripts/store_outputs.py
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from rtoutcomes.cli import main  # noqa: E402
from test_study_determinism import STORED, analyze_command, demo_command  # noqa: E402


def store(name: str, args: list[str], out: Path) -> None:
    if main(args) != 0:
        raise SystemExit(f"{name}: the run failed")
    target = STORED / name
    shutil.rmtree(target, ignore_errors=True)
    (target / "tables").mkdir(parents=True)
    # without the commit that made them: the stored files are committed afterwards, so the hash
    # would name their parent (or a dirty tree); the comparison ignores provenance anyway
    text = (out / "results.json").read_text(encoding="utf-8")
    text = re.sub(r'\n *"rtoutcomes commit": "[^"]*",', "", text)
    (target / "results.json").write_text(text, encoding="utf-8")
    for table in sorted((out / "tables").glob("*.csv")):
        shutil.copyfile(table, target / "tables" / table.name)
    print(f"stored {target.relative_to(ROOT)}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        store("lung", analyze_command(Path(tmp) / "lung"), Path(tmp) / "lung")
        store("demo", demo_command(Path(tmp) / "demo"), Path(tmp) / "demo")
