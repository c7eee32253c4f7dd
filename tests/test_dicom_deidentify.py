"""``dicom-deidentify``: pseudonyms from the key, links kept and checked, nothing original left."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pydicom
import pytest

from rtoutcomes.cli import main
from rtoutcomes.io.dicom_deidentify import DeidentifyError, check_links, deidentify_folder
from rtoutcomes.io.dicom_index import index_folder
from rtoutcomes.io.keyfile import init_key, read_key
from rtoutcomes.registry.deidentify import dicom_identity


def _secret(tmp_path: Path, name: str = "key.txt") -> str:
    return read_key(init_key(tmp_path / name)).hex()


def _dosimetry(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    files = {pydicom.dcmread(f, stop_before_pixels=True).Modality: f for f in folder.rglob("*.dcm")}
    assert (
        main(
            [
                "dosimetry",
                "--rtstruct",
                str(files["RTSTRUCT"]),
                "--rtdose",
                str(files["RTDOSE"]),
                "--rtplan",
                str(files["RTPLAN"]),
                "--json",
            ]
        )
        == 0
    )
    return dict(json.loads(capsys.readouterr().out))


def test_breast_boost_deidentified_still_links_and_computes_the_same(
    breast_boost_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = init_key(tmp_path / "key.txt")
    out = tmp_path / "out"
    assert main(["dicom-deidentify", str(breast_boost_dir), str(out), "--key-file", str(key)]) == 0
    printed = capsys.readouterr().out
    assert "4 DICOM file(s) de-identified, 1 other file(s) not copied; 1 plan link(s)" in printed
    pseudonym, shift = dicom_identity(read_key(key))
    original = index_folder(breast_boost_dir)
    deidentified = index_folder(out)
    assert not set(original.objects) & set(deidentified.objects)
    for header in deidentified.objects.values():
        dataset = pydicom.dcmread(header.path, stop_before_pixels=True)
        assert "boost" not in str(dataset.PatientName).lower()
        # the pseudonym the registry's de-identified export gives patient "123456"
        assert dataset.PatientID == pseudonym("123456") != "123456"
        assert header.path.parent.name == dataset.PatientID
        if header.kind == "RTPLAN":  # 1901-01-01 shifted back as the patient's registry dates
            days = shift("123456")
            assert dataset.RTPlanDate == (dt.date(1901, 1, 1) - dt.timedelta(days=days)).strftime(
                "%Y%m%d"
            )
    assert _dosimetry(out, capsys) == _dosimetry(breast_boost_dir, capsys)

    # the same key gives the same pseudonyms and UIDs; another key other ones
    again = tmp_path / "again"
    deidentify_folder(breast_boost_dir, again, read_key(key).hex())
    assert sorted(index_folder(again).objects) == sorted(deidentified.objects)
    other = tmp_path / "other"
    deidentify_folder(breast_boost_dir, other, _secret(tmp_path, "other.txt"))
    assert not set(index_folder(other).objects) & set(deidentified.objects)


def test_the_link_check_catches_a_broken_reference(breast_boost_dir: Path, tmp_path: Path) -> None:
    """Negative control: one reference rewritten in the output, and the check refuses it."""
    out = tmp_path / "out"
    deidentify_folder(breast_boost_dir, out, _secret(tmp_path))
    check_links(index_folder(breast_boost_dir), index_folder(out))  # passes as written
    dose_path = next(h.path for h in index_folder(out).objects.values() if h.kind == "RTDOSE")
    dose = pydicom.dcmread(dose_path)
    dose.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID = "1.2.3.4"
    dose.StudyInstanceUID = "1.2.3.5"  # no same-study fall-back either
    dose.save_as(dose_path)
    with pytest.raises(DeidentifyError, match="do not link as the originals do"):
        check_links(index_folder(breast_boost_dir), index_folder(out))


def test_bad_key_and_output_are_refused(
    breast_boost_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = tmp_path / "short.txt"
    short.write_text("secret\n", encoding="utf-8")
    short.chmod(0o600)
    assert (
        main(
            [
                "dicom-deidentify",
                str(breast_boost_dir),
                str(tmp_path / "o"),
                "--key-file",
                str(short),
            ]
        )
        == 2
    )
    assert "not a key made by 'rtoutcomes init-key'" in capsys.readouterr().err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x", encoding="utf-8")
    with pytest.raises(DeidentifyError, match="exists and is not empty"):
        deidentify_folder(breast_boost_dir, busy, _secret(tmp_path))
    assert not (tmp_path / "o").exists()
