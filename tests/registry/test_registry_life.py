"""A scripted month of registry life on the demo registry, through the command line: freeze,
an update with new scans, a death, a corrected lesion size (with reason) and a new patient;
the dry run shows exactly those changes; the audit shows the correction; the frozen state
exports and analyses exactly as it did before the update."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from rtoutcomes.cli import main
from rtoutcomes.demo import demo_registry_files

STUDY = """\
title: A month of registry life
endpoints: {OS: {}}
"""
CORRECTED = ("DEMO-L002", "4.4", "4.6")
REASON = "size re-measured on the planning CT"


def _read(folder: Path, table: str) -> list[dict[str, str]]:
    with open(folder / f"{table}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(folder: Path, table: str, rows: list[dict[str, str]]) -> None:
    with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _month_files(demo: Path, folder: Path) -> dict[str, list[str]]:
    """The month's files; returns the keys each table should gain."""
    folder.mkdir()
    events = _read(demo, "patient_events")
    dead = {e["patient_id"] for e in events if e["event_type"] == "death"}
    patient = next(p["patient_id"] for p in _read(demo, "patients") if p["patient_id"] not in dead)
    lesions = [x["lesion_id"] for x in _read(demo, "lesions") if x["patient_id"] == patient]
    dates = [e["event_date"] for e in events if e["patient_id"] == patient]
    dates += [a["assessment_date"] for a in _read(demo, "assessments") if a["lesion_id"] in lesions]
    for table, column in (
        ("toxicities", "onset_date"),
        ("systemic_therapies", "start_date"),
        ("systemic_therapies", "end_date"),
    ):
        dates += [r[column] for r in _read(demo, table) if r["patient_id"] == patient]
    last = max(d for d in dates if d)
    year = int(last[:4]) + 1
    _write(
        folder,
        "assessments",
        [
            {
                "assessment_id": "DEMO-A9001",
                "lesion_id": lesions[0],
                "assessment_date": f"{year}-02-01",
                "modality": "CT",
                "longest_diameter_mm": "20",
            },
            {
                "assessment_id": "DEMO-A9002",
                "lesion_id": lesions[0],
                "assessment_date": f"{year}-05-03",
                "modality": "MRI",
                "longest_diameter_mm": "",
            },
        ],
    )
    _write(
        folder,
        "patient_events",
        [
            {
                "event_id": "DEMO-E9001",
                "patient_id": patient,
                "event_type": "death",
                "event_date": f"{year}-06-20",
                "progression_type": "",
                "lesion_id": "",
            }
        ],
    )
    lesion, _, new_size = CORRECTED
    first = _read(demo, "patients")[0]["patient_id"]
    new_lesion = next(r for r in _read(demo, "lesions") if r["patient_id"] == first)
    course = next(
        r for r in _read(demo, "sbrt_courses") if r["lesion_id"] == new_lesion["lesion_id"]
    )
    _write(
        folder,
        "lesions",
        [
            {
                "lesion_id": lesion,
                "patient_id": "",
                "site_category": "",
                "site_detail": "",
                "size_cm": new_size,
            },
            dict(new_lesion, lesion_id="DEMO-L900", patient_id="DEMO-P900"),
        ],
    )
    _write(folder, "sbrt_courses", [dict(course, course_id="DEMO-C900", lesion_id="DEMO-L900")])
    _write(folder, "patients", [dict(_read(demo, "patients")[0], patient_id="DEMO-P900")])
    _write(
        folder,
        "screened_candidates",
        [
            {
                "candidate_id": "DEMO-S900",
                "screening_date": course["start_date"],
                "eligible": "yes",
                "exclusion_reason": "",
                "patient_id": "DEMO-P900",
            }
        ],
    )
    (folder / "notes.csv").write_text("note\nDecember follow-up entered by JD\n", "utf-8")
    return {
        "assessments": ["DEMO-A9001", "DEMO-A9002"],
        "patient_events": ["DEMO-E9001"],
        "patients": ["DEMO-P900"],
        "lesions": ["DEMO-L900"],
        "sbrt_courses": ["DEMO-C900"],
        "screened_candidates": ["DEMO-S900"],
    }


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_month_of_registry_life(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "registry.db")
    demo = demo_registry_files()
    study = tmp_path / "study.yaml"
    study.write_text(STUDY, encoding="utf-8")
    assert main(["import", str(demo), "--db", db, "--user", "dm"]) == 0
    assert main(["freeze", "--db", db, "--label", "month-0", "--reason", "baseline"]) == 0
    assert main(["export", "--db", db, "--out", str(tmp_path / "export-then")]) == 0
    assert (
        main(["run", str(study), "--db", db, "--out", str(tmp_path / "run-then"), "--quiet"]) == 0
    )
    capsys.readouterr()

    added = _month_files(demo, tmp_path / "month-1")
    month = str(tmp_path / "month-1")
    assert main(["import", month, "--db", db, "--update", "--dry-run", "--json"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert preview["written"] is False and preview["reason_needed"] is True
    assert preview["ignored"] == ["notes.csv (not a registry table)"]
    changes = {
        name: (t["added"], t["changed"], t["deleted"]) for name, t in preview["tables"].items()
    }
    lesion, old_size, new_size = CORRECTED
    assert changes == {
        "patients": (added["patients"], [], []),
        "screened_candidates": (added["screened_candidates"], [], []),
        "lesions": (
            added["lesions"],
            [{"key": lesion, "column": "size_cm", "old": old_size, "new": new_size}],
            [],
        ),
        "sbrt_courses": (added["sbrt_courses"], [], []),
        "assessments": (added["assessments"], [], []),
        "patient_events": (added["patient_events"], [], []),
    }
    assert main(["export", "--db", db, "--out", str(tmp_path / "export-dry")]) == 0
    assert _files(tmp_path / "export-dry") == _files(tmp_path / "export-then")

    assert main(["import", month, "--db", db, "--update"]) == 2  # a correction needs a reason
    assert "--reason" in capsys.readouterr().err
    assert (
        main(["import", month, "--db", db, "--update", "--reason", REASON, "--user", "jdoe"]) == 0
    )
    assert "written as batch 3" in capsys.readouterr().out

    assert main(["audit", "--db", db, "--record", f"lesions:{lesion}", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)["entries"]
    assert [(e["action"], e["user"]) for e in entries] == [("insert", "dm"), ("update", "jdoe")]
    correction = entries[1]
    assert (correction["column"], correction["old"], correction["new"], correction["reason"]) == (
        "size_cm",
        float(old_size),
        float(new_size),
        REASON,
    )
    assert main(["audit", "--db", db, "--verify"]) == 0
    assert "audit trail verified" in capsys.readouterr().out

    assert (
        main(["export", "--db", db, "--out", str(tmp_path / "export-as-of"), "--as-of", "month-0"])
        == 0
    )
    assert _files(tmp_path / "export-as-of") == _files(tmp_path / "export-then")
    assert main(["export", "--db", db, "--out", str(tmp_path / "export-now")]) == 0
    assert _files(tmp_path / "export-now") != _files(tmp_path / "export-then")

    assert (
        main(
            [
                "run",
                str(study),
                "--db",
                db,
                "--out",
                str(tmp_path / "run-as-of"),
                "--as-of",
                "month-0",
                "--quiet",
            ]
        )
        == 0
    )
    then = (tmp_path / "run-then" / "results.json").read_bytes()
    assert (tmp_path / "run-as-of" / "results.json").read_bytes() == then
    state = json.loads(then)["provenance"]["registry_state"]
    assert state["label"] == "month-0" and state["batch"] == 2
    assert main(["run", str(study), "--db", db, "--out", str(tmp_path / "run-now"), "--quiet"]) == 0
    now = json.loads((tmp_path / "run-now" / "results.json").read_bytes())
    assert now["provenance"]["registry_state"]["batch"] == 3
    assert now["endpoints"]["OS"] != json.loads(then)["endpoints"]["OS"]  # the death counts
