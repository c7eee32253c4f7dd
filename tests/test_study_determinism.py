"""Same inputs, same bytes: results.json, the CSVs and the HTML across runs and hash seeds.

Each run is a separate process (``python -m rtoutcomes analyze``) with its own PYTHONHASHSEED, so
set and dict ordering cannot leak into the outputs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
EnvFactory = Callable[..., dict[str, str]]


def _analyze(out: Path, seed: str, cwd: Path, make_env: EnvFactory) -> dict[str, bytes]:
    env = make_env(PYTHONHASHSEED=seed)
    env.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run(
        [sys.executable, "-m", "rtoutcomes", "analyze", str(HERE / "reference" / "fixtures" /
                                                           "study_lung.csv"),
         "--config", str(HERE / "data" / "study_lung.yaml"), "--out", str(out), "--quiet"],
        check=True, env=env, cwd=cwd, capture_output=True,
    )
    files = sorted(p for p in out.rglob("*") if p.is_file())
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def test_outputs_identical_across_runs_and_hash_seeds(
    tmp_path: Path, code_under_test_env: EnvFactory
) -> None:
    first = _analyze(tmp_path / "a", "0", tmp_path, code_under_test_env)
    second = _analyze(tmp_path / "b", "12345", HERE, code_under_test_env)
    assert sorted(first) == sorted(second)
    checked = [n for n in first if n.endswith((".json", ".csv", ".html", ".svg", ".png", ".xlsx",
                                               ".docx"))]
    assert {"results.json", "report.html", "tables/table3_univariate.csv"} <= set(checked)
    different = [n for n in checked if first[n] != second[n]]
    assert different == []


def _demo(out: Path, seed: str, make_env: EnvFactory) -> dict[str, bytes]:
    env = make_env(PYTHONHASHSEED=seed)
    env.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run([sys.executable, "-m", "rtoutcomes", "demo", "--out", str(out), "--quiet"],
                   check=True, env=env, capture_output=True)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix != ".db"}


def test_registry_study_identical_across_hash_seeds(
    tmp_path: Path, code_under_test_env: EnvFactory
) -> None:
    # the registry path adds the cohort tables, flow chart and competing-risks outputs
    first = _demo(tmp_path / "a", "0", code_under_test_env)
    second = _demo(tmp_path / "b", "4242", code_under_test_env)
    assert sorted(first) == sorted(second)
    assert {"results.json", "report.html", "tables/cif_local_failure.csv",
            "figures/cif_LC.svg", "figures/cif_LC_by_size.png"} <= set(first)
    assert [n for n in first if first[n] != second[n]] == []
