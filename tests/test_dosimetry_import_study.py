"""``dosimetry-import``: plans of one course summed through the map file, and V(dose) levels
from the study file (``dosimetry.dose_levels_gy``, ``--study``)."""

from __future__ import annotations

import re
from pathlib import Path

import pydicom
import pytest

from dicom_tree import breast_boost_registry, registry_folder
from rtoutcomes.cli import main
from rtoutcomes.clinical.dosimetry_import import ImportOptions, dosimetry_import
from rtoutcomes.clinical.plan_dosimetry import plan_dosimetry
from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.dicom_rt import read_rtdose, read_rtstruct
from rtoutcomes.io.dicom_rt_synthetic import derive_plan
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.tables import read_tables
from rtoutcomes.study import parse_study
from rtoutcomes.study.dose_metrics import import_dose_levels


def _second_plan_on(root: Path, first: str, second: str, *, shift_mm: float = 0.0) -> None:
    """Make plan ``second`` a second plan on ``first``'s structure set and frame of reference
    (its own structure set removed); ``shift_mm`` moves its dose grid along x."""
    structure_uid = str(pydicom.dcmread(root / first / "rtss.dcm").SOPInstanceUID)
    frame = str(
        pydicom.dcmread(root / first / "rtdose.dcm", stop_before_pixels=True).FrameOfReferenceUID
    )
    (root / second / "rtss.dcm").unlink()
    plan = pydicom.dcmread(root / second / "rtplan.dcm")
    plan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID = structure_uid
    plan.save_as(root / second / "rtplan.dcm")
    dose = pydicom.dcmread(root / second / "rtdose.dcm")
    dose.FrameOfReferenceUID = frame
    position = [float(v) for v in dose.ImagePositionPatient]
    dose.ImagePositionPatient = [position[0] + shift_mm, *position[1:]]
    dose.save_as(root / second / "rtdose.dcm")


def test_plans_mapped_to_one_course_are_summed_only_when_their_doses_line_up(
    breast_boost_dir: Path, sqlite_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "export"
    uids = {
        case: derive_plan(
            breast_boost_dir,
            root / case,
            seed=f"sum-{case}",
            patient_id="DEMO-P004",
            prescription_name="Tumor Bed",
        )
        for case in ("S1", "S2", "M1", "M2", "D1", "D2")
    }
    _second_plan_on(root, "S1", "S2")  # the same grid: summed
    _second_plan_on(root, "M1", "M2", shift_mm=2.5)  # one voxel off: refused
    # D1 and D2 keep their own structure sets: refused
    map_file = tmp_path / "map.csv"
    courses = {"S": "DEMO-RT004", "M": "DEMO-RT005", "D": "DEMO-RT009"}
    map_file.write_text(
        "rtplan_uid,course_id\n"
        + "".join(f"{uids[case]['RTPLAN']},{courses[case[0]]}\n" for case in uids),
        encoding="utf-8",
    )
    import_registry(registry_folder(tmp_path / "csv"), sqlite_url)

    summary = dosimetry_import(
        root, sqlite_url, map_file=map_file, options=ImportOptions(workers=1)
    )
    status = {o.plan_uid: (o.status, o.course_id, o.reason, o.warnings) for o in summary.outcomes}
    for case in ("S1", "S2"):
        assert status[uids[case]["RTPLAN"]][:2] == ("stored", "DEMO-RT004")
        assert (
            "mapped by hand, but the plan's 14 Gy/7 Fx differs"
            in status[uids[case]["RTPLAN"]][3][0]
        )
    for case in ("M1", "M2"):
        state, course, reason, _ = status[uids[case]["RTPLAN"]]
        assert (state, course) == ("refused", "DEMO-RT005")
        assert reason.startswith("plan doses not summed: ")
        assert reason.endswith(" differ in grid origin: the doses do not line up")
        assert str(root / "M1" / "rtdose.dcm") in reason
        assert str(root / "M2" / "rtdose.dcm") in reason
    for case in ("D1", "D2"):
        state, course, reason, _ = status[uids[case]["RTPLAN"]]
        assert (state, course) == ("refused", "DEMO-RT009")
        assert reason == "the plans mapped to this course use different structure sets: not summed"
    assert summary.written == 1

    # the stored course is the sum: twice one plan's dose, against twice its prescription
    row = read_tables(sqlite_url)["dosimetry"].set_index("course_id").loc["DEMO-RT004"]
    assert row["prescription_gy"] == 28.0
    assert sorted(row["rtdose_uids"].split()) == sorted(
        [uids["S1"]["RTDOSE"], uids["S2"]["RTDOSE"]]
    )
    structures = read_rtstruct(root / "S1" / "rtss.dcm")
    one = plan_dosimetry(
        structures,
        read_rtdose(root / "S1" / "rtdose.dcm"),
        prescription_gy=14.0,
        target=structures.by_name("Tumor Bed"),
    )
    single = one.registry_row("DEMO-RT004")
    assert row["dmax_gy"] == pytest.approx(2 * one.dvhs["Tumor Bed"].dmax_gy, abs=1e-3)
    for column in (
        "tv_cc",
        "piv_cc",
        "tv_piv_cc",
        "coverage_pct",
        "ci",
        "paddick_ci",
        "hi",
        "hi_icru83",
        "gradient_index",
    ):
        assert row[column] == single[column], column

    # without the map file nothing is summed: the plans fit no course of DEMO-P004 by themselves
    again = dosimetry_import(root, sqlite_url, options=ImportOptions(workers=1))
    assert again.written == 0 and again.count("stored") == 0


def _study_file(path: Path, db: str | None, levels: list[float] | None) -> Path:
    lines = ["title: dose levels"]
    if db is None:  # a study of an analysis table
        lines += ["data: table.csv", "endpoints: {OS: {time: t, event: e}}"]
    else:
        lines += [f"db: '{db}'", "endpoints: {OS: {}}"]
        lines.append(
            "tables: {dose_metrics: [{structure: Lung_L, metric: V14Gy}, "
            "{structure: Heart, metric: V2.5Gy_cc}, {structure: target, metric: D98}]}"
        )
    if levels is not None:
        lines.append(f"dosimetry: {{dose_levels_gy: {levels}}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dose_levels_come_from_the_study_file(
    shared_dir: Path, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shared_dir / "data" / "dicom" / "breast-boost"
    map_file = breast_boost_registry(folder, sqlite_url, tmp_path, "DEMO-RT004")
    study = _study_file(tmp_path / "study.yaml", sqlite_url, [10, 5])
    args = [
        "dosimetry-import",
        str(folder),
        "--study",
        str(study),
        "--map",
        str(map_file),
        "--quiet",
        "--workers",
        "1",
    ]
    assert main([*args, "--dose-levels", "7"]) == 0  # the registry is the study file's db
    assert "courses: 1 written" in capsys.readouterr().out
    levels = read_tables(sqlite_url)["structure_dose_volumes"]
    # dosimetry.dose_levels_gy, the V<dose>Gy rows of tables.dose_metrics and --dose-levels
    assert sorted(set(levels["dose_gy"])) == [2.5, 5.0, 7.0, 10.0, 14.0]
    assert len(levels) == 9 * 5  # every contoured ROI at every level
    assert set(levels["dose_volume_id"]) >= {
        "DEMO-RT004 / Heart / V2.5Gy",
        "DEMO-RT004 / Lt Lung / V14Gy",
    }
    # the same study again: nothing changes; --db names the registry over the file's db
    other = _study_file(tmp_path / "other.yaml", "sqlite:///nowhere.db", [10, 5])
    assert main([*args[:3], str(other), *args[4:], "--db", sqlite_url, "--dose-levels", "7"]) == 0
    assert "courses: 0 written, 1 unchanged" in capsys.readouterr().out
    assert read_tables(sqlite_url)["structure_dose_volumes"].equals(levels)
    # without --dose-levels the level of 7 Gy is no longer asked for: its rows go
    assert main([*args[:3], str(other), *args[4:], "--db", sqlite_url]) == 0
    assert sorted(set(read_tables(sqlite_url)["structure_dose_volumes"]["dose_gy"])) == [
        2.5,
        5.0,
        10.0,
        14.0,
    ]
    # no registry at all: one clear line, exit 2
    bare = _study_file(tmp_path / "bare.yaml", None, None)
    assert main(["dosimetry-import", str(folder), "--study", str(bare), "--quiet"]) == 2
    assert "no registry: give --db DB, or a study file that names its registry (db)" in (
        capsys.readouterr().err
    )


def test_import_dose_levels_join_the_study_file_and_the_command_line() -> None:
    study = parse_study(
        {
            "title": "t",
            "db": "sqlite:///unused.db",
            "endpoints": {"OS": {}},
            "dosimetry": {"dose_levels_gy": [20, 5]},
            "tables": {
                "dose_metrics": [
                    {"structure": "Lung_L", "metric": "V20Gy"},
                    {"structure": "Heart", "metric": "V30Gy_cc"},
                    {"structure": "target", "metric": "D98"},
                ]
            },
        }
    )
    assert study.dose_levels_gy == (5.0, 20.0)
    assert import_dose_levels(study) == (5.0, 20.0, 30.0)
    assert import_dose_levels(study, (7.5, 20.0)) == (5.0, 7.5, 20.0, 30.0)
    plain = parse_study({"title": "t", "db": "x.db", "endpoints": {"OS": {}}})
    assert plain.dose_levels_gy == () and import_dose_levels(plain) == ()


@pytest.mark.parametrize(
    ("dosimetry", "db", "message"),
    [
        (
            {"dose_levels_gy": 20},
            "x.db",
            "key 'dosimetry.dose_levels_gy': must be a list of doses "
            "in Gy such as [5, 10, 20], got int",
        ),
        ({"dose_levels_gy": [5, 0]}, "x.db", "key 'dosimetry.dose_levels_gy[1]': must be > 0"),
        (
            {"dose_levels_gy": [5, "ten"]},
            "x.db",
            "key 'dosimetry.dose_levels_gy[1]': must be a number",
        ),
        ({"dose_levels_gy": [5, 10, 5.0]}, "x.db", "lists 5 Gy more than once"),
        ({"dose_levels_gy": [5]}, None, "applies only to a registry study ('db')"),
        ({"levels": [5]}, "x.db", "dosimetry.levels"),
    ],
)
def test_study_file_dose_levels_are_checked(
    dosimetry: dict[str, object], db: str | None, message: str
) -> None:
    raw: dict[str, object] = {"title": "t", "endpoints": {"OS": {}}, "dosimetry": dosimetry}
    if db is None:
        raw["data"] = "table.csv"
        raw["endpoints"] = {"OS": {"time": "t", "event": "e"}}
    else:
        raw["db"] = db
    with pytest.raises(RtOutcomesError, match=re.escape(message)):
        parse_study(raw)
