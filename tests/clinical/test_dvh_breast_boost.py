"""The DVH engine against the planning system (Eclipse) and dicompyler-core on breast-boost.

References, per ROI above 10 cm3 that has a TPS DVH:
- volume: the TPS cumulative DVH at 0 Gy; mean: the TPS's own DVHMeanDose (stored in percent
  of the 14 Gy prescription, the export's unit quirk); D95, D2: read off the TPS's binned
  cumulative DVH (0.01 Gy bins).
- dicompyler-core 0.5.6: tests/reference/fixtures/dicompyler_core_breast_boost.json, written by
  benchmarks/dicompyler_reference.py.

Tolerances (the issue's): volume 1.5 %, mean 1 %, D95 and D2 2 %, where for doses the TPS
itself is only known to one bin (0.01 Gy), so the D tolerance is max(2 %, 0.01 Gy) -- it
matters only for the near-zero D95 of organs outside the field (Heart D95 = 0.033 Gy).
"Closer than or as close as dicompyler-core" allows the reference's own resolution as slack:
0.1 % of the TPS value for volume and mean, half a TPS bin (0.005 Gy, also dicompyler-core's
rounding) for D95 and D2.

BODY is left out of the TPS check: as the data's README says, Eclipse's BODY DVH counts only
the part of BODY inside its calculation volume (13 944 cm3 of 14 800), while the exported grid
covers all of it. Its dose-bearing part is checked instead (V at 0.5 to 14 Gy).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from rtoutcomes.clinical.dvh import DVH, structure_dvh
from rtoutcomes.io.dicom_rt import DoseGrid, StructureSet, TpsDvh, read_rtdose, read_rtstruct

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "reference"
    / "fixtures"
    / ("dicompyler_core_breast_boost.json")
)
PRESCRIPTION_GY = 14.0
CHECKED = ["Breast", "Heart", "Lt Lung", "Tumor Bed", "Tumor Bed Block"]
TOL = {"volume": 0.015, "mean": 0.01, "d95": 0.02, "d2": 0.02}
TPS_BIN_GY = 0.01


@cache
def _load(folder: Path) -> tuple[StructureSet, DoseGrid, dict[str, DVH]]:
    structures = read_rtstruct(folder / "rtss.dcm")
    grid = read_rtdose(folder / "rtdose.dcm")
    dvhs = {
        s.name: structure_dvh(s, grid) for s in structures.structures.values() if not s.is_empty
    }
    return structures, grid, dvhs


@pytest.fixture
def breast_boost(shared_dir: Path) -> tuple[StructureSet, DoseGrid, dict[str, DVH]]:
    return _load(shared_dir / "data" / "dicom" / "breast-boost")


def _tps(structures: StructureSet, grid: DoseGrid, name: str) -> TpsDvh:
    return grid.tps_dvhs[structures.by_name(name).number]


def _reference(tps: TpsDvh) -> dict[str, float]:
    mean = tps.summary_gy(PRESCRIPTION_GY)["mean"]
    assert mean is not None
    return {
        "volume": tps.total_volume_cc,
        "mean": mean,
        "d95": tps.d_percent(95),
        "d2": tps.d_percent(2),
    }


def _ours(dvh: DVH) -> dict[str, float]:
    return {
        "volume": dvh.volume_cc,
        "mean": dvh.dmean_gy,
        "d95": dvh.d_percent(95),
        "d2": dvh.d_percent(2),
    }


def test_the_checked_rois_are_every_roi_above_10_cc_with_a_tps_dvh_but_body(
    breast_boost: tuple[StructureSet, DoseGrid, dict[str, DVH]],
) -> None:
    structures, grid, _ = breast_boost
    big = [
        structures.structures[number].name
        for number, tps in grid.tps_dvhs.items()
        if tps.total_volume_cc > 10
    ]
    assert sorted(big) == sorted([*CHECKED, "BODY"])


@pytest.mark.parametrize("name", CHECKED)
def test_within_tolerance_of_the_planning_system(
    breast_boost: tuple[StructureSet, DoseGrid, dict[str, DVH]], name: str
) -> None:
    structures, grid, dvhs = breast_boost
    reference, ours = _reference(_tps(structures, grid, name)), _ours(dvhs[name])
    for key in ("volume", "mean"):
        assert ours[key] == pytest.approx(reference[key], rel=TOL[key]), key
    for key in ("d95", "d2"):
        allowed = max(TOL[key] * reference[key], TPS_BIN_GY)
        assert abs(ours[key] - reference[key]) <= allowed, key


@pytest.mark.parametrize("name", CHECKED)
def test_as_close_to_the_planning_system_as_dicompyler_core(
    breast_boost: tuple[StructureSet, DoseGrid, dict[str, DVH]], name: str
) -> None:
    structures, grid, dvhs = breast_boost
    fixture = json.loads(FIXTURE.read_text())
    assert fixture["dicompyler_core_version"] == "0.5.6"
    number = structures.by_name(name).number
    theirs_raw = fixture["rois"][str(number)]
    theirs = {
        "volume": theirs_raw["volume_cc"],
        "mean": theirs_raw["mean_gy"],
        "d95": theirs_raw["d95_gy"],
        "d2": theirs_raw["d2_gy"],
    }
    reference, ours = _reference(grid.tps_dvhs[number]), _ours(dvhs[name])
    for key in ("volume", "mean", "d95", "d2"):
        slack = 0.001 * reference[key] if key in ("volume", "mean") else TPS_BIN_GY / 2
        our_error = abs(ours[key] - reference[key])
        their_error = abs(theirs[key] - reference[key])
        assert our_error <= their_error + slack, (key, ours[key], theirs[key], reference[key])


@pytest.mark.parametrize("dose_gy", [0.5, 1.0, 2.0, 5.0, 10.0])
def test_body_dose_bearing_part_matches_the_planning_system(
    breast_boost: tuple[StructureSet, DoseGrid, dict[str, DVH]], dose_gy: float
) -> None:
    structures, grid, dvhs = breast_boost
    tps = _tps(structures, grid, "BODY")
    expected = float(np.interp(dose_gy, tps.dose_gy, tps.volume_cc))
    assert dvhs["BODY"].v_cc(dose_gy) == pytest.approx(expected, rel=0.02)


def test_body_high_dose_region_is_the_breasts(
    breast_boost: tuple[StructureSet, DoseGrid, dict[str, DVH]],
) -> None:
    """Above 13 Gy all dose lies inside Breast, so BODY's and Breast's V14 must agree.

    Ours do (and match the TPS's Breast); the TPS's own BODY DVH does not (61.4 vs 59.5 cm3),
    a sampling artefact of its BODY DVH, which is why V14 is not in the BODY check above.
    """
    structures, grid, dvhs = breast_boost
    assert dvhs["BODY"].v_cc(14.0) == pytest.approx(dvhs["Breast"].v_cc(14.0), rel=2e-3)
    tps_breast = _tps(structures, grid, "Breast")
    tps_body = _tps(structures, grid, "BODY")
    expected = float(np.interp(14.0, tps_breast.dose_gy, tps_breast.volume_cc))
    assert dvhs["Breast"].v_cc(14.0) == pytest.approx(expected, rel=0.01)
    assert float(np.interp(14.0, tps_body.dose_gy, tps_body.volume_cc)) > 1.03 * expected


def test_body_volume_lies_inside_the_exported_grid(
    breast_boost: tuple[StructureSet, DoseGrid, dict[str, DVH]],
) -> None:
    _, _, dvhs = breast_boost
    body = dvhs["BODY"]
    assert body.outside_grid_cc < 0.01 * body.volume_cc
    assert body.in_grid_cc == pytest.approx(body.volume_cc - body.outside_grid_cc, rel=1e-9)


def test_maximum_dose_matches_the_grid_and_the_tps(
    breast_boost: tuple[StructureSet, DoseGrid, dict[str, DVH]],
) -> None:
    structures, grid, dvhs = breast_boost
    stated = _tps(structures, grid, "Breast").summary_gy(PRESCRIPTION_GY)["max"]
    assert stated == pytest.approx(14.6808, abs=1e-4)
    assert float(grid.dose_gy.max()) == pytest.approx(stated, rel=1e-4)
    assert dvhs["Breast"].dmax_gy <= float(grid.dose_gy.max()) + 1e-9
    assert dvhs["Breast"].dmax_gy == pytest.approx(stated, rel=0.01)
