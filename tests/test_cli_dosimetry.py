"""``rtoutcomes dosimetry`` on the breast-boost export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rtoutcomes.cli import main

Runner = Callable[..., int]

# the JSON contract of issue 4
STRUCTURE_KEYS = "volume_cc dmax_gy dmean_gy d2_gy d50_gy d95_gy d98_gy outside_grid_cc"
TARGET_KEYS = "name tv_cc piv_cc tv_piv_cc coverage ci_rtog paddick_ci nci hi_rtog hi_icru83"


@pytest.fixture
def run(shared_dir: Path) -> Runner:
    folder = shared_dir / "data" / "dicom" / "breast-boost"

    def command(*extra: str, plan: bool = True) -> int:
        args = ["dosimetry", "--rtstruct", str(folder / "rtss.dcm")]
        args += ["--rtdose", str(folder / "rtdose.dcm")]
        if plan:
            args += ["--rtplan", str(folder / "rtplan.dcm")]
        return main([*args, *extra])

    return command


def test_json_with_the_plans_prescription(run: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["prescription_gy"] == 14.0
    assert sorted(out["structures"]) == sorted(
        ["BODY", "Borders", "Breast", "Heart", "Lt Lung", "Nodes", "Scar", "Tumor Bed",
         "Tumor Bed Block"]
    )  # fmt: skip
    for stats in out["structures"].values():
        assert set(stats) == set(STRUCTURE_KEYS.split())
    assert set(out["target"]) == {*TARGET_KEYS.split(), "gradient_index"}
    assert out["target"]["name"] == "Breast"  # the plan's dose reference names the ROI
    # Tumor Bed: Eclipse says 12.81 cm3, mean 14.29 Gy
    assert out["structures"]["Tumor Bed"]["volume_cc"] == pytest.approx(12.81, rel=0.015)
    assert out["structures"]["Tumor Bed"]["dmean_gy"] == pytest.approx(14.2907, rel=0.01)


def test_rx_and_target_override_the_plan_and_table_output(
    run: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--rx", "13", "--target", "Tumor Bed") == 0
    out = capsys.readouterr().out
    assert "Prescription: 13 Gy" in out
    assert "Target Tumor Bed (PIV and V50% inside BODY)" in out
    assert "coverage TV_PIV/TV" in out
    assert "(no contours: Areola)" in out
    row = next(line for line in out.splitlines() if line.startswith("Tumor Bed "))
    assert row.split()[2] == "12.95"  # volume cm3, fixed by the engine's defaults


def test_without_prescription_the_command_says_what_to_give(
    run: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(plan=False) == 2
    assert "give --rx GY or an --rtplan" in capsys.readouterr().err


def test_unknown_target_is_an_error(run: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--rx", "14", "--target", "PTV") == 2
    assert "no ROI named 'PTV'" in capsys.readouterr().err
