"""The import is one transaction: a database trigger that refuses the last table with rows
leaves every table empty (an import writing table by table would leave the earlier ones)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mini_registry import mini_registry, write_csv_folder

from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.migrate import init_registry
from rtoutcomes.registry.spec import TABLES
from rtoutcomes.registry.tables import read_rows


def test_import_is_one_transaction(tmp_path: Path) -> None:
    """A trigger refuses the last table with rows: nothing of the earlier tables stays."""
    db = tmp_path / "registry.db"
    init_registry(f"sqlite:///{db}")
    last = [t.name for t in TABLES if mini_registry().get(t.name)][-1]
    with sqlite3.connect(db) as conn:
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON {last} "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    folder = write_csv_folder(mini_registry(), tmp_path / "csv")
    with pytest.raises(Exception, match="refused by the test"):
        import_registry(folder, f"sqlite:///{db}")
    rows = read_rows(f"sqlite:///{db}")
    assert {name: len(r) for name, r in rows.items() if r} == {}


@pytest.mark.parametrize("staged", [True, False], ids=["staged", "not staged"])
@pytest.mark.parametrize("commit_first", [False, True], ids=["one transaction", "control"])
def test_a_failure_after_the_rows_leaves_a_new_file_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, commit_first: bool, staged: bool
) -> None:
    """A new file, the rows in multi-row INSERTs of 7 rows and the audit batch prepared ahead
    by a forked process (the whole-registry import's path at the demo's size): staged (the
    rows and entries written into scratch files by two processes, then copied into the
    registry: ``registry/staged.py``) or not (no stored head schema: written here). The
    write fails after every row and entry went into the registry, as the chain's head is
    moved, and the registry holds nothing. Negative control: the same failure after a commit
    leaves rows, and the same check sees them."""
    import os

    from rtoutcomes.demo import demo_registry_files
    from rtoutcomes.registry import audit, changes, database, validation
    from rtoutcomes.registry import staged as staging

    monkeypatch.setattr(validation, "SHARED_BYTES", 0)  # the files read by two processes
    monkeypatch.setattr(changes, "FORK_ENTRIES", 1)
    monkeypatch.setattr(database, "ROWS_PER_STATEMENT", 7)
    if not staged:
        monkeypatch.setattr(staging, "possible", lambda: False)
    moved = audit.move_head
    parent = os.getpid()
    copied = []

    def failing(connection: Any, last: audit.Head) -> None:
        moved(connection, last)
        if os.getpid() != parent:  # a scratch file's head, in the forked process
            return
        entries = connection.exec_driver_sql("SELECT count(*) FROM main.audit_log").scalar()
        therapies = connection.exec_driver_sql(
            "SELECT count(*) FROM main.systemic_therapies"
        ).scalar()
        copied.append((entries, therapies, connection.dialect.name))
        assert entries == last.seq and therapies > 0
        if commit_first:
            connection.commit()
        raise RuntimeError("failed by the test")

    stages = []
    stage = changes.AuditAhead.stage

    def recorded(self: changes.AuditAhead, *args: Any) -> Any:
        stages.append(stage(self, *args))
        return stages[-1]

    monkeypatch.setattr(changes.AuditAhead, "stage", recorded)
    monkeypatch.setattr(audit, "move_head", failing)
    db = tmp_path / "registry.db"
    with pytest.raises(RuntimeError, match="failed by the test"):
        import_registry(demo_registry_files(), db)
    assert [s is not None for s in stages] == [staged]
    assert len(copied) == 1
    rows = read_rows(db)
    with sqlite3.connect(db) as connection:
        entries = connection.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    left = sum(map(len, rows.values())) + entries
    assert (left > 0) is commit_first
