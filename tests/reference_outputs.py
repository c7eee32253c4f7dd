"""Stored outputs of the current version: results.json (without provenance and schema_version)
and the CSV tables of the demo study and of the lung study, under tests/data/outputs/.

tests/test_results_schema.py compares every run with them, so a change of any number, key or
table cell is seen. When a change is intended (a new result, a new table column), rewrite them
and review the diff in the commit::

    PYTHONPATH=src python tests/reference_outputs.py
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STORED = HERE / "data" / "outputs"
STUDIES = ("demo", "lung")
# Keys that may change without the outputs changing: where and with what they were made.
VOLATILE = ("provenance", "schema_version")


def run(study: str, out: Path) -> Path:
    """Run ``study`` (demo or lung) into ``out``; returns ``out``."""
    from rtoutcomes.cli import main

    if study == "demo":
        args = ["demo", "--out", str(out), "--quiet"]
    else:
        args = ["analyze", str(HERE / "reference" / "fixtures" / "study_lung.csv"), "--config",
                str(HERE / "data" / "study_lung.yaml"), "--out", str(out), "--quiet"]
    if main(args) != 0:
        raise RuntimeError(f"the {study} study failed")
    return out


def comparable(results: dict[str, Any]) -> dict[str, Any]:
    """results.json without the keys that describe the run rather than the results."""
    return {k: v for k, v in results.items() if k not in VOLATILE}


def differences(stored: Any, current: Any, path: str = "", rel: float = 1e-9) -> list[str]:
    """Where two results differ: keys, lengths, texts exactly; numbers to ``rel`` (the stored
    values have 12 significant digits; other platforms may differ in the last)."""
    if isinstance(stored, dict) and isinstance(current, dict):
        found = [f"{path}/{k}: only in the stored outputs" for k in stored if k not in current]
        found += [f"{path}/{k}: not in the stored outputs" for k in current if k not in stored]
        for k in stored.keys() & current.keys():
            found += differences(stored[k], current[k], f"{path}/{k}", rel)
        return found
    if isinstance(stored, list) and isinstance(current, list):
        if len(stored) != len(current):
            return [f"{path}: {len(stored)} items stored, {len(current)} now"]
        return [d for i, (a, b) in enumerate(zip(stored, current, strict=True))
                for d in differences(a, b, f"{path}[{i}]", rel)]
    numbers = (int, float)
    if (isinstance(stored, numbers) and isinstance(current, numbers)
            and not isinstance(stored, bool) and not isinstance(current, bool)):
        if math.isclose(stored, current, rel_tol=rel, abs_tol=1e-12):
            return []
    elif stored == current and type(stored) is type(current):
        return []
    return [f"{path}: stored {stored!r}, now {current!r}"]


def store(study: str, out: Path) -> None:
    """Write the comparable outputs of a run in ``out`` to tests/data/outputs/<study>/."""
    target = STORED / study
    shutil.rmtree(target, ignore_errors=True)
    (target / "tables").mkdir(parents=True)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    (target / "results.json").write_text(
        json.dumps(comparable(results), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8", newline="\n")
    for csv in sorted((out / "tables").glob("*.csv")):
        shutil.copyfile(csv, target / "tables" / csv.name)


if __name__ == "__main__":
    for name in sys.argv[1:] or STUDIES:
        with tempfile.TemporaryDirectory() as tmp:
            store(name, run(name, Path(tmp)))
        print(f"stored {STORED / name}")
