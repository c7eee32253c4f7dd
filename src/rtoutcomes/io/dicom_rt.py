"""Read DICOM RT structure sets, dose grids and plans into plain numpy-backed objects.

Only what a DVH needs is read, and everything is checked on the way in; a file that cannot be
used raises :class:`DicomRtError` naming the file, the attribute and the rule. Coordinates are
DICOM patient coordinates in mm; doses are Gy; volumes cm3.

- RTSTRUCT: ROI number, name, interpreted type and its CLOSED_PLANAR contours, each an axial
  polygon at one z (mm). Contour points are parsed straight from the raw DS bytes (fast).
- RTDOSE: the dose grid in Gy (pixel data x DoseGridScaling), voxel-centre coordinates from
  ImagePositionPatient, PixelSpacing, ImageOrientationPatient (axis-aligned only) and
  GridFrameOffsetVector (relative to the first frame, or absolute z; both occur), and the
  planning system's own DVHs (DVHSequence).
- RTPLAN: the prescription (TargetPrescriptionDose of DoseReferenceSequence, total Gy) and the
  number of fractions planned.

The DVHSequence unit quirk: DVHData follows the DVH's DoseUnits (Gy here), but some planning
systems (Eclipse among them) write the summary attributes DVHMinimumDose, DVHMaximumDose and
DVHMeanDose in percent of the prescription. :meth:`TpsDvh.summary_gy` decides which by
comparing the stated maximum with the maximum the data themselves imply.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.errors import RtOutcomesError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = [
    "DicomRtError",
    "DoseGrid",
    "PlanPrescription",
    "Structure",
    "StructureSet",
    "TpsDvh",
    "plan_prescription",
    "read_rtdose",
    "read_rtplan",
    "read_rtstruct",
]

RTSTRUCT_SOP = "1.2.840.10008.5.1.4.1.1.481.3"
RTDOSE_SOP = "1.2.840.10008.5.1.4.1.1.481.2"
RTPLAN_SOPS = ("1.2.840.10008.5.1.4.1.1.481.5", "1.2.840.10008.5.1.4.1.1.481.8")
_CONTOUR_DATA = 0x30060050
#: contour points of one polygon must share z to this tolerance (mm) to count as axial
_PLANAR_ATOL_MM = 1e-3
#: orientation cosines must be this close to 0 or +-1 (axis-aligned grids only)
_AXIS_ATOL = 1e-4


class DicomRtError(RtOutcomesError):
    """A DICOM RT file that cannot be used (wrong modality, missing attribute, odd geometry)."""


@dataclass(frozen=True)
class Structure:
    """One ROI: its closed planar contours as (z in mm, (N, 2) array of x, y in mm)."""

    number: int
    name: str
    interpreted_type: str
    contours: tuple[tuple[float, NDArray[np.float64]], ...]

    @property
    def is_empty(self) -> bool:
        return not self.contours


@dataclass(frozen=True)
class StructureSet:
    path: Path
    frame_of_reference_uid: str | None
    structures: dict[int, Structure]

    def by_name(self, name: str) -> Structure:
        """The ROI called ``name`` (exact match first, then case-insensitive)."""
        for exact in (True, False):
            for structure in self.structures.values():
                if (structure.name == name) if exact else (structure.name.lower() == name.lower()):
                    return structure
        names = ", ".join(s.name for s in self.structures.values())
        raise DicomRtError(f"{self.path}: no ROI named {name!r} (ROIs: {names})")

    def external(self) -> Structure | None:
        """The body outline: the ROI of interpreted type EXTERNAL, else one named BODY/External."""
        for structure in self.structures.values():
            if structure.interpreted_type.upper() == "EXTERNAL" and not structure.is_empty:
                return structure
        for structure in self.structures.values():
            if structure.name.lower() in ("body", "external") and not structure.is_empty:
                return structure
        return None


@dataclass(frozen=True)
class TpsDvh:
    """A planning system's cumulative DVH: volume (cm3) receiving at least each dose (Gy).

    ``dose_gy[i]`` is the lower edge of bin i, ``volume_cc[i]`` the volume with dose >= it;
    ``bin_width_gy`` the widths. The summary attributes are kept raw (see module docstring).
    """

    roi_number: int
    dose_gy: NDArray[np.float64]
    bin_width_gy: NDArray[np.float64]
    volume_cc: NDArray[np.float64]
    raw_minimum: float | None
    raw_maximum: float | None
    raw_mean: float | None

    @property
    def total_volume_cc(self) -> float:
        """Structure volume (cm3): the cumulative volume at 0 Gy."""
        return float(self.volume_cc[0])

    def mean_from_data_gy(self) -> float:
        """Mean dose (Gy) from the binned data (each bin's volume at its centre)."""
        shell = self.volume_cc - np.append(self.volume_cc[1:], 0.0)
        return float(np.dot(shell, self.dose_gy + self.bin_width_gy / 2) / self.volume_cc[0])

    def d_percent(self, percent: float) -> float:
        """D_x (Gy) read off the binned curve, linear between bin edges."""
        target = percent / 100 * self.volume_cc[0]
        return float(np.interp(-target, -self.volume_cc, self.dose_gy))

    def summary_gy(self, prescription_gy: float | None) -> dict[str, float | None]:
        """Min/max/mean summary in Gy, detecting percent-of-prescription summaries."""
        stated = self.raw_maximum
        if stated is None:
            return {"min": None, "max": None, "mean": None}
        nonzero = np.nonzero(self.volume_cc > 0)[0]
        top = (
            float(self.dose_gy[nonzero[-1]] + self.bin_width_gy[nonzero[-1]])
            if nonzero.size
            else 0.0
        )
        tol = 0.02 * max(top, 1e-9) + float(np.max(self.bin_width_gy))
        if abs(stated - top) <= tol:
            scale = 1.0
        elif prescription_gy is not None and abs(stated * prescription_gy / 100 - top) <= tol:
            scale = prescription_gy / 100
        else:
            raise DicomRtError(
                f"ROI {self.roi_number}: DVHMaximumDose {stated:g} matches neither the DVH data's "
                f"maximum ({top:g} Gy) nor a percentage of the prescription ({prescription_gy})"
            )

        def scaled(value: float | None) -> float | None:
            return None if value is None else value * scale

        return {
            "min": scaled(self.raw_minimum),
            "max": stated * scale,
            "mean": scaled(self.raw_mean),
        }


@dataclass(frozen=True)
class DoseGrid:
    """Dose (Gy) on an axis-aligned grid: ``dose_gy[k, j, i]`` at (x[i], y[j], z[k]) mm.

    Coordinates are voxel centres and strictly increasing along each axis (the reader flips
    axes stored in decreasing order).
    """

    path: Path
    dose_gy: NDArray[np.float64]
    x_mm: NDArray[np.float64]
    y_mm: NDArray[np.float64]
    z_mm: NDArray[np.float64]
    frame_of_reference_uid: str | None
    summation_type: str
    tps_dvhs: dict[int, TpsDvh] = field(default_factory=dict)

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel size (dx, dy, dz) in mm (dz: median frame spacing; 0 for a single frame)."""
        dz = float(np.median(np.diff(self.z_mm))) if self.z_mm.size > 1 else 0.0
        return float(self.x_mm[1] - self.x_mm[0]), float(self.y_mm[1] - self.y_mm[0]), dz


@dataclass(frozen=True)
class PlanPrescription:
    """Total prescribed dose (Gy) of a plan, its fractions and where the number came from."""

    prescription_gy: float | None
    fractions: int | None
    target_description: str | None
    target_roi_number: int | None = None


_F = TypeVar("_F", bound=Callable[..., Any])


def _damaged_file_errors(reader: _F) -> _F:
    """A truncated or corrupted file fails deep inside pydicom (no pixel data, undecodable
    text, a short value): say so with the file's name instead of the decoder's traceback."""

    @functools.wraps(reader)
    def read(path: str | Path, *args: Any, **kwargs: Any) -> Any:
        try:
            return reader(path, *args, **kwargs)
        except DicomRtError:
            raise
        except Exception as error:
            # A damaged file fails in pydicom's many ways (unknown VR, wrong value length, short
            # pixel data, undecodable text, ...; tests/registry/test_fuzz.py finds them): every
            # one means the same to the user.
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            raise DicomRtError(f"{path}: damaged or truncated DICOM file ({reason})") from error

    return cast(_F, read)


def _read(path: str | Path, sop_classes: tuple[str, ...], what: str) -> tuple[Path, Dataset]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    file = Path(path)
    try:
        dataset = pydicom.dcmread(file)
    except (OSError, InvalidDicomError) as error:
        raise DicomRtError(f"{file}: cannot read as DICOM ({error})") from error
    sop = str(dataset.get("SOPClassUID", ""))
    if sop not in sop_classes:
        modality = dataset.get("Modality", "?")
        raise DicomRtError(f"{file}: not an {what} (SOPClassUID {sop!r}, Modality {modality})")
    return file, dataset


def _required(dataset: Dataset, keyword: str, file: Path, where: str = "") -> Any:
    value = dataset.get(keyword)
    if value is None or value == "":
        raise DicomRtError(f"{file}{where}: required attribute {keyword} is missing")
    return value


def _contour_points(item: Dataset, file: Path, where: str) -> NDArray[np.float64]:
    raw = item.get_item(_CONTOUR_DATA)
    if raw is None or raw.value is None:
        raise DicomRtError(f"{file}{where}: ContourData is missing")
    value = raw.value
    if isinstance(value, bytes):
        text = value.decode("ascii").strip(" \x00")
        flat = np.array(text.split("\\"), dtype=float) if text else np.zeros(0)
    else:  # already converted to numbers (dataset built in memory)
        flat = np.asarray(list(value) if not isinstance(value, float | int) else [value], float)
    if flat.size == 0 or flat.size % 3:
        raise DicomRtError(
            f"{file}{where}: ContourData holds {flat.size} numbers, not x,y,z triples"
        )
    return flat.reshape(-1, 3)


def _all_contour_points(items: list[tuple[Dataset, str]], file: Path) -> list[NDArray[np.float64]]:
    """The (N, 3) points of every contour item (with its place, for messages), in order.

    The raw DS texts of all contours are parsed by one call of numpy's text reader, which is
    several times faster than one split per contour; any contour it cannot read (or a
    dataset built in memory) is read alone, so that a bad one is named.
    """
    raws = [item.get_item(_CONTOUR_DATA) for item, _ in items]
    texts = [
        raw.value.strip(b" \x00") if raw is not None and isinstance(raw.value, bytes) else None
        for raw in raws
    ]
    if not texts or any(not text for text in texts):
        return [_contour_points(item, file, where) for item, where in items]
    counts = np.array([text.count(b"\\") + 1 for text in texts])  # type: ignore[union-attr]
    try:
        joined = b"\\".join(texts).decode("ascii")  # type: ignore[arg-type]
        flat = np.loadtxt([joined], delimiter="\\", comments=None, dtype=float, ndmin=1)
    except (ValueError, UnicodeDecodeError):
        flat = np.zeros(0)
    if flat.size != counts.sum() or np.any(counts % 3):
        return [_contour_points(item, file, where) for item, where in items]
    return np.split(flat.reshape(-1, 3), np.cumsum(counts // 3)[:-1])


@_damaged_file_errors
def read_rtstruct(path: str | Path) -> StructureSet:
    """Read every ROI of an RT Structure Set with its closed planar (axial) contours."""
    file, ds = _read(path, (RTSTRUCT_SOP,), "RT Structure Set")
    names = {
        int(r.ROINumber): str(r.get("ROIName", "")) for r in ds.get("StructureSetROISequence", [])
    }
    types = {
        int(o.ReferencedROINumber): str(o.get("RTROIInterpretedType", "") or "")
        for o in ds.get("RTROIObservationsSequence", [])
    }
    items: list[tuple[Dataset, str]] = []
    roi_of: list[int] = []
    numbers: list[int] = []
    for roi in ds.get("ROIContourSequence", []):
        number = int(_required(roi, "ReferencedROINumber", file, " ROIContourSequence item"))
        numbers.append(number)
        for index, item in enumerate(roi.get("ContourSequence", [])):
            if str(item.get("ContourGeometricType", "CLOSED_PLANAR")) != "CLOSED_PLANAR":
                continue  # points and open polylines enclose no volume
            items.append((item, f" ROI {number} ({names.get(number, '?')}) contour {index + 1}"))
            roi_of.append(number)
    contours: dict[int, list[tuple[float, NDArray[np.float64]]]] = {n: [] for n in numbers}
    for (_, where), number, points in zip(
        items, roi_of, _all_contour_points(items, file), strict=True
    ):
        z = points[:, 2]
        spread = float(z.max() - z.min())
        if spread > _PLANAR_ATOL_MM:
            raise DicomRtError(
                f"{file}{where}: contour is not axial (z spans {spread:.3f} mm); "
                "only axial contours are supported"
            )
        if points.shape[0] >= 3:
            contours[number].append((float(np.mean(z)), np.ascontiguousarray(points[:, :2])))
    structures = {
        number: Structure(
            number, names.get(number, f"ROI {number}"), types.get(number, ""), tuple(found)
        )
        for number, found in contours.items()
    }
    for number, name in names.items():  # ROIs declared without any contour
        structures.setdefault(number, Structure(number, name, types.get(number, ""), ()))
    frames = ds.get("ReferencedFrameOfReferenceSequence", [])
    uid = (
        str(frames[0].FrameOfReferenceUID)
        if frames and "FrameOfReferenceUID" in frames[0]
        else None
    )
    return StructureSet(file, uid, dict(sorted(structures.items())))


def _axis(cosines: NDArray[np.float64], file: Path) -> int:
    """Index (0, 1, 2) of the patient axis a direction cosine vector runs along, signed."""
    rounded = np.round(cosines)
    if not np.allclose(cosines, rounded, atol=_AXIS_ATOL) or np.count_nonzero(rounded) != 1:
        raise DicomRtError(
            f"{file}: ImageOrientationPatient {cosines.tolist()} is oblique; "
            "only axis-aligned dose grids are supported"
        )
    return int(np.flatnonzero(rounded)[0])


def _grid_coordinates(ds: Dataset, file: Path, frames: int) -> tuple[NDArray[np.float64], ...]:
    origin = np.asarray(_required(ds, "ImagePositionPatient", file), dtype=float)
    orientation = np.asarray(_required(ds, "ImageOrientationPatient", file), dtype=float)
    row_dir, col_dir = orientation[:3], orientation[3:]
    if _axis(row_dir, file) != 0 or _axis(col_dir, file) != 1:
        raise DicomRtError(f"{file}: dose grid rows must run along x and columns along y")
    spacing = np.asarray(_required(ds, "PixelSpacing", file), dtype=float)  # (row, column)
    columns, rows = int(ds.Columns), int(ds.Rows)
    x = origin[0] + row_dir[0] * spacing[1] * np.arange(columns)
    y = origin[1] + col_dir[1] * spacing[0] * np.arange(rows)
    normal_z = float(np.cross(row_dir, col_dir)[2])
    offsets = ds.get("GridFrameOffsetVector")
    if frames == 1 and not offsets:
        offsets = [0.0]
    if offsets is None or len(offsets) != frames:
        raise DicomRtError(
            f"{file}: GridFrameOffsetVector has {0 if offsets is None else len(offsets)} values "
            f"for {frames} frames"
        )
    offsets_mm = np.asarray(offsets, dtype=float)
    # relative offsets start at 0; absolute ones start at the first frame's z (PS3.3 C.8.8.3.2)
    if offsets_mm[0] != 0 and np.isclose(offsets_mm[0], origin[2], atol=1e-3):
        z = offsets_mm.copy()
    else:
        z = origin[2] + normal_z * offsets_mm
    return x, y, z


def _read_tps_dvhs(ds: Dataset, file: Path) -> dict[int, TpsDvh]:
    dvhs: dict[int, TpsDvh] = {}
    for index, item in enumerate(ds.get("DVHSequence", [])):
        refs = item.get("DVHReferencedROISequence", [])
        if len(refs) != 1 or str(item.get("DVHType", "")) != "CUMULATIVE":
            continue  # only single-ROI cumulative DVHs can be compared
        if (
            str(item.get("DoseUnits", "GY")).upper() != "GY"
            or str(item.get("DVHVolumeUnits", "CM3")).upper() != "CM3"
        ):
            continue
        data = np.asarray(item.get("DVHData", []), dtype=float)
        if data.size == 0 or data.size % 2:
            raise DicomRtError(
                f"{file}: DVHSequence item {index + 1}: DVHData is not (width, volume) pairs"
            )
        scaling = float(item.get("DVHDoseScaling", 1.0) or 1.0)
        widths = data[0::2] * scaling
        lower = np.concatenate([[0.0], np.cumsum(widths)[:-1]])

        def number(keyword: str, item: Dataset = item) -> float | None:
            value = item.get(keyword)
            return None if value is None or value == "" else float(value)

        roi = int(refs[0].ReferencedROINumber)
        dvhs[roi] = TpsDvh(
            roi,
            lower,
            widths,
            data[1::2],
            number("DVHMinimumDose"),
            number("DVHMaximumDose"),
            number("DVHMeanDose"),
        )
    return dvhs


@_damaged_file_errors
def read_rtdose(path: str | Path, *, tps_dvhs: bool = True) -> DoseGrid:
    """Read an RT Dose grid (Gy) and (unless ``tps_dvhs`` is False: a tenth of the reading
    time of breast-boost) any DVHs the planning system stored with it."""
    file, ds = _read(path, (RTDOSE_SOP,), "RT Dose")
    units = str(ds.get("DoseUnits", "")).upper()
    if units != "GY":
        raise DicomRtError(f"{file}: DoseUnits is {units!r}; only absolute dose (GY) can be used")
    scaling = float(_required(ds, "DoseGridScaling", file))
    pixels = np.array(ds.pixel_array, dtype=float)  # our own copy, scaled in place
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    pixels = pixels.reshape(frames, int(ds.Rows), int(ds.Columns))
    x, y, z = _grid_coordinates(ds, file, frames)
    pixels *= scaling
    dose = pixels
    # store every axis increasing, so that interpolation can use searchsorted
    if x.size > 1 and x[1] < x[0]:
        x, dose = x[::-1], dose[:, :, ::-1]
    if y.size > 1 and y[1] < y[0]:
        y, dose = y[::-1], dose[:, ::-1, :]
    if z.size > 1 and z[1] < z[0]:
        z, dose = z[::-1], dose[::-1, :, :]
    if x.size < 2 or y.size < 2 or np.any(np.diff(z) <= 0):
        raise DicomRtError(f"{file}: dose grid needs >= 2 columns and rows and distinct frames")
    uid = ds.get("FrameOfReferenceUID")
    return DoseGrid(
        file,
        np.ascontiguousarray(dose),
        x,
        y,
        z,
        str(uid) if uid else None,
        str(ds.get("DoseSummationType", "")),
        _read_tps_dvhs(ds, file) if tps_dvhs else {},
    )


@_damaged_file_errors
def read_rtplan(path: str | Path) -> PlanPrescription:
    """Prescription (total Gy) and fractions of an RT (Ion) Plan.

    The prescription is the TargetPrescriptionDose of the first TARGET dose reference that
    describes a volume (structure type SITE or VOLUME); failing that, of the first dose
    reference that has one. None when the plan states no prescription.
    """
    file, ds = _read(path, RTPLAN_SOPS, "RT Plan")
    return plan_prescription(ds, file)


def plan_prescription(ds: Dataset, file: Path) -> PlanPrescription:
    """The prescription of an RT Plan dataset (a header read is enough; see :func:`read_rtplan`).

    ``target_roi_number`` is the ReferencedROINumber of the chosen dose reference, when it
    names one (structure type VOLUME).
    """
    candidates = [r for r in ds.get("DoseReferenceSequence", []) if r.get("TargetPrescriptionDose")]
    volumes = [
        r
        for r in candidates
        if str(r.get("DoseReferenceType", "")) == "TARGET"
        and str(r.get("DoseReferenceStructureType", "")) in ("SITE", "VOLUME")
    ]
    chosen = (volumes or candidates or [None])[0]
    groups = ds.get("FractionGroupSequence", [])
    fractions = groups[0].get("NumberOfFractionsPlanned") if groups else None
    if chosen is None:
        return PlanPrescription(None, int(fractions) if fractions else None, None)
    dose = float(chosen.TargetPrescriptionDose)
    if not dose > 0:
        raise DicomRtError(f"{file}: TargetPrescriptionDose must be > 0 Gy, got {dose}")
    description = chosen.get("DoseReferenceDescription")
    roi = chosen.get("ReferencedROINumber")
    return PlanPrescription(
        dose,
        int(fractions) if fractions else None,
        str(description) if description else None,
        int(roi) if roi not in (None, "") else None,
    )
