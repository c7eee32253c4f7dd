"""Write small synthetic DICOM RT files (structure set, dose grid, plan) with pydicom.

For analytic phantoms in tests and for demo data: the files carry just the attributes that
:mod:`rtoutcomes.io.dicom_rt` (and ordinary DICOM RT readers) need, with fixed UIDs derived
from a seed so that the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = ["circle", "write_rtdose", "write_rtplan", "write_rtstruct"]

_ROOT = "1.2.826.0.1.3680043.10.1138"  # private root for synthetic objects
Contour = tuple[float, NDArray[np.float64]]


def _uid(*parts: object) -> str:
    digest = int(hashlib.sha256(repr(parts).encode()).hexdigest()[:24], 16)
    return f"{_ROOT}.{digest}"


def circle(
    radius_mm: float, centre_mm: tuple[float, float] = (0.0, 0.0), points: int = 256
) -> NDArray[np.float64]:
    """A closed polygon of ``points`` vertices on a circle, counter-clockwise (x, y in mm)."""
    angle = np.linspace(0.0, 2 * np.pi, points, endpoint=False)
    return np.column_stack(
        [centre_mm[0] + radius_mm * np.cos(angle), centre_mm[1] + radius_mm * np.sin(angle)]
    )


def _base(sop_class: str, modality: str, seed: str) -> Dataset:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(_uid(seed, modality, "instance"))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientName = "Phantom^Synthetic"
    ds.PatientID = "PHANTOM"
    ds.StudyInstanceUID = _uid(seed, "study")
    ds.SeriesInstanceUID = _uid(seed, modality, "series")
    ds.FrameOfReferenceUID = _uid(seed, "frame")
    return ds


def _ds_text(value: float) -> str:
    """A DS string of at most 16 characters."""
    text = f"{value:.10g}"
    return text if len(text) <= 16 else f"{value:.6g}"


def write_rtstruct(
    path: str | Path,
    rois: Mapping[str, Sequence[Contour]],
    *,
    interpreted_types: Mapping[str, str] | None = None,
    seed: str = "phantom",
) -> Path:
    """RT Structure Set with ROIs numbered 1.. in ``rois`` order; contours are (z, (N, 2) xy)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    ds = _base("1.2.840.10008.5.1.4.1.1.481.3", "RTSTRUCT", seed)
    frame = Dataset()
    frame.FrameOfReferenceUID = ds.FrameOfReferenceUID
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([frame])
    roi_items, contour_items, observations = [], [], []
    for number, (name, contours) in enumerate(rois.items(), start=1):
        roi = Dataset()
        roi.ROINumber = number
        roi.ROIName = name
        roi.ReferencedFrameOfReferenceUID = ds.FrameOfReferenceUID
        roi_items.append(roi)
        item = Dataset()
        item.ReferencedROINumber = number
        sequence = []
        for z, points in contours:
            contour = Dataset()
            contour.ContourGeometricType = "CLOSED_PLANAR"
            contour.NumberOfContourPoints = len(points)
            xyz = np.column_stack([points, np.full(len(points), z)]).ravel()
            contour.ContourData = [_ds_text(float(v)) for v in xyz]
            sequence.append(contour)
        item.ContourSequence = DicomSequence(sequence)
        contour_items.append(item)
        observation = Dataset()
        observation.ObservationNumber = number
        observation.ReferencedROINumber = number
        observation.RTROIInterpretedType = (interpreted_types or {}).get(name, "ORGAN")
        observations.append(observation)
    ds.StructureSetROISequence = DicomSequence(roi_items)
    ds.ROIContourSequence = DicomSequence(contour_items)
    ds.RTROIObservationsSequence = DicomSequence(observations)
    file = Path(path)
    ds.save_as(file, enforce_file_format=True)
    return file


def write_rtdose(
    path: str | Path,
    dose_gy: NDArray[np.float64],
    *,
    origin_mm: tuple[float, float, float],
    spacing_mm: tuple[float, float, float],
    seed: str = "phantom",
) -> Path:
    """RT Dose (PLAN, Gy) of ``dose_gy[k, j, i]`` at origin + (i dx, j dy, k dz), axis-aligned."""
    from pydicom.tag import Tag

    dose = np.asarray(dose_gy, dtype=float)
    if dose.ndim != 3 or np.any(dose < 0):
        raise ValueError("dose_gy must be a 3-D array of doses >= 0 Gy")
    ds = _base("1.2.840.10008.5.1.4.1.1.481.2", "RTDOSE", seed)
    top = float(dose.max()) or 1.0
    scaling = top / 4_000_000_000  # 32-bit unsigned pixels, ~1e-9 relative resolution
    pixels = np.round(dose / scaling).astype(np.uint32)
    nz, ny, nx = dose.shape
    dx, dy, dz = spacing_mm
    ds.DoseUnits = "GY"
    ds.DoseType = "PHYSICAL"
    ds.DoseSummationType = "PLAN"
    ds.DoseGridScaling = _ds_text(scaling)
    ds.ImagePositionPatient = [_ds_text(v) for v in origin_mm]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [_ds_text(dy), _ds_text(dx)]  # row spacing (y), column spacing (x)
    ds.GridFrameOffsetVector = [_ds_text(k * dz) for k in range(nz)]
    ds.FrameIncrementPointer = Tag(0x3004, 0x000C)
    ds.NumberOfFrames = nz
    ds.Rows, ds.Columns = ny, nx
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 32
    ds.HighBit = 31
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    file = Path(path)
    ds.save_as(file, enforce_file_format=True)
    return file


def write_rtplan(
    path: str | Path,
    *,
    prescription_gy: float,
    fractions: int,
    target: str = "PTV",
    seed: str = "phantom",
) -> Path:
    """RT Plan with one TARGET/VOLUME dose reference and one fraction group."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    ds = _base("1.2.840.10008.5.1.4.1.1.481.5", "RTPLAN", seed)
    reference = Dataset()
    reference.DoseReferenceNumber = 1
    reference.DoseReferenceStructureType = "VOLUME"
    reference.DoseReferenceDescription = target
    reference.DoseReferenceType = "TARGET"
    reference.TargetPrescriptionDose = _ds_text(prescription_gy)
    ds.DoseReferenceSequence = DicomSequence([reference])
    group = Dataset()
    group.FractionGroupNumber = 1
    group.NumberOfFractionsPlanned = fractions
    ds.FractionGroupSequence = DicomSequence([group])
    file = Path(path)
    ds.save_as(file, enforce_file_format=True)
    return file


def _set_uid(ds: Dataset, keyword: str, value: str) -> None:
    from pydicom.uid import UID

    setattr(ds, keyword, value)
    if keyword == "SOPInstanceUID":
        ds.file_meta.MediaStorageSOPInstanceUID = UID(value)


def derive_plan(
    source: str | Path,
    out: str | Path,
    *,
    seed: str,
    patient_id: str,
    plan_date: str | None = None,
    prescription_gy: float | None = None,
    fractions: int | None = None,
    beam_doses: bool = False,
    rename_rois: Mapping[str, str] | None = None,
    prescription_name: str | None = None,
    scale_dose: bool = False,
) -> dict[str, str]:
    """A copy of a real plan (``rtss.dcm``, ``rtplan.dcm``, ``rtdose.dcm`` in ``source``) as a
    new patient's: new Study/Series/SOP/Frame of Reference UIDs from ``seed`` (references
    kept consistent), ``patient_id``, and optionally a plan date (YYYYMMDD), another
    prescription (Gy) or fraction number (``scale_dose``: the dose scaled by the new
    prescription over the old, the TPS DVHs dropped), renamed ROIs, another prescription
    target name, and
    the dose split into one BEAM dose per beam of the plan (integer pixel values split so that
    the beams sum exactly to the original). Writes into ``out``; returns the new SOP UIDs by
    kind (``RTSTRUCT``, ``RTPLAN``, ``RTDOSE`` or ``RTDOSE<beam>``).

    For test trees and benchmarks (a department's export folder, without real patients).
    """
    import pydicom

    base = Path(source)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    study, frame = _uid(seed, "study"), _uid(seed, "frame")
    uids = {kind: _uid(seed, kind) for kind in ("RTSTRUCT", "RTPLAN", "RTDOSE")}

    def common(ds: Dataset, kind: str) -> None:
        ds.PatientID = patient_id
        ds.PatientName = f"Derived^{patient_id}"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = _uid(seed, kind, "series")
        if "FrameOfReferenceUID" in ds:
            ds.FrameOfReferenceUID = frame
        _set_uid(ds, "SOPInstanceUID", uids[kind])
        if "ReferencedStructureSetSequence" in ds:
            ds.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID = uids["RTSTRUCT"]

    rtss = pydicom.dcmread(base / "rtss.dcm")
    common(rtss, "RTSTRUCT")
    for item in rtss.get("ReferencedFrameOfReferenceSequence", []):
        item.FrameOfReferenceUID = frame
    for roi in rtss.get("StructureSetROISequence", []):
        roi.ReferencedFrameOfReferenceUID = frame
        if rename_rois and str(roi.ROIName) in rename_rois:
            roi.ROIName = rename_rois[str(roi.ROIName)]
    rtss.save_as(folder / "rtss.dcm")

    plan = pydicom.dcmread(base / "rtplan.dcm")
    common(plan, "RTPLAN")
    if plan_date is not None:
        plan.RTPlanDate = plan_date
    reference = plan.DoseReferenceSequence[0]
    factor = 1.0
    if prescription_gy is not None and scale_dose:
        factor = prescription_gy / float(reference.TargetPrescriptionDose)
    if prescription_gy is not None:
        reference.TargetPrescriptionDose = _ds_text(prescription_gy)
    if prescription_name is not None:
        reference.DoseReferenceDescription = prescription_name
    group = plan.FractionGroupSequence[0]
    if fractions is not None:
        group.NumberOfFractionsPlanned = fractions
    plan.save_as(folder / "rtplan.dcm")

    dose = pydicom.dcmread(base / "rtdose.dcm")
    common(dose, "RTDOSE")
    dose.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID = uids["RTPLAN"]
    if factor != 1.0:
        dose.DoseGridScaling = _ds_text(float(dose.DoseGridScaling) * factor)
        del dose.DVHSequence
    if not beam_doses:
        dose.save_as(folder / "rtdose.dcm")
        return uids
    beams = [int(b.ReferencedBeamNumber) for b in group.ReferencedBeamSequence]
    uids.update(_write_beam_doses(dose, beams, folder, seed))
    del uids["RTDOSE"]
    return uids


def _write_beam_doses(dose: Dataset, beams: list[int], folder: Path, seed: str) -> dict[str, str]:
    """Split ``dose`` into one BEAM dose per beam whose integer pixels sum to the original."""
    from pydicom.dataset import Dataset as DicomDataset
    from pydicom.sequence import Sequence as DicomSequence

    uids: dict[str, str] = {}
    dtype = dose.pixel_array.dtype
    pixels = dose.pixel_array.astype(np.int64)
    share = pixels // len(beams)
    if "DVHSequence" in dose:
        del dose.DVHSequence  # a beam's dose has no TPS DVH of the plan
    for position, beam in enumerate(beams):
        part = share if position < len(beams) - 1 else pixels - share * (len(beams) - 1)
        dose.PixelData = part.astype(dtype).tobytes()
        dose.DoseSummationType = "BEAM"
        kind = f"RTDOSE{beam}"
        uids[kind] = _uid(seed, kind)
        _set_uid(dose, "SOPInstanceUID", uids[kind])
        beam_item = DicomDataset()
        beam_item.ReferencedBeamNumber = beam
        fraction_item = DicomDataset()
        fraction_item.ReferencedFractionGroupNumber = 1
        fraction_item.ReferencedBeamSequence = DicomSequence([beam_item])
        dose.ReferencedRTPlanSequence[0].ReferencedFractionGroupSequence = DicomSequence(
            [fraction_item]
        )
        dose.save_as(folder / f"rtdose_beam{beam}.dcm")
    return uids
