"""kill -9 during an import, and two imports at once, on SQLite and PostgreSQL.

An import is all or nothing: a process killed at any moment leaves either no registry rows or
the whole registry, never part of it, and a database that opens and validates. The kill points
are spread over the whole import (a fixed seed: the same points every run). The negative control
writes the same rows one table per transaction and is killed the same way: the check must see
partial registries there, or it could not catch one.

Two imports started together into one empty registry: exactly one wins, the other is refused
with a clear error (no traceback), and the registry holds one copy.

Forked children (``os.fork``) run the imports, so each kill costs milliseconds, not an
interpreter start: 200 kills on SQLite and 40 on PostgreSQL take well under a minute.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
import traceback
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.spec import TABLES

SQLITE_KILLS = 200
POSTGRES_KILLS = 40
CONCURRENT_TRIALS = 4

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


_FOLDER: list[Path] = []


def _demo_folder() -> Path:
    """The mini registry (3 patients) as CSV files: a short import, so kills are cheap."""
    import tempfile

    from mini_registry import mini_registry, write_csv_folder

    if not _FOLDER:
        _FOLDER.append(write_csv_folder(mini_registry(), Path(tempfile.mkdtemp()) / "mini"))
    return _FOLDER[0]


def _in_child(work: Callable[[], None], report: Path | None = None) -> int:
    """Fork; the child runs ``work`` and exits 0, or 3 writing the error to ``report``."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        status = 0
        try:
            work()
        except BaseException as error:  # the child reports every failure
            status = 3
            if report is not None:
                report.write_text(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        os._exit(status)
    return pid


def _counts(db_url: str) -> dict[str, int] | None:
    """Rows per registry table (``None``: no registry tables yet)."""
    url = sa.make_url(db_url)
    if url.get_backend_name() == "sqlite":  # sqlite3 directly: this runs after every kill
        path = Path(url.database or "")
        if not path.exists():
            return None
        with closing(sqlite3.connect(path)) as db:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if "patients" not in names:
                return None
            return {
                spec.name: db.execute(f'SELECT count(*) FROM "{spec.name}"').fetchone()[0]
                if spec.name in names
                else 0
                for spec in TABLES
            }
    engine = sa.create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            names = set(sa.inspect(connection).get_table_names())
            if "patients" not in names:
                return None
            # a kill between two migrations leaves an older schema: its missing tables are empty
            return {
                spec.name: connection.execute(
                    sa.text(f'SELECT count(*) FROM "{spec.name}"')
                ).scalar_one()
                if spec.name in names
                else 0
                for spec in TABLES
            }
    finally:
        engine.dispose()


def _unsafe_import(db_url: str) -> None:
    """The negative control: the same rows, one transaction per table (NOT all or nothing)."""
    from rtoutcomes.io.tabular import read_registry_files
    from rtoutcomes.registry.database import make_engine
    from rtoutcomes.registry.migrate import upgrade
    from rtoutcomes.registry.schema import REGISTRY_TABLES
    from rtoutcomes.registry.validation import validate_registry

    validated = validate_registry(read_registry_files(_demo_folder()))
    engine = make_engine(db_url)
    upgrade(engine)
    for spec in TABLES:
        rows = [r.values for r in validated.tables[spec.name]]
        for row in rows:
            with engine.begin() as connection:
                connection.execute(REGISTRY_TABLES[spec.name].insert(), [row])
    engine.dispose()


def _kill_during(work: Callable[[], None], delay: float) -> None:
    pid = _in_child(work)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _duration(work: Callable[[], None], report: Path) -> float:
    start = time.monotonic()
    pid = _in_child(work, report)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report.read_text()
    return time.monotonic() - start


def _kill_states(
    make_url: Callable[[int], str],
    reset: Callable[[str], None],
    work_for: Callable[[str], Callable[[], None]],
    kills: int,
    seed: int,
    report: Path,
) -> dict[str, int]:
    """Kill ``kills`` imports at spread points; count the states they left."""
    full_url = make_url(-1)
    span = _duration(work_for(full_url), report)
    full = _counts(full_url)
    assert full is not None and full["patients"] == 3
    rng = random.Random(seed)
    states = {"nothing": 0, "complete": 0, "partial": 0}
    for i in range(kills):
        url = make_url(i)
        _kill_during(work_for(url), rng.uniform(0.0, span * 1.1))
        counts = _counts(url)
        if counts is None or not any(counts.values()):
            states["nothing"] += 1
            if i % 20 == 0:  # what the kill left is usable: the import, run again, completes
                _duration(work_for(url), report)
                assert _counts(url) == full
        elif counts == full:
            states["complete"] += 1
        else:
            states["partial"] += 1
        reset(url)
    return states


def _sqlite_urls(tmp_path: Path) -> tuple[Callable[[int], str], Callable[[str], None]]:
    """Nine in ten kills hit an import into an empty registry made by ``init`` (the data
    write); one in ten an import into a new file (the schema migrations too)."""
    import shutil

    from rtoutcomes.registry.migrate import init_registry

    template = tmp_path / "template.db"
    init_registry(template)

    def make_url(i: int) -> str:
        path = tmp_path / f"kill{i}.db"
        if i % 10:
            shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    def reset(url: str) -> None:
        path = Path(sa.make_url(url).database or "")
        if path.exists() and path.stat().st_size:
            with closing(sqlite3.connect(path)) as db:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return make_url, reset


def _import_work(url: str) -> Callable[[], None]:
    return lambda: import_registry(_demo_folder(), url)


def _unsafe_work(url: str) -> Callable[[], None]:
    return lambda: _unsafe_import(url)


@pytest.mark.slow
def test_kill_9_during_sqlite_import_never_leaves_part(tmp_path: Path) -> None:
    make_url, reset = _sqlite_urls(tmp_path)
    states = _kill_states(
        make_url, reset, _import_work, SQLITE_KILLS, seed=8, report=tmp_path / "child.txt"
    )
    assert states["partial"] == 0, states
    assert states["nothing"] and states["complete"], states  # kills before and after commit
    assert sum(states.values()) == SQLITE_KILLS


@pytest.mark.slow
def test_negative_control_a_non_atomic_import_is_caught(tmp_path: Path) -> None:
    make_url, reset = _sqlite_urls(tmp_path)
    states = _kill_states(make_url, reset, _unsafe_work, 12, seed=8, report=tmp_path / "child.txt")
    assert states["partial"] > 0, states


def _postgres_database(admin_url: str, name: str, *, drop: bool = False) -> str:
    import psycopg

    url = sa.make_url(admin_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_9_during_postgres_import_never_leaves_part(tmp_path: Path) -> None:
    import uuid

    admin = os.environ["RTOUTCOMES_TEST_POSTGRES_URL"]
    name = f"rtoutcomes_kill_{uuid.uuid4().hex[:10]}"
    url = _postgres_database(admin, name)

    def reset(_: str) -> None:
        engine = sa.create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            names = [n for n in sa.inspect(connection).get_table_names() if n != "alembic_version"]
            if names:
                connection.exec_driver_sql(
                    "TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE"
                )
        engine.dispose()

    def make_url(i: int) -> str:
        reset(url)
        return url

    try:
        states = _kill_states(
            make_url, reset, _import_work, POSTGRES_KILLS, seed=8, report=tmp_path / "child.txt"
        )
    finally:
        _postgres_database(admin, name, drop=True)
    assert states["partial"] == 0, states
    assert states["nothing"] and states["complete"], states


def _race(url: str, tmp_path: Path) -> tuple[list[int], list[str]]:
    """Two imports into ``url`` released at the same instant; their exit codes and errors."""
    read_end, write_end = os.pipe()
    reports = [tmp_path / f"child{i}.txt" for i in range(2)]

    def work() -> None:
        os.close(write_end)
        os.read(read_end, 1)  # the start signal: both children wait here
        import_registry(_demo_folder(), url)

    pids = [_in_child(work, report) for report in reports]
    os.close(read_end)
    time.sleep(0.3)
    os.write(write_end, b"go")
    os.close(write_end)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    errors = [r.read_text() if r.exists() else "" for r in reports]
    for r in reports:
        r.unlink(missing_ok=True)
    return codes, errors


def _one_wins(codes: list[int], errors: list[str], url: str) -> None:
    from rtoutcomes.errors import RtOutcomesError
    from rtoutcomes.registry import changes

    assert sorted(codes) == [0, 3], (codes, errors)
    loser = next(e for c, e in zip(codes, errors, strict=True) if c == 3)
    first_line = loser.splitlines()[0]
    kinds = {cls.__name__ for cls in (changes.RegistryNotEmpty, RtOutcomesError)}
    assert first_line.split(":")[0] in kinds or "Registry" in first_line.split(":")[0], loser
    assert any(word in first_line for word in ("already holds", "locked", "busy", "another")), (
        first_line
    )
    counts = _counts(url)
    assert counts is not None and counts["patients"] == 3, counts


@pytest.mark.slow
def test_two_sqlite_imports_at_once_one_wins(tmp_path: Path) -> None:
    for trial in range(CONCURRENT_TRIALS):
        url = f"sqlite:///{tmp_path / f'race{trial}.db'}"
        codes, errors = _race(url, tmp_path)
        _one_wins(codes, errors, url)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_postgres_imports_at_once_one_wins(tmp_path: Path) -> None:
    import uuid

    admin = os.environ["RTOUTCOMES_TEST_POSTGRES_URL"]
    for _ in range(CONCURRENT_TRIALS):
        name = f"rtoutcomes_race_{uuid.uuid4().hex[:10]}"
        url = _postgres_database(admin, name)
        try:
            codes, errors = _race(url, tmp_path)
            _one_wins(codes, errors, url)
        finally:
            _postgres_database(admin, name, drop=True)
