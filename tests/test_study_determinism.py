"""Same inputs, same bytes: results.json, the CSVs and the HTML across runs and hash seeds.

Each run is a separate process (``python -m rtoutcomes analyze``) with its own PYTHONHASHSEED, so
set and dict ordering cannot leak into the outputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import rtoutcomes

HERE = Path(__file__).parent
SRC = str(Path(rtoutcomes.__file__).resolve().parents[1])


def _analyze(out: Path, seed: str, cwd: Path) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONHASHSEED": seed}
    env.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run(
        [sys.executable, "-m", "rtoutcomes", "analyze", str(HERE / "reference" / "fixtures" /
                                                           "study_lung.csv"),
         "--config", str(HERE / "data" / "study_lung.yaml"), "--out", str(out), "--quiet"],
        check=True, env=env, cwd=cwd, capture_output=True,
    )
    files = sorted(p for p in out.rglob("*") if p.is_file())
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def test_outputs_identical_across_runs_and_hash_seeds(tmp_path: Path) -> None:
    first = _analyze(tmp_path / "a", "0", tmp_path)
    second = _analyze(tmp_path / "b", "12345", HERE)
    assert sorted(first) == sorted(second)
    checked = [n for n in first if n.endswith((".json", ".csv", ".html", ".svg", ".png", ".xlsx",
                                               ".docx"))]
    assert {"results.json", "report.html", "tables/table3_univariate.csv"} <= set(checked)
    different = [n for n in checked if first[n] != second[n]]
    assert different == []
