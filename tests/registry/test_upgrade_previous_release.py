"""A registry made by the release before the audit trail (schema 0001) upgrades with its data
intact and an audit chain that verifies; the next update then works.

``data/registry-0001.db`` was written by rtoutcomes at commit 9fd44a6 (schema 0001):
``import_registry(demo_registry_files(), path)``, then checkpointed into one file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rtoutcomes.demo import demo_registry_files
from rtoutcomes.registry import audit
from rtoutcomes.registry.changes import ChangeSet, apply_changes
from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.migrate import current_revision, head_revision, init_registry
from rtoutcomes.registry.tables import read_rows

FIXTURE = Path(__file__).resolve().parent / "data" / "registry-0001.db"


def test_previous_release_registry_upgrades_intact(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, db)
    engine = make_engine(db)
    assert current_revision(engine) == "0001"
    engine.dispose()
    assert init_registry(db) == head_revision()
    fresh = tmp_path / "fresh.db"
    import_registry(demo_registry_files(), fresh)
    upgraded = read_rows(db)
    assert upgraded == read_rows(fresh)
    assert sum(len(r) for r in upgraded.values()) > 500
    verification = audit.verify(db)
    assert verification.ok, verification.first_break
    entries = audit.list_entries(db)
    assert len(entries) == sum(len(r) for r in upgraded.values())
    assert {e.batch for e in entries} == {1}
    assert entries[0].command == "rtoutcomes init (upgrade to the audit trail)"
    lesion = upgraded["lesions"][0]
    change = ChangeSet(rows={"lesions": [{"lesion_id": lesion["lesion_id"], "size_cm": 3.3}]})
    report = apply_changes(db, change, reason="first change after the upgrade")
    assert report.batch == 2
    assert audit.verify(db).ok
