"""A department's DICOM export folder made from breast-boost, and a registry it belongs to.

Each case is a copy of the Eclipse breast-boost plan under a demo patient's PatientID with new
UIDs (``derive_plan``); the expected outcome of ``dosimetry-import`` is stated per case.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pydicom

from rtoutcomes.demo import demo_registry_files
from rtoutcomes.io.dicom_rt_synthetic import derive_plan

NO_TARGET = {"Breast": "Mamma", "Tumor Bed": "Cavity", "Tumor Bed Block": "Boost region"}

#: case -> (demo patient, derive_plan keywords)
CASES: dict[str, tuple[str, dict[str, object]]] = {
    # stored: prescription and date fit DEMO-RT001 (50 Gy/5 Fx from 2010-01-25)
    "A": (
        "DEMO-P001",
        {
            "prescription_gy": 50,
            "fractions": 5,
            "plan_date": "20100120",
            "scale_dose": True,
            "prescription_name": "Tumor Bed",
        },
    ),
    # stored: four BEAM doses summed, DEMO-RT002 (45 Gy/5 Fx)
    "B": (
        "DEMO-P002",
        {
            "prescription_gy": 45,
            "fractions": 5,
            "scale_dose": True,
            "prescription_name": "Tumor Bed",
            "beam_doses": True,
        },
    ),
    # unmatched: 14 Gy/7 Fx against DEMO-RT003's 60 Gy/5 Fx
    "C": ("DEMO-P003", {}),
    # refused: no ROI is called as the prescription says, and none matches the patterns
    "D": (
        "DEMO-P004",
        {"prescription_gy": 45, "fractions": 5, "scale_dose": True, "rename_rois": NO_TARGET},
    ),
    # orphan RTDOSE: its plan is not exported
    "E": ("DEMO-P005", {"prescription_gy": 54, "fractions": 3, "scale_dose": True}),
    # conflicting UID: a second, different file under the plan's SOP Instance UID
    "F": ("DEMO-P007", {"prescription_gy": 50, "fractions": 5, "scale_dose": True}),
    # stored with a warning: the prescription names Breast, coverage ~15 % (DEMO-RT010)
    "G": ("DEMO-P008", {"prescription_gy": 30, "fractions": 3, "scale_dose": True}),
    # refused: DEMO-RT011 keeps its planning-system dosimetry (no --replace)
    "H": (
        "DEMO-P009",
        {
            "prescription_gy": 45,
            "fractions": 5,
            "scale_dose": True,
            "prescription_name": "Tumor Bed",
        },
    ),
    # unmatched: two plans fit DEMO-RT007 (50 Gy/5 Fx) of DEMO-P006
    "I1": (
        "DEMO-P006",
        {
            "prescription_gy": 50,
            "fractions": 5,
            "scale_dose": True,
            "prescription_name": "Tumor Bed",
        },
    ),
    "I2": (
        "DEMO-P006",
        {
            "prescription_gy": 50,
            "fractions": 5,
            "scale_dose": True,
            "prescription_name": "Tumor Bed",
        },
    ),
    # stored, the dose linked to its plan by Study UID (no ReferencedRTPlanSequence)
    "J": (
        "DEMO-P010",
        {
            "prescription_gy": 45,
            "fractions": 5,
            "scale_dose": True,
            "prescription_name": "Tumor Bed",
        },
    ),
}
STORED = {"DEMO-RT001", "DEMO-RT002", "DEMO-RT010", "DEMO-RT012"}
KEEPS_TPS = "DEMO-RT011"


def build_tree(breast_boost: Path, root: Path) -> dict[str, dict[str, str]]:
    """Write the export folder under ``root``; returns the new UIDs per case."""
    uids = {}
    for case, (patient, keywords) in CASES.items():
        uids[case] = derive_plan(
            breast_boost,
            root / patient / case,
            seed=f"tree-{case}",
            patient_id=patient,
            **keywords,  # type: ignore[arg-type]
        )
    shutil.copy(root / "DEMO-P001" / "A" / "rtdose.dcm", root / "DEMO-P001" / "copy-of-dose.dcm")
    (root / "DEMO-P005" / "E" / "rtplan.dcm").unlink()
    conflict = pydicom.dcmread(root / "DEMO-P007" / "F" / "rtplan.dcm")
    conflict.RTPlanLabel = "changed"
    (root / "elsewhere").mkdir()
    conflict.save_as(root / "elsewhere" / "plan.dcm")
    dose = pydicom.dcmread(root / "DEMO-P010" / "J" / "rtdose.dcm")
    del dose.ReferencedRTPlanSequence
    dose.save_as(root / "DEMO-P010" / "J" / "rtdose.dcm")
    (root / "notes.txt").write_text("not DICOM", encoding="utf-8")
    return uids


def registry_folder(out: Path) -> Path:
    """The demo registry's CSV files without the planning-system dosimetry of the courses the
    tree stores (so that only DEMO-RT011 keeps its TPS row among them)."""
    out.mkdir(parents=True)
    for file in Path(demo_registry_files()).glob("*.csv"):
        shutil.copy(file, out / file.name)
    path = out / "dosimetry.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    drop = STORED | {"DEMO-RT003", "DEMO-RT004", "DEMO-RT005", "DEMO-RT007", "DEMO-RT009"}
    kept = [r for r in rows if r["course_id"] not in drop]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    return out


def breast_boost_registry(folder: Path, db_url: str, work: Path, course_id: str) -> Path:
    """The demo registry (``registry_folder``) in ``db_url`` and a map file that maps the
    breast-boost export in ``folder`` to ``course_id`` with target Tumor Bed; returns the map."""
    from rtoutcomes.registry.importer import import_registry

    plan = pydicom.dcmread(folder / "rtplan.dcm", stop_before_pixels=True)
    import_registry(registry_folder(work / "csv"), db_url)
    map_file = work / "map.csv"
    map_file.write_text(
        f"rtplan_uid,course_id,target\n{plan.SOPInstanceUID},{course_id},Tumor Bed\n",
        encoding="utf-8",
    )
    return map_file
