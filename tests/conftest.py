"""Shared fixtures.

Storage tests take the ``db_url`` fixture and so run once on SQLite and once on PostgreSQL.
The PostgreSQL run needs a server: set ``RTOUTCOMES_TEST_POSTGRES_URL`` to a URL whose role may
create databases (``.ci/run`` starts one and sets it). Without it those tests are skipped, and
pytest's summary (``-ra``) says which ones and why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

POSTGRES_ENV = "RTOUTCOMES_TEST_POSTGRES_URL"
SKIP_POSTGRES_REASON = (
    f"PostgreSQL tests skipped: no server configured ({POSTGRES_ENV} is not set; "
    ".ci/run starts one and sets it)"
)

REPO_ROOT = Path(__file__).resolve().parents[1]
#: the shared/ folder beside the repository (RTOUTCOMES_SHARED names another, e.g. for worktrees)
SHARED = Path(os.environ.get("RTOUTCOMES_SHARED") or REPO_ROOT.parent / "shared")


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _code_under_test_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess that must run this checkout's rtoutcomes.

    rtoutcomes need not be installed (helpers' worktrees share one venv), so the subprocess gets
    PYTHONPATH pointing at the src folder of the package these tests imported.
    """
    import rtoutcomes

    src = str(Path(rtoutcomes.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": src, **extra}


@pytest.fixture(scope="session")
def code_under_test_env() -> Callable[..., dict[str, str]]:
    """``code_under_test_env(**extra)``: os.environ plus PYTHONPATH to the code under test."""
    return _code_under_test_env


def _python_output(code: str, **extra: str) -> str:
    """The standard output of ``python -c code`` run on the code under test (an error if it
    fails)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=_code_under_test_env(**extra),
    )
    return done.stdout


@pytest.fixture(scope="session")
def python_output() -> Callable[..., str]:
    """``python_output(code, **extra_env)``: what ``python -c code`` prints, run in a fresh
    process on the code under test (imports and process-wide settings seen as a user's
    process sees them)."""
    return _python_output


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked ``postgres`` is skipped without a server, as ``postgres_url`` skips: the
    README's test command runs on a machine without PostgreSQL (tests that read the server's
    URL themselves, such as the crash tests, failed there with a KeyError)."""
    if item.get_closest_marker("postgres") is not None and _postgres_admin_url() is None:
        pytest.skip(SKIP_POSTGRES_REASON)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip(SKIP_POSTGRES_REASON)
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    name = f"rtoutcomes_test_{uuid.uuid4().hex[:12]}"
    conninfo = url.set(drivername="postgresql", database=url.database or "postgres")
    plain = conninfo.render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        from sqlalchemy.pool import NullPool  # noqa: F401  (engines in tests use NullPool)

        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh empty database URL, once for SQLite and once for PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="session")
def breast_boost_dir() -> Path:
    """shared/data/dicom/breast-boost (the Eclipse export), for fixtures of any scope."""
    folder = SHARED / "data" / "dicom" / "breast-boost"
    if not folder.is_dir():
        pytest.skip(f"shared/ not found at {SHARED}")
    return folder


@pytest.fixture
def shared_dir() -> Path:
    """The project's ``shared/`` folder (reference paper, DICOM data), beside the repository."""
    if not SHARED.is_dir():
        pytest.skip(f"shared/ not found at {SHARED}")
    return SHARED


def _run_cli(args: list[str]) -> None:
    from rtoutcomes.cli import main

    assert main([*args, "--quiet"]) == 0, args


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of ``rtoutcomes demo``, run once per session (tests only read it)."""
    out = tmp_path_factory.mktemp("demo")
    _run_cli(["demo", "--out", str(out)])
    return out


@pytest.fixture(scope="session")
def lung_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of the lung study (``rtoutcomes analyze``), run once per session."""
    out = tmp_path_factory.mktemp("lung")
    tests = Path(__file__).resolve().parent
    _run_cli(
        [
            "analyze",
            str(tests / "reference" / "fixtures" / "study_lung.csv"),
            "--config",
            str(tests / "data" / "study_lung.yaml"),
            "--out",
            str(out),
        ]
    )
    return out
