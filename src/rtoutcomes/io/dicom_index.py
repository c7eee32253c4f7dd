"""Index a folder tree of DICOM RT files by their headers and link dose -> plan -> structure set.

Only headers are read (``stop_before_pixels``): SOP Class and Instance UID, Study UID, PatientID,
the referenced plan and structure set, the dose summation type and the plan's prescription.
Linking follows the referenced SOP Instance UIDs (RTDOSE -> RTPLAN through
ReferencedRTPlanSequence, RTPLAN -> RTSTRUCT through ReferencedStructureSetSequence); when the
referenced object is not in the folder (or not referenced at all), the one object of that kind
in the same study (Study Instance UID) is taken, and the link says so; two or more in the study
is ambiguous and refused. Nothing is ever picked by file time or name.

One UID, one object: several files with the same SOP Instance UID and the same bytes are one
object (counted as duplicates); different bytes under one UID are a conflict, and the UID (with
everything that links to it) is refused.

Dose summation types (PS3.3 C.8.8.3.1): a PLAN dose is the plan's dose; FRACTION is one
fraction's (multiplied by the fractions planned later); BEAM doses of one plan are summed when
every beam of the plan's fraction group has exactly one, all on the same grid (same frame of
reference, shape and voxel positions within 0.001 mm), else the plan is refused with the
reason. A PLAN dose wins over beam doses of the same plan; two PLAN doses of one plan are
ambiguous and refused. Other types (MULTI_PLAN, RECORD, CONTROL_POINT, BRACHY ...) are refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rtoutcomes.io.dicom_rt import (
    RTDOSE_SOP,
    RTPLAN_SOPS,
    RTSTRUCT_SOP,
    DicomRtError,
    PlanPrescription,
    plan_prescription,
)

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = [
    "DicomHeader",
    "DicomIndex",
    "LinkProblem",
    "PlanLink",
    "index_folder",
    "link_plans",
]

#: voxel positions of doses that are summed must agree to this (mm)
GRID_ATOL_MM = 1e-3
#: plan dates before this are anonymisation placeholders (e.g. 1901-01-01), not dates
_FIRST_PLAUSIBLE_DATE = dt.date(1950, 1, 1)


@dataclass(frozen=True)
class DicomHeader:
    """What linking needs of one RT file (read without pixel data)."""

    path: Path
    kind: str  # RTPLAN, RTDOSE or RTSTRUCT
    sop_uid: str
    study_uid: str | None
    patient_id: str | None
    frame_of_reference_uid: str | None
    referenced_plan_uids: tuple[str, ...] = ()
    referenced_structure_set_uids: tuple[str, ...] = ()
    summation_type: str = ""
    referenced_beams: tuple[int, ...] = ()  # a BEAM dose: the beam(s) it is the dose of
    plan_beams: tuple[int, ...] = ()  # an RTPLAN: the beams of its first fraction group
    plan_label: str | None = None
    plan_date: dt.date | None = None
    planning_system: str | None = None
    prescription: PlanPrescription | None = None
    grid_geometry: tuple[object, ...] | None = None  # an RTDOSE: origin, spacing, size, offsets


@dataclass(frozen=True)
class LinkProblem:
    """A file or UID that could not be used, and why (``kind``: a short category)."""

    kind: str
    subject: str
    reason: str


@dataclass
class DicomIndex:
    """Every RT object of a folder tree by SOP Instance UID, and what was left out."""

    root: Path
    objects: dict[str, DicomHeader] = field(default_factory=dict)
    duplicates: dict[str, list[Path]] = field(default_factory=dict)
    problems: list[LinkProblem] = field(default_factory=list)
    other_files: int = 0

    def of_kind(self, kind: str) -> list[DicomHeader]:
        return sorted((h for h in self.objects.values() if h.kind == kind), key=lambda h: h.sop_uid)

    @property
    def duplicate_files(self) -> int:
        return sum(len(paths) for paths in self.duplicates.values())


@dataclass(frozen=True)
class PlanLink:
    """A plan with its structure set and the dose object(s) that make its total dose.

    ``how`` says how each link was made (``referenced UID`` or ``same study``).
    """

    plan: DicomHeader
    structure_set: DicomHeader
    doses: tuple[DicomHeader, ...]
    how: tuple[str, ...] = ()

    @property
    def summation_type(self) -> str:
        return self.doses[0].summation_type


def _text(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _uids(ds: Dataset, sequence: str) -> tuple[str, ...]:
    return tuple(
        str(item.ReferencedSOPInstanceUID)
        for item in ds.get(sequence, [])
        if "ReferencedSOPInstanceUID" in item
    )


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        date = dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return None
    return date if date >= _FIRST_PLAUSIBLE_DATE else None


def _beams_of_dose(ds: Dataset) -> tuple[int, ...]:
    beams: list[int] = []
    for plan in ds.get("ReferencedRTPlanSequence", []):
        for group in plan.get("ReferencedFractionGroupSequence", []):
            for beam in group.get("ReferencedBeamSequence", []):
                if "ReferencedBeamNumber" in beam:
                    beams.append(int(beam.ReferencedBeamNumber))
    return tuple(sorted(beams))


def _system(ds: Dataset) -> str | None:
    parts = [_text(ds, k) for k in ("Manufacturer", "ManufacturerModelName", "SoftwareVersions")]
    text = " ".join(p for p in parts if p)
    return text or None


def read_header(path: Path) -> DicomHeader | None:
    """The linking header of an RT file; ``None`` for a DICOM file that is not RT plan/dose/
    structure set. Raises ``DicomRtError`` for a file that is not DICOM at all or lacks UIDs."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (OSError, InvalidDicomError, ValueError, EOFError) as error:
        raise DicomRtError(f"{path}: cannot read as DICOM ({error})") from error
    sop_class = str(ds.get("SOPClassUID", ""))
    kind = {RTSTRUCT_SOP: "RTSTRUCT", RTDOSE_SOP: "RTDOSE"}.get(sop_class)
    if kind is None and sop_class in RTPLAN_SOPS:
        kind = "RTPLAN"
    if kind is None:
        return None
    uid = _text(ds, "SOPInstanceUID")
    if uid is None:
        raise DicomRtError(f"{path}: {kind} without SOPInstanceUID")
    common = {
        "path": path,
        "kind": kind,
        "sop_uid": uid,
        "study_uid": _text(ds, "StudyInstanceUID"),
        "patient_id": _text(ds, "PatientID"),
        "frame_of_reference_uid": _text(ds, "FrameOfReferenceUID"),
        "referenced_structure_set_uids": _uids(ds, "ReferencedStructureSetSequence"),
        "planning_system": _system(ds),
    }
    if kind == "RTSTRUCT":
        frames = ds.get("ReferencedFrameOfReferenceSequence", [])
        if frames and "FrameOfReferenceUID" in frames[0]:
            common["frame_of_reference_uid"] = str(frames[0].FrameOfReferenceUID)
        return DicomHeader(**common)  # type: ignore[arg-type]
    if kind == "RTDOSE":
        keywords = (
            "ImagePositionPatient",
            "PixelSpacing",
            "GridFrameOffsetVector",
            "ImageOrientationPatient",
        )
        geometry = (
            *(tuple(float(v) for v in ds.get(k) or ()) for k in keywords),
            int(ds.get("Rows", 0) or 0),
            int(ds.get("Columns", 0) or 0),
        )
        return DicomHeader(
            **common,  # type: ignore[arg-type]
            referenced_plan_uids=_uids(ds, "ReferencedRTPlanSequence"),
            summation_type=str(ds.get("DoseSummationType", "")).upper(),
            referenced_beams=_beams_of_dose(ds),
            grid_geometry=geometry,
        )
    groups = ds.get("FractionGroupSequence", [])
    beams = (
        tuple(
            sorted(int(b.ReferencedBeamNumber) for b in groups[0].get("ReferencedBeamSequence", []))
        )
        if groups
        else ()
    )
    return DicomHeader(
        **common,  # type: ignore[arg-type]
        plan_beams=beams,
        plan_label=_text(ds, "RTPlanLabel") or _text(ds, "RTPlanName"),
        plan_date=_date(_text(ds, "RTPlanDate")),
        prescription=plan_prescription(ds, path),
    )


def _files(root: Path) -> Iterable[Path]:
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            yield Path(folder) / name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def index_folder(root: str | Path) -> DicomIndex:
    """Read the header of every file under ``root`` and index the RT objects by SOP UID."""
    base = Path(root)
    if not base.is_dir():
        raise DicomRtError(f"{base}: not a folder")
    index = DicomIndex(base)
    by_uid: dict[str, list[DicomHeader]] = defaultdict(list)
    for path in _files(base):
        try:
            header = read_header(path)
        except DicomRtError as error:
            if path.suffix.lower() == ".dcm":
                index.problems.append(LinkProblem("unreadable", str(path), str(error)))
            else:
                index.other_files += 1
            continue
        if header is None:
            index.other_files += 1
            continue
        by_uid[header.sop_uid].append(header)
    for uid, headers in by_uid.items():
        if len(headers) > 1:
            hashes = {h.path: _sha256(h.path) for h in headers}
            if len(set(hashes.values())) > 1:
                files = ", ".join(str(h.path) for h in headers)
                index.problems.append(
                    LinkProblem(
                        "conflicting UID",
                        uid,
                        f"different files share SOP Instance UID {uid}: {files}; none is used",
                    )
                )
                continue
            index.duplicates[uid] = [h.path for h in headers[1:]]
        index.objects[uid] = headers[0]
    return index


def _resolve(
    index: DicomIndex,
    source: DicomHeader,
    referenced: tuple[str, ...],
    kind: str,
    refused: set[str],
) -> tuple[DicomHeader | None, str]:
    """The object of ``kind`` that ``source`` refers to; (None, reason) when there is none."""
    present = [index.objects[u] for u in referenced if u in index.objects]
    present = [h for h in present if h.kind == kind]
    if len(present) == 1:
        return present[0], "referenced UID"
    if len(present) > 1:
        return None, f"references {len(present)} {kind} objects"
    if any(u in refused for u in referenced):
        return None, f"its {kind} {', '.join(u for u in referenced if u in refused)} is refused"
    same_study = [
        h for h in index.of_kind(kind) if source.study_uid and h.study_uid == source.study_uid
    ]
    missing = (
        f"{kind} {', '.join(referenced)} not in the folder"
        if referenced
        else (f"no {kind} referenced")
    )
    if len(same_study) == 1:
        return same_study[0], "same study"
    if len(same_study) > 1:
        return None, f"{missing}, and {len(same_study)} in its study: ambiguous"
    return None, f"{missing}, none in its study"


def same_grid(doses: list[DicomHeader]) -> str | None:
    """Why doses cannot be summed voxel by voxel (None: they line up)."""
    first = doses[0]
    for other in doses[1:]:
        if other.frame_of_reference_uid != first.frame_of_reference_uid:
            return (
                f"{other.path} is in another frame of reference "
                f"({other.frame_of_reference_uid} vs {first.frame_of_reference_uid})"
            )
        a, b = first.grid_geometry or (), other.grid_geometry or ()
        if len(a) != len(b) or a[-2:] != b[-2:]:
            return f"{other.path} has another grid size than {first.path}"
        for part_a, part_b, what in zip(
            a[:4], b[:4], ("origin", "spacing", "frames", "orientation"), strict=True
        ):
            assert isinstance(part_a, tuple) and isinstance(part_b, tuple)
            if len(part_a) != len(part_b) or any(
                abs(x - y) > GRID_ATOL_MM for x, y in zip(part_a, part_b, strict=True)
            ):
                return (
                    f"{other.path} and {first.path} differ in grid {what}: the doses do not line up"
                )
    return None


def _plan_doses(plan: DicomHeader, doses: list[DicomHeader]) -> tuple[list[DicomHeader], str]:
    """The dose object(s) that make ``plan``'s dose, or ([], reason)."""
    by_type: dict[str, list[DicomHeader]] = defaultdict(list)
    for dose in doses:
        by_type[dose.summation_type].append(dose)
    for whole in ("PLAN", "FRACTION"):
        found = by_type.get(whole, [])
        if len(found) == 1:
            return found, ""
        if len(found) > 1:
            files = ", ".join(d.path.name for d in found)
            return [], f"{len(found)} {whole} doses ({files}): which one is meant is not known"
    beams = by_type.get("BEAM", [])
    if beams:
        dosed = sorted(b for d in beams for b in d.referenced_beams)
        if any(not d.referenced_beams for d in beams):
            return [], "a BEAM dose names no beam (ReferencedBeamNumber)"
        if len(set(dosed)) != len(dosed):
            return [], f"beam doses repeat a beam ({dosed})"
        if plan.plan_beams and tuple(dosed) != plan.plan_beams:
            return [], (
                f"beam doses for beams {dosed} but the plan has beams "
                f"{list(plan.plan_beams)}: the sum would not be the plan's dose"
            )
        reason = same_grid(beams)
        if reason:
            return [], f"BEAM doses not summed: {reason}"
        return sorted(beams, key=lambda d: d.referenced_beams), ""
    kinds = ", ".join(sorted(by_type))
    return [], f"dose summation type {kinds} cannot be used as a plan's dose"


def link_plans(index: DicomIndex) -> tuple[list[PlanLink], list[LinkProblem]]:
    """Each usable plan with its structure set and dose(s); everything else with its reason."""
    problems: list[LinkProblem] = []
    refused = {p.subject for p in index.problems if p.kind == "conflicting UID"}
    doses_of: dict[str, list[DicomHeader]] = defaultdict(list)
    for dose in index.of_kind("RTDOSE"):
        plan, how = _resolve(index, dose, dose.referenced_plan_uids, "RTPLAN", refused)
        if plan is None:
            problems.append(
                LinkProblem(
                    "orphan dose", str(dose.path), f"RTDOSE {dose.sop_uid}: no plan ({how})"
                )
            )
            continue
        doses_of[plan.sop_uid].append(dose)
        if how != "referenced UID":
            problems.append(
                LinkProblem(
                    "linked by study",
                    str(dose.path),
                    f"RTDOSE linked to plan {plan.sop_uid} by Study UID",
                )
            )
    links: list[PlanLink] = []
    for plan in index.of_kind("RTPLAN"):
        structures, how = _resolve(
            index, plan, plan.referenced_structure_set_uids, "RTSTRUCT", refused
        )
        if structures is None:
            problems.append(
                LinkProblem("no structure set", str(plan.path), f"RTPLAN {plan.sop_uid}: {how}")
            )
            continue
        if not doses_of.get(plan.sop_uid):
            problems.append(
                LinkProblem(
                    "no dose", str(plan.path), f"RTPLAN {plan.sop_uid}: no RTDOSE in the folder"
                )
            )
            continue
        chosen, reason = _plan_doses(plan, doses_of[plan.sop_uid])
        if not chosen:
            problems.append(
                LinkProblem("dose refused", str(plan.path), f"RTPLAN {plan.sop_uid}: {reason}")
            )
            continue
        if how != "referenced UID":
            problems.append(
                LinkProblem(
                    "linked by study",
                    str(plan.path),
                    f"RTPLAN linked to structure set {structures.sop_uid} by Study UID",
                )
            )
        links.append(PlanLink(plan, structures, tuple(chosen), (how,)))
    return links, problems
