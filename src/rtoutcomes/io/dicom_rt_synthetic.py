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
