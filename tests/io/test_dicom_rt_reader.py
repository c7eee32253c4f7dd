"""Reading RTSTRUCT, RTDOSE and RTPLAN: the real Eclipse export and files with flaws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from rtoutcomes.io.dicom_rt import (
    DicomRtError,
    TpsDvh,
    read_rtdose,
    read_rtplan,
    read_rtstruct,
)
from rtoutcomes.io.dicom_rt_synthetic import circle, write_rtdose, write_rtplan, write_rtstruct


@pytest.fixture
def folder(shared_dir: Path) -> Path:
    return shared_dir / "data" / "dicom" / "breast-boost"


def test_breast_boost_structure_set(folder: Path) -> None:
    structures = read_rtstruct(folder / "rtss.dcm")
    names = [s.name for s in structures.structures.values()]
    assert names == [
        "BODY",
        "Areola",
        "Borders",
        "Breast",
        "Heart",
        "Lt Lung",
        "Nodes",
        "Scar",
        "Tumor Bed",
        "Tumor Bed Block",
    ]
    assert structures.by_name("Areola").is_empty
    assert structures.by_name("tumor bed").number == 9  # case-insensitive fallback
    body = structures.external()
    assert body is not None and body.name == "BODY"
    lung = structures.by_name("Lt Lung")
    assert len(lung.contours) == 165
    assert len({round(z, 3) for z, _ in lung.contours}) == 80
    with pytest.raises(DicomRtError, match="no ROI named 'PTV'"):
        structures.by_name("PTV")


def test_breast_boost_dose_grid(folder: Path) -> None:
    grid = read_rtdose(folder / "rtdose.dcm")
    assert grid.dose_gy.shape == (98, 129, 194)
    assert grid.spacing_mm == pytest.approx((2.5, 2.5, 3.0))
    assert grid.x_mm[0] == pytest.approx(-228.6541915)
    assert grid.z_mm[[0, -1]] == pytest.approx([-122.4407, -122.4407 + 97 * 3])
    assert float(grid.dose_gy.max()) == pytest.approx(14.680764, rel=1e-6)  # 1048626 x 1.4e-5
    assert sorted(grid.tps_dvhs) == [1, 3, 4, 5, 6, 7, 8, 9, 10]  # Areola has none
    assert grid.summation_type == "PLAN"


def test_tps_dvh_summary_in_percent_of_prescription_is_detected(folder: Path) -> None:
    grid = read_rtdose(folder / "rtdose.dcm")
    tumor_bed = grid.tps_dvhs[9]
    assert tumor_bed.raw_mean == pytest.approx(102.076111745527)  # percent, not Gy
    summary = tumor_bed.summary_gy(14.0)
    assert summary["mean"] == pytest.approx(14.0 * 1.02076111745527, rel=1e-12)
    assert summary["max"] == pytest.approx(14.0 * 1.04066121885219, rel=1e-12)
    assert tumor_bed.total_volume_cc == pytest.approx(12.8091805493386)
    assert tumor_bed.mean_from_data_gy() == pytest.approx(summary["mean"], abs=0.01)
    with pytest.raises(DicomRtError, match="matches neither"):
        tumor_bed.summary_gy(20.0)  # the wrong prescription cannot explain the numbers


def test_tps_dvh_summary_already_in_gy_is_kept() -> None:
    dvh = TpsDvh(1, np.arange(5) * 1.0, np.ones(5), np.array([10.0, 8, 4, 1, 0]), 0.5, 4.0, 1.9)
    assert dvh.summary_gy(None) == {"min": 0.5, "max": 4.0, "mean": 1.9}
    assert dvh.d_percent(50) == pytest.approx(1.0 + (8 - 5) / 4)


def test_breast_boost_plan(folder: Path) -> None:
    plan = read_rtplan(folder / "rtplan.dcm")
    # the SITE dose reference "Breast" (14 Gy), not the CALC POINT (11.31 Gy)
    assert plan.prescription_gy == 14.0
    assert plan.fractions == 7
    assert plan.target_description == "Breast"


def test_wrong_kind_of_file_is_refused(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(DicomRtError, match=r"rtdose\.dcm: not an RT Structure Set"):
        read_rtstruct(folder / "rtdose.dcm")
    with pytest.raises(DicomRtError, match="not an RT Dose"):
        read_rtdose(folder / "ct.0.dcm")
    text = tmp_path / "notes.txt"
    text.write_text("not dicom")
    with pytest.raises(DicomRtError, match="cannot read as DICOM"):
        read_rtplan(text)


def _dose_file(tmp_path: Path) -> Path:
    dose = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    return write_rtdose(tmp_path / "d.dcm", dose, origin_mm=(10, 20, 30), spacing_mm=(2, 3, 4))


def test_synthetic_dose_round_trip_and_absolute_frame_offsets(tmp_path: Path) -> None:
    grid = read_rtdose(_dose_file(tmp_path))
    assert grid.x_mm.tolist() == [10, 12, 14, 16]
    assert grid.y_mm.tolist() == [20, 23, 26]
    assert grid.z_mm.tolist() == [30, 34]
    assert grid.dose_gy[1, 2, 3] == pytest.approx(23.0, rel=1e-8)
    ds = pydicom.dcmread(tmp_path / "d.dcm")
    ds.GridFrameOffsetVector = [30, 34]  # absolute z, as some systems write it
    ds.save_as(tmp_path / "abs.dcm")
    assert read_rtdose(tmp_path / "abs.dcm").z_mm.tolist() == [30, 34]


def test_flipped_axes_are_stored_increasing(tmp_path: Path) -> None:
    ds = pydicom.dcmread(_dose_file(tmp_path))
    ds.ImageOrientationPatient = [-1, 0, 0, 0, -1, 0]  # rows run to -x, columns to -y
    ds.save_as(tmp_path / "flip.dcm")
    grid = read_rtdose(tmp_path / "flip.dcm")
    assert grid.x_mm.tolist() == [4, 6, 8, 10]
    assert grid.y_mm.tolist() == [14, 17, 20]
    assert grid.z_mm.tolist() == [30, 34]  # the frame normal (-x) x (-y) is still +z
    # the voxel stored first (x=10, y=20) keeps its dose
    assert grid.dose_gy[:, -1, -1].tolist() == pytest.approx([0.0, 12.0], abs=1e-6)


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("DoseUnits", "RELATIVE", "only absolute dose"),
        ("ImageOrientationPatient", [0.8, 0.6, 0, -0.6, 0.8, 0], "oblique"),
        ("GridFrameOffsetVector", [0, 4, 8], "3 values for 2 frames"),
    ],
)
def test_unusable_dose_grids_are_refused(
    tmp_path: Path, attribute: str, value: object, message: str
) -> None:
    ds = pydicom.dcmread(_dose_file(tmp_path))
    setattr(ds, attribute, value)
    ds.save_as(tmp_path / "bad.dcm")
    with pytest.raises(DicomRtError, match=message):
        read_rtdose(tmp_path / "bad.dcm")


def test_non_axial_contour_is_refused(tmp_path: Path) -> None:
    path = write_rtstruct(tmp_path / "s.dcm", {"tilted": [(0.0, circle(5.0))]})
    ds = pydicom.dcmread(path)
    data = [float(v) for v in ds.ROIContourSequence[0].ContourSequence[0].ContourData]
    data[2] += 2.0  # first point 2 mm off the plane
    ds.ROIContourSequence[0].ContourSequence[0].ContourData = data
    ds.save_as(tmp_path / "tilted.dcm")
    with pytest.raises(DicomRtError, match=r"ROI 1 \(tilted\) contour 1: contour is not axial"):
        read_rtstruct(tmp_path / "tilted.dcm")


def test_plan_without_prescription(tmp_path: Path) -> None:
    path = write_rtplan(tmp_path / "p.dcm", prescription_gy=45, fractions=5, target="PTV")
    plan = read_rtplan(path)
    assert (plan.prescription_gy, plan.fractions, plan.target_description) == (45.0, 5, "PTV")
    ds = pydicom.dcmread(path)
    del ds.DoseReferenceSequence[0].TargetPrescriptionDose
    ds.save_as(tmp_path / "none.dcm")
    assert read_rtplan(tmp_path / "none.dcm").prescription_gy is None
