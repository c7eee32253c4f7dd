"""Tampering with the audit trail or the registry behind rtoutcomes' back is reported by
``audit --verify`` with the place it first shows; the same script gives the same ``audit --json``
bytes on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from mini_registry import mini_registry, write_csv_folder

from rtoutcomes.cli import main
from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry import audit
from rtoutcomes.registry.changes import ChangeSet, apply_changes, freeze
from rtoutcomes.registry.database import make_engine
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.tables import read_rows

T0 = dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)


def _scripted_history(db_url: str, folder: Path) -> None:
    """A first import, a correction, an addition, a deletion and a freeze, at fixed times."""
    import_registry(
        write_csv_folder(mini_registry(), folder), db_url, user="dm", command="import", now=T0
    )
    apply_changes(
        db_url,
        ChangeSet(rows={"lesions": [{"lesion_id": "L02", "size_cm": 2.4}]}),
        user="md",
        reason="re-measured",
        command="update",
        now=T0 + dt.timedelta(days=30),
    )
    apply_changes(
        db_url,
        ChangeSet(
            rows={
                "assessments": [
                    {
                        "assessment_id": "A90",
                        "lesion_id": "L02",
                        "assessment_date": "2020-03-01",
                        "modality": "CT",
                        "longest_diameter_mm": "14.5",
                        "new_lesions": "no",
                    }
                ]
            },
            deletes={"assessments": ["A05"]},
        ),
        user="md",
        reason="scan entered on wrong lesion",
        command="update",
        now=T0 + dt.timedelta(days=31),
    )
    freeze(db_url, "paper-1", user="md", reason="submitted", now=T0 + dt.timedelta(days=32))


@pytest.fixture
def history(db_url: str, tmp_path: Path) -> str:
    _scripted_history(db_url, tmp_path / "mini")
    assert audit.verify(db_url).ok
    return db_url


def _sql(db_url: str, *statements: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


def _break(db_url: str) -> str:
    result = audit.verify(db_url)
    assert not result.ok
    return str(result.first_break)


def test_edited_audit_row_is_reported(history: str) -> None:
    _sql(
        history,
        "UPDATE audit_log SET new_value = '2.9' WHERE table_name = 'lesions' "
        "AND record_key = 'L02' AND action = 'update'",
    )
    seq = [e.seq for e in audit.list_entries(history, record="lesions:L02")][-1]
    assert _break(history) == (
        f"audit entry {seq} (batch 2): its content does not match its hash (edited)"
    )


def test_edited_audit_row_with_recomputed_hash_breaks_the_next_link(history: str) -> None:
    """Rewriting an entry's own hash too is caught by the next entry's link."""
    entries = audit.list_entries(history)
    target = next(e for e in entries if e.action == "update")
    forged = audit.AuditEntry(**{**target.__dict__, "reason": "typo", "entry_hash": ""})
    _sql(
        history,
        f"UPDATE audit_log SET reason = 'typo', entry_hash = "
        f"'{forged.computed_hash()}' WHERE seq = {target.seq}",
    )
    assert _break(history) == (
        f"audit entry {target.seq + 1} (batch {entries[target.seq].batch}): does not follow the "
        "previous entry (entries deleted, inserted or reordered)"
    )


def test_deleted_audit_row_is_reported(history: str) -> None:
    _sql(history, "DELETE FROM audit_log WHERE seq = 7")
    assert _break(history) == (
        "audit entry 8 (batch 1): entry 7 is missing (entries deleted or reordered)"
    )


def test_deleted_last_audit_row_is_reported(history: str) -> None:
    last = audit.list_entries(history)[-1].seq
    _sql(history, f"DELETE FROM audit_log WHERE seq = {last}")
    assert _break(history).startswith(
        f"end of the audit trail: the chain ends at entry {last - 1} but the recorded head is "
        f"entry {last}"
    )


def test_swapped_audit_rows_are_reported(history: str) -> None:
    _sql(
        history,
        "UPDATE audit_log SET seq = -1 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = -1",
    )
    assert _break(history) == (
        "audit entry 3 (batch 1): does not follow the previous entry (entries deleted, "
        "inserted or reordered)"
    )


def test_registry_row_deleted_by_sql_is_reported(history: str) -> None:
    _sql(history, "DELETE FROM toxicities WHERE toxicity_id = 'T02'")
    assert _break(history) == (
        "registry table toxicities, T02: row in the audit trail but not "
        "in the registry (deleted outside rtoutcomes)"
    )


def test_untouched_history_verifies(history: str) -> None:
    """The negative control of the tests above: no tampering, no break."""
    result = audit.verify(history)
    assert result.ok and result.batches == 4


def test_audit_json_same_bytes_on_both_backends(
    sqlite_url: str, postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for url in (sqlite_url, postgres_url):
        _scripted_history(url, tmp_path / f"mini-{len(outputs)}")
        assert main(["audit", "--db", url, "--json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert '"reason": "re-measured"' in outputs[0] and '"label": "paper-1"' in outputs[0]


def test_as_of_label_batch_and_time(history: str, tmp_path: Path) -> None:
    after_import = audit.snapshot(history, "1").rows
    assert audit.snapshot(history, "2026-01-20").rows == after_import
    assert audit.snapshot(history, "2026-01-05T08:30:00Z").rows == after_import
    assert audit.snapshot(history, "2026-01-05T08:29:59Z").rows == {
        name: [] for name in after_import
    }
    corrected = audit.snapshot(history, "2").rows
    lesion = next(r for r in corrected["lesions"] if r["lesion_id"] == "L02")
    assert lesion["size_cm"] == 2.4
    frozen = audit.snapshot(history, "paper-1")
    assert frozen.rows == read_rows(history)
    assert (frozen.state.label, frozen.state.batch) == ("paper-1", 4)
    with pytest.raises(audit.AuditError, match="no batch 9"):
        audit.snapshot(history, "9")
    with pytest.raises(audit.AuditError, match="not a freeze label"):
        audit.snapshot(history, "paper-2")


def test_as_of_refuses_a_broken_chain(history: str) -> None:
    _sql(history, "UPDATE audit_log SET user_name = 'someone' WHERE seq = 2")
    with pytest.raises(audit.AuditError, match="audit entry 2"):
        audit.snapshot(history, "paper-1")


def test_freeze_labels_are_names_and_unique(history: str) -> None:
    with pytest.raises(RtOutcomesError, match="already names"):
        freeze(history, "paper-1")
    for bad in ("12", "2026-01-01", " "):
        with pytest.raises(RtOutcomesError, match="freeze label"):
            freeze(history, bad)


def test_audit_command_lists_and_filters(history: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--db", history, "--since", "2026-02-05"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "batch 3, 2026-02-05T08:30:00.000000Z, md, update; reason: scan entered on wrong lesion\n"
    )
    assert "insert assessments A90" in out and "delete assessments A05" in out
    assert "freeze 'paper-1'" in out and "batch 2" not in out
    assert main(["audit", "--db", history, "--record", "lesions:L02"]) == 0
    out = capsys.readouterr().out
    assert "update lesions L02 size_cm: 2.1 -> 2.4" in out
    assert main(["audit", "--db", history, "--record", "L02"]) == 2
    assert "write TABLE:KEY" in capsys.readouterr().err
    _sql(history, "DELETE FROM audit_log WHERE seq = 7")
    assert main(["audit", "--db", history, "--verify"]) == 2
    assert capsys.readouterr().err == (
        "rtoutcomes audit: error: audit trail broken at audit entry 8 (batch 1): entry 7 is "
        "missing (entries deleted or reordered)\n"
    )
