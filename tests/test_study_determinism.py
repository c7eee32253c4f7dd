"""Same inputs, same bytes: results.json, the CSVs and the HTML across runs and hash seeds, and
the results equal to the outputs stored from an earlier version (tests/data/stored_outputs).

Each run is a separate process (``python -m rtoutcomes analyze``) with its own PYTHONHASHSEED, so
set and dict ordering cannot leak into the outputs. The runs are shared by the module's tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
STORED = HERE / "data" / "stored_outputs"
EnvFactory = Callable[..., dict[str, str]]
Outputs = dict[str, bytes]
UPDATE_HINT = (
    "the results changed; if that is intended, say why in the commit and rewrite the stored "
    "outputs with `python scripts/store_outputs.py`"
)


def analyze_command(out: Path) -> list[str]:
    return [
        "analyze",
        str(HERE / "reference" / "fixtures" / "study_lung.csv"),
        "--config",
        str(HERE / "data" / "study_lung.yaml"),
        "--out",
        str(out),
        "--quiet",
    ]


def demo_command(out: Path) -> list[str]:
    return ["demo", "--out", str(out), "--quiet"]


# the command in one process: no forked report, registry-import, summary or figure process
# (a forked child would end at once, failing the command: the run shows that none was forked)
ONE_PROCESS = (
    "import os, sys, rtoutcomes.forking as forking\n"
    "forking.can_fork = lambda: False\n"
    "os.register_at_fork(after_in_child=lambda: os._exit(70))\n"
    "from rtoutcomes.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _run(
    args: list[str],
    out: Path,
    seed: str,
    cwd: Path,
    make_env: EnvFactory,
    one_process: bool = False,
) -> Outputs:
    """The command's output files, and what it printed (as ``stdout``, ``out`` named OUT)."""
    env = make_env(PYTHONHASHSEED=seed)
    env.pop("SOURCE_DATE_EPOCH", None)
    how = ["-c", ONE_PROCESS] if one_process else ["-m", "rtoutcomes"]
    done = subprocess.run(
        [sys.executable, *how, *args],
        check=True,
        env=env,
        cwd=cwd,
        capture_output=True,
    )
    files = {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix != ".db"
    }
    return {**files, "stdout": done.stdout.replace(str(out).encode(), b"OUT")}


@pytest.fixture(scope="module")
def lung_runs(
    tmp_path_factory: pytest.TempPathFactory, code_under_test_env: EnvFactory
) -> tuple[Outputs, Outputs]:
    tmp = tmp_path_factory.mktemp("lung")
    first = _run(analyze_command(tmp / "a"), tmp / "a", "0", tmp, code_under_test_env)
    second = _run(analyze_command(tmp / "b"), tmp / "b", "12345", HERE, code_under_test_env)
    return first, second


@pytest.fixture(scope="module")
def demo_runs(
    tmp_path_factory: pytest.TempPathFactory, code_under_test_env: EnvFactory
) -> tuple[Outputs, Outputs]:
    """Two demo runs: forked processes as usual, and all of it in one process (the second)."""
    tmp = tmp_path_factory.mktemp("demo")
    first = _run(demo_command(tmp / "a"), tmp / "a", "0", tmp, code_under_test_env)
    second = _run(
        demo_command(tmp / "b"), tmp / "b", "4242", tmp, code_under_test_env, one_process=True
    )
    return first, second


def test_outputs_identical_across_runs_and_hash_seeds(lung_runs: tuple[Outputs, Outputs]) -> None:
    first, second = lung_runs
    assert sorted(first) == sorted(second)
    checked = [
        n for n in first if n.endswith((".json", ".csv", ".html", ".svg", ".png", ".xlsx", ".docx"))
    ]
    assert {"results.json", "report.html", "tables/table3_univariate.csv"} <= set(checked)
    different = [n for n in checked if first[n] != second[n]]
    assert different == []


def test_registry_study_identical_across_hash_seeds(demo_runs: tuple[Outputs, Outputs]) -> None:
    # the registry path adds the cohort tables, flow chart and competing-risks outputs; the
    # second run is done in one process: the demo's forked processes (report, registry import,
    # console summary, figure workers) change no byte of any file, nor the console summary
    first, second = demo_runs
    assert b"LC (lesions)" in first["stdout"]
    assert sorted(first) == sorted(second)
    assert {
        "results.json",
        "report.html",
        "tables/cif_local_failure.csv",
        "figures/cif_LC.svg",
        "figures/cif_LC_by_size.png",
    } <= set(first)
    assert [n for n in first if first[n] != second[n]] == []


def results_without_provenance(data: bytes) -> dict[str, Any]:
    """results.json without what names the software and inputs rather than the results
    (versions, the commit and input hashes in ``provenance``; ``schema_version``)."""
    results: dict[str, Any] = json.loads(data)
    results.pop("provenance", None)
    results.pop("schema_version", None)
    return results


def differences_from_stored(outputs: Outputs, name: str) -> list[str]:
    """Stored files (results.json and every table CSV) that the new outputs do not reproduce."""
    folder = STORED / name
    stored = sorted(p for p in folder.rglob("*") if p.is_file())
    assert [p.name for p in stored if p.suffix == ".csv"], f"no stored tables in {folder}"
    different = []
    for path in stored:
        key = path.relative_to(folder).as_posix()
        if key not in outputs:
            different.append(f"{key}: missing")
        elif key == "results.json":
            if results_without_provenance(outputs[key]) != results_without_provenance(
                path.read_bytes()
            ):
                different.append(key)
        elif outputs[key] != path.read_bytes():
            different.append(key)
    return different


@pytest.mark.parametrize("name", ["lung", "demo"])
def test_results_equal_the_stored_outputs(name: str, request: pytest.FixtureRequest) -> None:
    first, _ = request.getfixturevalue(f"{name}_runs")
    assert differences_from_stored(first, name) == [], UPDATE_HINT


def test_stored_outputs_comparison_catches_a_changed_digit(
    lung_runs: tuple[Outputs, Outputs],
) -> None:
    # negative control: one changed digit in results.json and one in a table CSV are caught
    changed = dict(lung_runs[0])
    text = changed["results.json"].decode()
    digit = next(i for i, c in enumerate(text) if c in "123456789" and text[i - 1] == ".")
    changed["results.json"] = (
        text[:digit] + str(int(text[digit]) % 9 + 1) + text[digit + 1 :]
    ).encode()
    table = "tables/table3_univariate.csv"
    changed[table] = changed[table].replace(b"0.", b"1.", 1)
    assert differences_from_stored(changed, "lung") == ["results.json", table]
