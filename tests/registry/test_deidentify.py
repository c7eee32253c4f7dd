"""De-identified export (``export --deidentify --key-file``): the same study numbers, no PHI.

* Round trip: the demo registry (with an earlier data cut-off, so that it censors) exported
  de-identified, imported into a new database and run through the model study gives the same
  results.json endpoints and cohort tables as the original; a negative control (the per-patient
  cut-off dropped) does not.
* PHI canaries: names and record numbers in every free-text field, a birth date and the original
  ids appear in no byte of any output (the export's CSV and XLSX, and the study's HTML, JSON,
  CSV, XLSX, DOCX, SVG and PNG files, zip members read one by one).
* Keys: made 0600, never overwritten, refused when readable by others; the same key gives the
  same bytes, another key other pseudonyms.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from rtoutcomes.cli import main
from rtoutcomes.demo import demo_registry_files
from rtoutcomes.io.keyfile import KeyFileError, init_key, read_key
from rtoutcomes.registry.deidentify import AGE_TOP_CODE, deidentify_rows
from rtoutcomes.registry.export import export_registry, write_rows
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.tables import read_rows

STUDY = (
    Path(__file__).resolve().parents[2] / "src" / "rtoutcomes" / "study" / "data" / "feng2022.yaml"
)
CUTOFF = "2019-09-30"  # earlier than the demo's own (after every first course): it censors
CANARY_NAME = "Canary Jonathan Smithers"
CANARY_MRN = "MRN 4815162342"
CANARY_BIRTH = "1941-07-19"


def _edit_csv(path: Path, edit: Any) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    edit(rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _registry(tmp_path: Path, canaries: bool) -> Path:
    """The demo registry's files with an earlier cut-off (and PHI canaries)."""
    folder = tmp_path / "registry-files"
    shutil.copytree(demo_registry_files(), folder)

    def meta(rows: list[dict[str, str]]) -> None:
        for row in rows:
            if row["key"] == "data_cutoff_date":
                row["value"] = CUTOFF
            if canaries and row["key"] in ("name", "description"):
                row["value"] += f" {CANARY_NAME} {CANARY_MRN}"

    _edit_csv(folder / "registry_meta.csv", meta)
    if canaries:

        def patients(rows: list[dict[str, str]]) -> None:
            rows[0]["primary_site"] = f"thigh, {CANARY_NAME}"
            rows[0]["histology_subtype"] = f"leiomyosarcoma (patient {CANARY_NAME}, {CANARY_MRN})"
            rows[1]["birth_date"], rows[1]["age_at_sbrt_years"] = CANARY_BIRTH, ""

        def lesions(rows: list[dict[str, str]]) -> None:
            for row in rows:
                row["site_detail"] = f"{CANARY_MRN} left"

        def therapies(rows: list[dict[str, str]]) -> None:
            for row in rows:
                row["agent"] = f"doxorubicin for {CANARY_NAME}"

        _edit_csv(folder / "patients.csv", patients)
        _edit_csv(folder / "lesions.csv", lesions)
        _edit_csv(folder / "systemic_therapies.csv", therapies)
    return folder


def _same(ours: Any, theirs: Any, where: str) -> None:
    """Equal structure and text; numbers equal to 1e-9 relative (rows come in another order
    after pseudonymisation, so sums may differ in the last of results.json's 12 digits)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and ours.keys() == theirs.keys(), where
        for k in theirs:
            _same(ours[k], theirs[k], f"{where}/{k}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, float) and not isinstance(ours, bool):
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-300), where
    else:
        assert ours == theirs, where


def _run_study(db: Path, out: Path) -> dict[str, Any]:
    assert main(["run", str(STUDY), "--db", str(db), "--out", str(out), "--quiet"]) == 0
    results: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return results


@pytest.fixture
def key(tmp_path: Path) -> Path:
    return init_key(tmp_path / "secret.key")


def _deidentified_db(source: Path, key: Path, tmp_path: Path, name: str) -> Path:
    out = tmp_path / f"{name}-files"
    assert (
        main(
            [
                "export",
                "--db",
                str(source),
                "--out",
                str(out),
                "--deidentify",
                "--key-file",
                str(key),
            ]
        )
        == 0
    )
    db = tmp_path / f"{name}.db"
    import_registry(out, db)
    return db


def test_study_numbers_are_unchanged_by_deidentification(tmp_path: Path, key: Path) -> None:
    original = tmp_path / "original.db"
    import_registry(_registry(tmp_path, canaries=False), original)
    before = _run_study(original, tmp_path / "before")
    after = _run_study(_deidentified_db(original, key, tmp_path, "deid"), tmp_path / "after")
    _same(after["endpoints"], before["endpoints"], "endpoints")
    for part in ("flow", "table1", "table2", "toxicity"):
        _same(after["cohort"][part], before["cohort"][part], part)
    assert after["cohort"]["registry"]["name"] == "de-identified registry"
    # the cut-off censors some follow-up, so the per-patient cut-off is what keeps the numbers
    rows = read_rows(original)
    deidentified, _ = deidentify_rows(rows, read_key(key))
    for patient in deidentified["patients"]:
        patient["data_cutoff_date"] = None  # negative control: the cut-off lost
    control_files = tmp_path / "control-files"
    write_rows(deidentified, control_files)
    control_db = tmp_path / "control.db"
    import_registry(control_files, control_db)
    control = _run_study(control_db, tmp_path / "control")
    with pytest.raises(AssertionError):
        _same(control["endpoints"], before["endpoints"], "endpoints")


def _all_bytes(folder: Path) -> list[tuple[str, bytes]]:
    """Every file of a folder tree, zip archives (docx, xlsx) opened member by member."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found.append((str(path), data))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                found += [(f"{path}!{m}", archive.read(m)) for m in archive.namelist()]
    return found


def test_no_canary_original_id_or_birth_date_in_any_output(tmp_path: Path, key: Path) -> None:
    original = tmp_path / "original.db"
    import_registry(_registry(tmp_path, canaries=True), original)
    export_csv = tmp_path / "export-csv"
    export_registry(original, export_csv, "csv", key_file=key)
    export_xlsx = tmp_path / "export-xlsx"
    export_registry(original, export_xlsx, "xlsx", key_file=key)
    db = tmp_path / "deid.db"
    import_registry(export_csv, db)
    report = tmp_path / "report"
    _run_study(db, report)
    originals = {str(r["patient_id"]) for r in read_rows(original)["patients"]}
    forbidden = [
        CANARY_NAME,
        "Jonathan",
        CANARY_MRN,
        "4815162342",
        CANARY_BIRTH,
        "DEMO-",
        *sorted(originals)[:5],
    ]
    checked = 0
    for name, data in [*_all_bytes(export_csv), *_all_bytes(export_xlsx), *_all_bytes(report)]:
        for canary in forbidden:
            assert canary.encode() not in data, f"{canary!r} in {name}"
            assert canary.encode("utf-16-le") not in data, f"{canary!r} (UTF-16) in {name}"
        checked += 1
    assert checked > 20
    # negative control: the same scan finds the canaries in a plain export
    plain = tmp_path / "plain"
    export_registry(original, plain)
    assert any(CANARY_NAME.encode() in data for _, data in _all_bytes(plain))


def test_dates_are_shifted_per_patient_and_intervals_kept(tmp_path: Path, key: Path) -> None:
    original = tmp_path / "original.db"
    import_registry(_registry(tmp_path, canaries=True), original)
    rows = read_rows(original)
    deid, summary = deidentify_rows(rows, read_key(key))
    by_old = {r["patient_id"]: r for r in rows["patients"]}
    shifts = set()
    new_patients = {r["patient_id"]: r for r in deid["patients"]}
    from rtoutcomes.registry.deidentify import _Keyed

    keyed = _Keyed(read_key(key))
    for old_id, old in by_old.items():
        new = new_patients[keyed.pseudonym("patients.patient_id", old_id)]
        shift = old["diagnosis_date"] - new["diagnosis_date"]
        assert dt.timedelta(days=1) <= shift <= dt.timedelta(days=364)
        assert new["data_cutoff_date"] == dt.date.fromisoformat(CUTOFF) - shift
        assert new["birth_date"] is None
        shifts.add(shift)
    assert len(shifts) > 10  # per patient, not one offset for all
    canary = new_patients[keyed.pseudonym("patients.patient_id", rows["patients"][1]["patient_id"])]
    assert canary["age_at_sbrt_years"] is not None  # computed from the removed birth date
    assert summary.dates_shifted > 100
    assert not any("DEMO" in str(v) for t in deid.values() for r in t for v in r.values())


def test_age_top_coded_at_90(tmp_path: Path, key: Path) -> None:
    original = tmp_path / "original.db"
    folder = _registry(tmp_path, canaries=False)
    _edit_csv(folder / "patients.csv", lambda rows: rows[0].update(age_at_sbrt_years="97"))
    import_registry(folder, original)
    deid, summary = deidentify_rows(read_rows(original), read_key(key))
    assert max(r["age_at_sbrt_years"] for r in deid["patients"]) == AGE_TOP_CODE
    assert summary.ages_top_coded == 1


def test_same_key_same_bytes_other_key_other_pseudonyms(tmp_path: Path, key: Path) -> None:
    original = tmp_path / "original.db"
    import_registry(_registry(tmp_path, canaries=False), original)
    a, b = tmp_path / "a", tmp_path / "b"
    export_registry(original, a, key_file=key)
    export_registry(original, b, key_file=key)
    assert _all_bytes(a)[0][1] == _all_bytes(b)[0][1]
    assert all(x[1] == y[1] for x, y in zip(_all_bytes(a), _all_bytes(b), strict=True))
    other = init_key(tmp_path / "other.key")
    c = tmp_path / "c"
    export_registry(original, c, key_file=other)
    assert (a / "patients.csv").read_bytes() != (c / "patients.csv").read_bytes()


def test_key_files(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "k"
    assert main(["init-key", str(path)]) == 0
    assert (path.stat().st_mode & 0o777) == 0o600
    assert len(read_key(path)) == 32
    assert main(["init-key", str(path)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="accessible by others"):
        read_key(path)
    bad = tmp_path / "bad"
    bad.write_text("not a key\n")
    os.chmod(bad, 0o600)
    with pytest.raises(KeyFileError, match="not a key"):
        read_key(bad)
    with pytest.raises(KeyFileError, match="no such key file"):
        read_key(tmp_path / "missing")


def test_export_refuses_a_shared_key_before_writing(tmp_path: Path, key: Path, capsys: Any) -> None:
    original = tmp_path / "original.db"
    import_registry(_registry(tmp_path, canaries=False), original)
    os.chmod(key, 0o640)
    out = tmp_path / "out"
    assert (
        main(
            [
                "export",
                "--db",
                str(original),
                "--out",
                str(out),
                "--deidentify",
                "--key-file",
                str(key),
            ]
        )
        == 2
    )
    assert "chmod 600" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    assert main(["export", "--db", str(original), "--out", str(out), "--deidentify"]) == 2
