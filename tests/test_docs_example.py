"""docs/examples/full_analysis.py runs from a clean folder and writes what it promises."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pandas as pd
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "full_analysis.py"


def test_full_analysis_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    finally:
        os.chdir(here)
    printed = capsys.readouterr().out
    for needle in ("KaplanMeierGroups", "dropped = 2", "Concordance", "GLOBAL", "difference"):
        assert needle in printed, needle
    for name in ("km_by_arm.png", "forest.png", "zph_age.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    table = pd.read_csv(tmp_path / "cox.csv", index_col=0)
    assert list(table.index) == ["SBRT", "age", "grade[G2 vs G1]", "grade[G3 vs G1]"]
    assert table.loc["SBRT", "hr"] < 1  # the simulated benefit is recovered
