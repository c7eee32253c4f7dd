"""Each command imports only what it uses (lazy imports keep the quick commands quick).

Each command runs in a fresh interpreter that then lists which of the heavy libraries are in
``sys.modules``. ``--help`` loads none of them; ``dosimetry`` needs numpy and pydicom but no
statistics library (scipy.stats alone takes longer to import than the whole DVH computation),
no pandas, plotting or database; ``init`` only the database libraries; ``analyze`` on a flat
table no database or DICOM library, and not scipy.stats (p-values come from scipy.special);
the registry commands (``validate``, ``audit``, ``export``, ``export --deidentify``) only the
database libraries; ``dosimetry-import`` DICOM and the database but no statistics, pandas or
plotting; ``federated simulate`` no database migrations or DICOM. Each case also names a
library it must load, so that the listing itself is shown to work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent
HEAVY = (
    "numpy",
    "scipy",
    "scipy.stats",
    "pandas",
    "matplotlib",
    "sqlalchemy",
    "alembic",
    "pydicom",
    "openpyxl",
    "docx",
    "yaml",
    "psycopg",
    "vantage6",
    "dicognito",
)
# the parts of rtoutcomes (and of the standard library) that the one-plan ``dosimetry`` command
# does not use: statistics, registry, study and report layers, and dosimetry-import's folder
# index and process pool
NOT_FOR_ONE_PLAN = (
    "rtoutcomes.stats",
    "rtoutcomes.registry",
    "rtoutcomes.study",
    "rtoutcomes.report",
    "rtoutcomes.io.dicom_index",
    "concurrent.futures.process",
    "multiprocessing",
)


# the whole command in one process (the report too: no report process forked, see
# rtoutcomes.forking), so that the listing covers everything it loads
ONE_PROCESS = "import rtoutcomes.forking as f; f.can_fork = lambda: False"


def list_modules(modules: tuple[str, ...], setup: str = "") -> str:
    """A script running the command of its arguments (after ``setup``), then printing its exit
    status and which of ``modules`` are loaded."""
    return (
        "import contextlib, io, json, sys\n"
        "from rtoutcomes.cli import main\n"
        f"{setup}\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        status = main(sys.argv[1:])\n"
        "    except SystemExit as exit_:\n"
        "        status = exit_.code\n"
        f"print(json.dumps([status, [m for m in {modules!r} if m in sys.modules]]))\n"
    )


def loaded_by(
    args: list[str],
    make_env: Callable[..., dict[str, str]],
    modules: tuple[str, ...] = HEAVY,
    setup: str = "",
) -> list[str]:
    """Which of ``modules`` the command loaded in this process (``setup``: code run first)."""
    done = subprocess.run(
        [sys.executable, "-c", list_modules(modules, setup), *args],
        capture_output=True,
        text=True,
        check=True,
        env=make_env(),
    )
    status, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0, done.stderr
    return list(modules)


def dicom_files(folder: Path) -> list[str]:
    """A synthetic sphere in a uniform 10 Gy dose grid (RT Struct, RT Dose, RT Plan)."""
    from rtoutcomes.io.dicom_rt_synthetic import circle, write_rtdose, write_rtplan, write_rtstruct

    x = np.arange(-30.0, 30.1, 2.5)
    zz, _, _ = np.meshgrid(np.arange(-29.0, 30.0, 2.0), x, x, indexing="ij")
    dose = write_rtdose(
        folder / "dose.dcm",
        np.full(zz.shape, 10.0),
        origin_mm=(-30.0, -30.0, -29.0),
        spacing_mm=(2.5, 2.5, 2.0),
    )
    contours = [
        (z, circle(float(np.sqrt(400 - z * z)), (0.0, 0.0), 120))
        for z in np.arange(-19.0, 20.0, 2.0)
    ]
    struct = write_rtstruct(folder / "rtss.dcm", {"PTV": contours})
    plan = write_rtplan(folder / "plan.dcm", prescription_gy=10.0, fractions=1)
    return ["--rtstruct", str(struct), "--rtdose", str(dose), "--rtplan", str(plan)]


def test_help_loads_no_heavy_library(code_under_test_env: Callable[..., dict[str, str]]) -> None:
    assert loaded_by(["--help"], code_under_test_env) == []


def test_dosimetry_loads_no_statistics_pandas_plotting_or_database(
    tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    loaded = loaded_by(["dosimetry", *dicom_files(tmp_path)], code_under_test_env)
    assert {"numpy", "pydicom"} <= set(loaded)
    assert [m for m in loaded if m not in ("numpy", "pydicom", "scipy")] == []


def test_dosimetry_loads_only_the_dvh_engine_of_rtoutcomes(
    tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    """Nor the other layers of rtoutcomes, nor dosimetry-import's folder machinery (its
    plausibility warnings are all the command takes from it)."""
    wanted = ("rtoutcomes.clinical.dvh", "rtoutcomes.io.dicom_rt")
    loaded = loaded_by(
        ["dosimetry", *dicom_files(tmp_path)], code_under_test_env, wanted + NOT_FOR_ONE_PLAN
    )
    assert loaded == list(wanted)


def test_init_loads_only_the_database_libraries(
    tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    loaded = loaded_by(["init", "--db", str(tmp_path / "r.db")], code_under_test_env)
    assert "sqlalchemy" in loaded
    assert not {"scipy", "matplotlib", "pydicom", "docx", "openpyxl"} & set(loaded)


@pytest.mark.slow
def test_analyze_loads_no_database_or_dicom_library(
    tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    command = [
        "analyze",
        str(HERE / "reference" / "fixtures" / "study_lung.csv"),
        "--config",
        str(HERE / "data" / "study_lung.yaml"),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    ]
    loaded = loaded_by(command, code_under_test_env, setup=ONE_PROCESS)
    assert {"pandas", "scipy", "matplotlib", "docx"} <= set(loaded)
    # scipy.stats neither: its distribution functions come from scipy.special; nor openpyxl:
    # tables.xlsx is written without it (report.tabular_files.write_xlsx)
    assert not {"sqlalchemy", "alembic", "psycopg", "pydicom", "scipy.stats", "openpyxl"} & set(
        loaded
    )
    # as run: the report's libraries are loaded by the report process only
    loaded = loaded_by(command, code_under_test_env)
    assert {"pandas", "scipy"} <= set(loaded)
    assert not {"matplotlib", "docx", "openpyxl"} & set(loaded)


@pytest.mark.slow
def test_demo_loads_no_scipy_stats_or_dicom_library(
    tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    # the best-response table's exact limits come from scipy.special (beta quantiles), not
    # from scipy.stats, whose import alone took ~0.7 s of the demo
    loaded = loaded_by(
        ["demo", "--out", str(tmp_path / "out"), "--quiet"], code_under_test_env, setup=ONE_PROCESS
    )
    assert {"pandas", "scipy", "matplotlib", "sqlalchemy", "docx"} <= set(loaded)
    assert not {"scipy.stats", "pydicom"} & set(loaded)


@pytest.mark.slow
def test_demo_own_process_loads_no_database_library(
    tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    # forked as usual, the demo's own process is handed the registry read back by the process
    # that imported it (rtoutcomes.demo._import_and_read): SQLAlchemy (~0.15 s) is imported
    # there only. The one-process run above loads it (the listing sees it).
    loaded = loaded_by(["demo", "--out", str(tmp_path / "out"), "--quiet"], code_under_test_env)
    assert {"numpy", "pandas", "scipy", "yaml"} <= set(loaded)
    assert not {"sqlalchemy", "alembic", "matplotlib", "docx"} & set(loaded)


def test_commands_run_blas_single_threaded_unless_told(
    code_under_test_env: Callable[..., dict[str, str]],
) -> None:
    import os

    code = (
        "import os; from rtoutcomes.cli import main; main([]); "
        "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
    )
    env = {
        k: v
        for k, v in code_under_test_env().items()
        if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split()[-2:] == ["1", "1"]
    env["OPENBLAS_NUM_THREADS"] = "4"  # the user's choice stands
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split()[-2:] == ["4", "1"]
    assert os.environ.get("OPENBLAS_NUM_THREADS") != "4"


@pytest.fixture
def demo_registry(tmp_path: Path) -> Path:
    from rtoutcomes.demo import demo_registry_files
    from rtoutcomes.registry.importer import import_registry

    db = tmp_path / "registry.db"
    import_registry(demo_registry_files(), db)
    return db


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["audit", "--verify"],
        ["export", "--out", "plain"],
        ["export", "--out", "deidentified", "--deidentify", "--key-file", "key"],
    ],
)
def test_registry_commands_load_only_the_database_libraries(
    command: list[str], demo_registry: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    folder = demo_registry.parent
    if "--key-file" in command:
        assert loaded_by(["init-key", str(folder / "key")], code_under_test_env) == []
    args = [str(folder / a) if a in ("plain", "deidentified", "key") else a for a in command]
    loaded = loaded_by([*args, "--db", str(demo_registry)], code_under_test_env)
    # Alembic only when the registry is not at the head revision (reading.check_schema)
    assert "sqlalchemy" in loaded and "alembic" not in loaded
    assert [m for m in loaded if m not in ("sqlalchemy", "yaml")] == []


def test_dosimetry_import_loads_no_statistics_pandas_or_plotting(
    tmp_path: Path, demo_registry: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    dicom_files(folder)
    loaded = loaded_by(
        ["dosimetry-import", str(folder), "--db", str(demo_registry), "--dry-run", "--quiet"],
        code_under_test_env,
    )
    assert {"numpy", "pydicom", "sqlalchemy"} <= set(loaded)
    assert not {"scipy.stats", "pandas", "matplotlib", "docx", "openpyxl"} & set(loaded)


@pytest.mark.slow
def test_federated_simulate_loads_no_dicom_or_migrations(
    tmp_path: Path, code_under_test_env: Callable[..., dict[str, str]]
) -> None:
    import pandas as pd

    from test_federated import POOLED, _sites, _study

    study = _study(tmp_path / "study.yaml")
    args = ["federated", "simulate", str(study), "--out", str(tmp_path / "out"), "--quiet"]
    for name, path in _sites(tmp_path, pd.read_csv(POOLED)):
        args += ["--site", f"{name}={path}"]
    loaded = loaded_by(args, code_under_test_env)
    assert {"vantage6", "pandas", "scipy"} <= set(loaded)
    # sqlalchemy is vantage6's own import (its mock client); no registry or DICOM library
    assert not {"alembic", "psycopg", "pydicom", "scipy.stats"} & set(loaded)
