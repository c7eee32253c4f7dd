"""The import is one transaction: a database trigger that refuses the last table with rows
leaves every table empty (an import writing table by table would leave the earlier ones)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
