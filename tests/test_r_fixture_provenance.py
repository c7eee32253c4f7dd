"""Every R fixture names the R version and the version of every R package the scripts in
tests/reference/r use (tests/reference/make_reference.R writes them)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent / "reference"
FIXTURES = sorted((REFERENCE / "fixtures").glob("*.json"))
EXPECTED = {"R", "survival", "cmprsk", "KMsurv", "MASS", "jsonlite"}


def test_every_package_the_scripts_use_is_recorded() -> None:
    used = set()
    for script in (REFERENCE / "r").glob("*.R"):
        lines = script.read_text(encoding="utf-8").splitlines()
        text = "\n".join(line.split("#", 1)[0] for line in lines)  # code, not comments
        used |= set(re.findall(r"library\((\w+)\)", text)) | set(re.findall(r"(\w+)::", text))
    assert used <= EXPECTED, used - EXPECTED


# fixtures not made by R: the planning system's DVHs (dicompyler-core) and those written by the
# Python reference scripts (tests/reference/python, e.g. firthmodels for Firth's Cox model)
PYTHON_MADE = "\n".join(p.read_text(encoding="utf-8") for p in (REFERENCE / "python").glob("*.py"))
R_FIXTURES = [p for p in FIXTURES if "dicompyler" not in p.name and p.name not in PYTHON_MADE]


def test_python_made_fixtures_are_known() -> None:
    assert "study_firth.json" in PYTHON_MADE
    assert len(R_FIXTURES) > 10


@pytest.mark.parametrize("path", R_FIXTURES, ids=lambda p: p.name)
def test_fixture_names_every_r_version(path: Path) -> None:
    provenance = json.loads(path.read_text(encoding="utf-8"))["provenance"]
    assert set(provenance) >= EXPECTED
    assert all(re.fullmatch(r"\d+(\.\d+)+", str(v)) for v in provenance.values())
