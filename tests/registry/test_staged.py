"""A first import staged in scratch files (``registry/staged.py``): the rows' scratch file
enforces the registry's foreign keys (the copy into the registry does not repeat it), and the
scratch files are gone when an import ends, written or refused."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from mini_registry import mini_registry, write_csv_folder

from rtoutcomes.registry import changes, staged, validation
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.validation import ImportRejected

LESION = (
    "INSERT INTO lesions (lesion_id, patient_id, site_category, size_cm) "
    "VALUES ('L1', 'P1', 'lung', 2.0)"
)
PATIENT = (
    "INSERT INTO patients (patient_id, sex, age_at_sbrt_years, diagnosis_date, "
    "histology_subtype, who_family, disease_setting, lesions_at_first_sbrt) VALUES "
    "('P1', 'female', 60, '2020-01-01', 'leiomyosarcoma', 'smooth muscle tumours', "
    "'recurrence', 1)"
)


def record_stages(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What each ``AuditAhead.stage`` call returned (``None``: not staged), in order."""
    stages: list[object] = []
    stage = changes.AuditAhead.stage

    def recorded(self: changes.AuditAhead, *args: object) -> object:
        stages.append(stage(self, *args))  # type: ignore[arg-type]
        return stages[-1]

    monkeypatch.setattr(changes.AuditAhead, "stage", recorded)
    return stages


@pytest.mark.parametrize("parent", [False, True], ids=["no patient", "control: its patient"])
def test_the_rows_scratch_file_enforces_foreign_keys(tmp_path: Path, parent: bool) -> None:
    """A lesion whose patient is not there is refused in the rows' scratch file, as in the
    registry (the control: with its patient first, it goes in)."""
    if not parent:
        with (
            pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"),
            staged.scratch(tmp_path / "rows.db") as connection,
        ):
            connection.exec_driver_sql(LESION)
        return
    with staged.scratch(tmp_path / "rows.db") as connection:
        connection.exec_driver_sql(PATIENT)
        connection.exec_driver_sql(LESION)
        assert connection.exec_driver_sql("SELECT count(*) FROM lesions").scalar() == 1


@pytest.mark.parametrize("refused", [False, True], ids=["written", "refused"])
def test_no_scratch_file_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    """The import staged at the mini registry's size (the folder read by two processes, the
    batch prepared and staged by a forked one): its scratch folder is gone afterwards, and a
    refused import (a rule across tables, found after the batch was started) leaves no
    registry file either."""
    monkeypatch.setattr(validation, "SHARED_BYTES", 0)
    monkeypatch.setattr(changes, "FORK_ENTRIES", 1)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    stages = record_stages(monkeypatch)
    tables = mini_registry()
    if refused:  # a lesion's patient that is not in the registry: found across tables
        tables["lesions"][0]["patient_id"] = "NOBODY"
    folder = write_csv_folder(tables, tmp_path / "csv")
    db = tmp_path / "registry.db"
    now = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    if refused:
        with pytest.raises(ImportRejected, match="NOBODY"):
            import_registry(folder, db, user="tester", now=now)
        assert not db.exists() and stages == []
    else:
        import_registry(folder, db, user="tester", now=now)
        assert len(stages) == 1 and stages[0] is not None
    assert list(scratch.iterdir()) == []


def test_an_import_whose_scratch_files_cannot_be_written_is_written_the_usual_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scratch file that cannot be written (here: every one, as on a full temporary
    folder) leaves the import to the usual way, which writes the same registry (the digest
    of three copies of the demo registry); the control is the staged import's digest in
    tests/registry/test_import_identical.py."""
    import json

    from test_import_identical import DIGESTS, copies_of_demo, imported

    monkeypatch.setattr(validation, "SHARED_BYTES", 0)
    monkeypatch.setattr(changes, "FORK_ENTRIES", 1)

    def full(path: Path) -> object:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(staged, "scratch", full)
    stages = record_stages(monkeypatch)
    folder = copies_of_demo(3, tmp_path / "csv")
    assert imported(folder, tmp_path / "registry.db") == json.loads(DIGESTS.read_text())["3"]
    assert stages == [None]
