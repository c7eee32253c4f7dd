"""A first import writes exactly what main at ff2865b wrote (before the import was made
faster): the demo registry, and the demo registry copied three times with renamed
identifiers, imported with a fixed user and time into a new SQLite file give the same schema
(``sqlite_master``), the same rows in the same order with the same stored values (dates as
text, numbers, yes/no) and the same audit trail (every field of every entry, hence the same
hash chain and head) as the digests recorded from that version
(``data/import_digests.json``, made by ``dump_digest`` below on main's code)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from rtoutcomes.demo import demo_registry_files
from rtoutcomes.registry import audit, changes, database, validation
from rtoutcomes.registry import staged as staging
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.migrate import init_registry
from rtoutcomes.registry.spec import TABLES

DIGESTS = Path(__file__).with_name("data") / "import_digests.json"
NOW = dt.datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=dt.UTC)


def copies_of_demo(copies: int, out: Path) -> Path:
    """The demo registry's files, each row repeated ``copies`` times with ``-k`` after every
    identifier (registry_meta once), as benchmarks/registry_import.py makes them."""
    import csv

    out.mkdir()
    for source in sorted(demo_registry_files().glob("*.csv")):
        with source.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            header = list(rows[0]) if rows else next(csv.reader(source.open(encoding="utf-8")))
        with (out / source.name).open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            for k in range(1 if source.stem == "registry_meta" else copies):
                for row in rows:
                    writer.writerow(
                        {c: f"{v}-{k}" if c.endswith("_id") and v else v for c, v in row.items()}
                    )
    return out


def dump_digest(db: Path) -> dict[str, object]:
    """SHA-256 of the schema and of every table's rows in storage order (values as SQLite
    stores them: ``repr`` tells text, integer and real apart), and the audit trail's head."""
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as connection:
        schema = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
        digest = hashlib.sha256(repr(schema).encode())
        tables = [name for kind, name, _, _ in schema if kind == "table"]
        counts = {}
        for name in tables:
            rows = connection.execute(f'SELECT * FROM "{name}" ORDER BY rowid')
            count = 0
            for row in rows:
                digest.update(repr((name, row)).encode())
                count += 1
            counts[name] = count
        head = connection.execute("SELECT seq, batch, entry_hash FROM audit_head").fetchall()
    return {"sha256": digest.hexdigest(), "head": [list(r) for r in head], "rows": counts}


def imported(folder: Path, db: Path) -> dict[str, object]:
    import_registry(folder, db, user="tester", command="rtoutcomes import demo", now=NOW)
    return dump_digest(db)


def _record_prepared_batches(
    monkeypatch: pytest.MonkeyPatch, log: Path, line: Callable[[dict[str, object]], str]
) -> Path:
    """Every ``audit.prepare_batch`` call writes ``line(its keyword arguments)`` into ``log``
    (a file, not a list: a forked process prepares batches too); returns ``log``."""
    prepare = audit.prepare_batch

    def recorded(*args: object, **kwargs: object) -> audit.PreparedBatch:
        with log.open("a") as f:
            f.write(f"{line(kwargs)}\n")
        return prepare(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "prepare_batch", recorded)
    return log


@pytest.mark.parametrize(
    ("forked", "staged"),
    [(False, False), (True, False), (True, True)],
    ids=["one process", "forked audit", "forked audit, staged"],
)
@pytest.mark.parametrize("copies", [1, 3])
def test_import_writes_what_main_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copies: int, forked: bool, staged: bool
) -> None:
    """Also with the audit batch prepared by a forked process (changes.FORK_ENTRIES: a
    whole-registry import's size; lowered here to the demo's), and the largest table's file
    read and checked by one (validation.SHARED_BYTES); and with the rows and the entries
    written into scratch files by the two processes and copied into the registry
    (``registry/staged.py``; not staged: as without a stored head schema)."""
    pids = _record_prepared_batches(monkeypatch, tmp_path / "pids", lambda _: str(os.getpid()))
    monkeypatch.setattr(changes, "FORK_ENTRIES", 1 if forked else 10**9)
    monkeypatch.setattr(validation, "SHARED_BYTES", 0 if forked else 10**12)
    monkeypatch.setattr(staging, "possible", lambda: staged)
    copied = _record_copies(monkeypatch)
    folder = demo_registry_files() if copies == 1 else copies_of_demo(copies, tmp_path / "csv")
    expected = json.loads(DIGESTS.read_text())[str(copies)]
    assert imported(folder, tmp_path / "registry.db") == expected
    prepared_by = {int(pid) for pid in pids.read_text().split()}
    assert (prepared_by != {os.getpid()}) is forked
    tables = [name for name, count in expected["rows"].items() if count]  # type: ignore[attr-defined]
    registry = sorted(set(tables) - {"alembic_version", "audit_head", "audit_log"})
    assert copied == ([*registry, "audit_log"] if staged else [])


def _record_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables ``staged.copy`` copies into a registry, in order (sorted per file)."""
    found: list[str] = []
    copy = staging.copy

    def recorded(connection: Any, name: str, tables: Sequence[str]) -> dict[str, int]:
        found.extend(sorted(tables))
        return copy(connection, name, tables)

    monkeypatch.setattr(staging, "copy", recorded)
    return found


@pytest.mark.parametrize(("rows", "variables"), [(1, None), (7, None), (500, 13)])
def test_rows_inserted_by_any_number_per_statement_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int, variables: int | None
) -> None:
    """SQLite gets the rows and audit entries as multi-row INSERTs
    (``database.ROWS_PER_STATEMENT``, at most as many values as SQLite may bind): one row a
    statement, seven (tables of 37 to 804 rows: a short last statement), or as many as 13
    values allow give what main at ff2865b wrote (one statement run per row)."""
    monkeypatch.setattr(database, "ROWS_PER_STATEMENT", rows)
    if variables is not None:
        monkeypatch.setattr(database, "_variable_limit", lambda connection: variables)
    folder = copies_of_demo(3, tmp_path / "csv")
    expected = json.loads(DIGESTS.read_text())["3"]
    assert imported(folder, tmp_path / "registry.db") == expected


@pytest.mark.parametrize("differs", [None, "now", "user", "rows", "head", "schema"])
def test_an_audit_batch_prepared_ahead_is_taken_only_for_what_it_was_prepared_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, differs: str | None
) -> None:
    """``changes.audit_ahead`` (a first import's batch prepared by a forked process before
    the new file is made): ``apply_changes`` writes it only for the same rows (the same
    tuples), user, command, reason, time and chain head; anything else and the
    batch is prepared again in the write path, and what is written is that call's (negative
    control: the first case takes the batch prepared ahead and prepares none). The batch is
    staged (``registry/staged.py``): a registry whose schema is not the scratch files' (one
    more index) is written the usual way, and gets the same rows."""
    calls = _record_prepared_batches(monkeypatch, tmp_path / "calls", lambda k: str(k["user"]))
    monkeypatch.setattr(changes, "FORK_ENTRIES", 1)
    db = tmp_path / "registry.db"
    checked = validation.validate_files(demo_registry_files())
    command = "rtoutcomes import demo"
    rows = {spec.name: checked.rows(spec.name) for spec in TABLES}
    with changes.audit_ahead(
        db, rows, user="tester", command=command, reason=None, now=NOW
    ) as ahead:
        assert ahead is not None
        user, now = "tester", NOW
        if differs == "now":
            now = NOW + dt.timedelta(microseconds=1)
        elif differs == "user":
            user = "someone else"
        elif differs == "rows":
            checked = validation.validate_files(demo_registry_files())  # equal, not the same
        init_registry(db)
        if differs == "schema":
            with sqlite3.connect(db) as connection:
                connection.execute("CREATE INDEX ix_extra ON patients (sex)")
        if differs == "head":
            changes.freeze(db, "before-the-import", user="tester", now=NOW)
        changes.apply_changes(
            db, checked, user=user, command=command, now=now, require_empty=True, ahead=ahead
        )
    ahead_and_freeze = ["tester", "tester"] if differs == "head" else ["tester"]
    prepared_again = [] if differs is None else [user]
    assert calls.read_text().splitlines() == ahead_and_freeze + prepared_again
    with sqlite3.connect(db) as connection:
        stored = connection.execute(
            "SELECT DISTINCT user_name, recorded_at FROM audit_log WHERE action = 'insert'"
        ).fetchall()
    assert stored == [(user, audit.timestamp(now))]
    assert audit.verify(db).ok
    if differs == "schema":  # the usual way wrote what the staged copy writes
        copy = tmp_path / "copy.db"
        imported(demo_registry_files(), copy)
        with sqlite3.connect(db) as connection:
            connection.execute("DROP INDEX ix_extra")
        assert dump_digest(db) == dump_digest(copy)


def test_the_digest_sees_one_changed_byte(tmp_path: Path) -> None:
    """Negative control: one character of one audit entry, or one stored value, changed."""
    db = tmp_path / "registry.db"
    expected = json.loads(DIGESTS.read_text())["1"]
    assert imported(demo_registry_files(), db) == expected
    for change in (
        "UPDATE audit_log SET new_value = new_value || ' ' WHERE seq = 200",
        "UPDATE lesions SET size_cm = size_cm + 1e-12 WHERE rowid = 3",
    ):
        copy = tmp_path / "copy.db"
        copy.write_bytes(db.read_bytes())
        with sqlite3.connect(copy) as connection:
            assert connection.execute(change).rowcount == 1
        assert dump_digest(copy)["sha256"] != expected["sha256"]
        copy.unlink()


def _broken(folder: Path, out: Path, edits: dict[str, tuple[str, str]]) -> Path:
    out.mkdir()
    for source in folder.glob("*.csv"):
        text = source.read_text(encoding="utf-8")
        if source.name in edits:
            old, new = edits[source.name]
            assert old in text
            text = text.replace(old, new, 1)
        (out / source.name).write_text(text, encoding="utf-8")
    return out


@pytest.mark.parametrize(
    "edits",
    [
        {  # cells broken in a table checked by each process, and a rule across tables
            "assessments.csv": (",CT,", ",XR,"),
            "patients.csv": (",male,", ",mael,"),
            "patient_events.csv": (",death,", ",died,"),
        },
        {"assessments.csv": (",CT,", ',"CT\n,')},  # a file read with a problem: all here
    ],
    ids=["cells", "reading"],
)
def test_a_refused_import_lists_the_same_problems_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: dict[str, tuple[str, str]]
) -> None:
    folder = _broken(copies_of_demo(3, tmp_path / "csv"), tmp_path / "broken", edits)
    found = []
    for shared in (10**12, 0):
        monkeypatch.setattr(validation, "SHARED_BYTES", shared)
        with pytest.raises(validation.ImportRejected) as refused:
            validation.validate_files(folder)
        found.append([str(p) for p in refused.value.problems])
    assert found[0] == found[1]
    assert len(found[0]) >= len(edits)
