"""``dosimetry-import``: a generated export folder linked, matched, computed and stored."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dicom_tree import KEEPS_TPS, STORED, breast_boost_registry, build_tree, registry_folder
from rtoutcomes.cli import main
from rtoutcomes.clinical.dosimetry_import import DosimetryImport, ImportOptions, dosimetry_import
from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.tables import read_tables

if TYPE_CHECKING:
    import pandas as pd

LEVELS = (5.0, 20.0)


@pytest.fixture(scope="module")
def tree(
    tmp_path_factory: pytest.TempPathFactory, breast_boost_dir: Path
) -> tuple[Path, dict[str, dict[str, str]]]:
    root = tmp_path_factory.mktemp("export")
    return root, build_tree(breast_boost_dir, root)


@pytest.fixture
def registry(db_url: str, tmp_path: Path) -> str:
    import_registry(registry_folder(tmp_path / "csv"), db_url)
    return db_url


def _outcome(summary: DosimetryImport, plan_uid: str) -> tuple[str, str, list[str]]:
    found = [o for o in summary.outcomes if o.plan_uid == plan_uid]
    assert len(found) == 1, plan_uid
    return found[0].status, found[0].reason, found[0].warnings


def test_tree_is_imported_with_the_expected_links_refusals_and_warnings(
    tree: tuple[Path, dict[str, dict[str, str]]], registry: str
) -> None:
    root, uids = tree
    options = ImportOptions(dose_levels_gy=LEVELS, workers=2)
    summary = dosimetry_import(root, registry, options=options)
    text = "\n".join(summary.lines())
    assert summary.index.duplicate_files == 1
    assert summary.index.other_files == 1  # notes.txt
    kinds = sorted(
        (p.kind, p.subject if p.kind == "conflicting UID" else Path(p.subject).name)
        for p in [*summary.index.problems, *summary.link_problems]
    )
    assert kinds == [
        ("conflicting UID", uids["F"]["RTPLAN"]),
        ("linked by study", "rtdose.dcm"),  # J
        ("orphan dose", "rtdose.dcm"),  # E: plan not exported
        ("orphan dose", "rtdose.dcm"),  # F: its plan's UID is refused
    ]
    assert "none in its study" in text and "is refused" in text

    stored = {o.course_id for o in summary.outcomes if o.status == "stored"}
    assert stored == STORED
    assert summary.written == 4 and summary.unchanged == 0
    status, reason, _ = _outcome(summary, uids["C"]["RTPLAN"])
    assert status == "unmatched"
    assert "14 Gy/7 Fx fits none of patient DEMO-P003's courses" in reason
    assert "DEMO-RT003 60 Gy/5 Fx" in reason
    status, reason, _ = _outcome(summary, uids["D"]["RTPLAN"])
    assert status == "refused" and reason.startswith("no target:") and "Mamma" in reason
    status, reason, _ = _outcome(summary, uids["H"]["RTPLAN"])
    assert status == "refused" and f"course {KEEPS_TPS} already has dosimetry (source tps" in reason
    for case in ("I1", "I2"):
        status, reason, _ = _outcome(summary, uids[case]["RTPLAN"])
        assert status == "unmatched" and "2 plans fit course DEMO-RT007" in reason
    status, _, warnings = _outcome(summary, uids["G"]["RTPLAN"])
    assert status == "stored"
    assert len(warnings) == 1 and "coverage of target 'Breast' is 15." in warnings[0]
    for case in ("A", "B", "J"):
        assert _outcome(summary, uids[case]["RTPLAN"])[2] == []

    tables = read_tables(registry)
    dosimetry = tables["dosimetry"].set_index("course_id")
    assert dosimetry.loc[KEEPS_TPS, "source"] == "tps"
    a, b = dosimetry.loc["DEMO-RT001"], dosimetry.loc["DEMO-RT002"]
    assert a["source"] == "computed" and a["target_structure"] == "Tumor Bed"
    assert a["rtplan_uid"] == uids["A"]["RTPLAN"] and a["dicom_patient_id"] == "DEMO-P001"
    assert a["rtdose_uids"] == uids["A"]["RTDOSE"]
    assert b["rtdose_uids"].split() == [uids["B"][f"RTDOSE{i}"] for i in range(1, 5)]
    # the four beam doses sum to the plan dose scaled to 45 Gy: same indices as a PLAN dose
    assert b["coverage_pct"] == pytest.approx(dosimetry.loc["DEMO-RT012", "coverage_pct"])
    assert b["paddick_ci"] == pytest.approx(dosimetry.loc["DEMO-RT012", "paddick_ci"])
    metrics = tables["structure_metrics"]
    assert set(metrics["course_id"]) == STORED
    assert len(metrics) == 4 * 9  # the nine contoured ROIs of each plan
    heart = metrics[(metrics["course_id"] == "DEMO-RT001") & (metrics["structure"] == "Heart")]
    assert heart["tg263_name"].tolist() == ["Heart"]
    levels = tables["structure_dose_volumes"]
    assert len(levels) == 4 * 9 * len(LEVELS)

    # a second run on the same folder changes nothing
    again = dosimetry_import(root, registry, options=options)
    assert again.written == 0 and again.unchanged == 4
    assert {o.course_id for o in again.outcomes if o.status == "unchanged"} == STORED
    after = read_tables(registry)
    for name, frame in tables.items():
        assert frame.equals(after[name]), name


def test_dry_run_writes_nothing(
    tree: tuple[Path, dict[str, dict[str, str]]], sqlite_url: str, tmp_path: Path
) -> None:
    root, _ = tree
    registry = sqlite_url
    import_registry(registry_folder(tmp_path / "csv"), registry)
    before = read_tables(registry)["dosimetry"]
    summary = dosimetry_import(root, registry, dry_run=True, options=ImportOptions(workers=1))
    assert summary.written == 4
    assert "4 would be written" in "\n".join(summary.lines())
    assert read_tables(registry)["dosimetry"].equals(before)


def test_breast_boost_stored_equals_the_dosimetry_command(
    shared_dir: Path, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The planning system's own export, mapped by hand to a course of another schedule."""
    import pydicom

    folder = shared_dir / "data" / "dicom" / "breast-boost"
    plan_uid = str(pydicom.dcmread(folder / "rtplan.dcm", stop_before_pixels=True).SOPInstanceUID)
    map_file = breast_boost_registry(folder, sqlite_url, tmp_path, "DEMO-RT013")
    args = [
        "dosimetry-import",
        str(folder),
        "--db",
        sqlite_url,
        "--map",
        str(map_file),
        "--quiet",
        "--dose-levels",
        "7,14",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "courses: 0 written" in out and "already has dosimetry (source tps" in out
    assert main([*args, "--replace"]) == 0
    out = capsys.readouterr().out
    assert "courses: 1 written, 0 unchanged" in out
    assert (
        "warning: plan" in out
        and "mapped by hand, but the plan's 14 Gy/7 Fx differs from the course's 70 Gy/10 Fx" in out
    )
    assert "2 other file(s) ignored" in out  # the CT slice and README.md
    assert "target 'Tumor Bed' is 13.0 cm3, 0.36 x the registered TV (35.904 cm3)" in out

    assert (
        main(
            [
                "dosimetry",
                "--rtstruct",
                str(folder / "rtss.dcm"),
                "--rtdose",
                str(folder / "rtdose.dcm"),
                "--rtplan",
                str(folder / "rtplan.dcm"),
                "--target",
                "Tumor Bed",
                "--json",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    tables = read_tables(sqlite_url)
    row = tables["dosimetry"].set_index("course_id").loc["DEMO-RT013"]
    target = printed["target"]
    assert row["target_structure"] == "Tumor Bed" and row["prescription_gy"] == 14.0
    assert row["rtplan_uid"] == plan_uid and row["planning_system"] == "manufacturer model 1.0"
    for column, key, scale, digits in (
        ("tv_cc", "tv_cc", 1, 3),
        ("piv_cc", "piv_cc", 1, 3),
        ("tv_piv_cc", "tv_piv_cc", 1, 3),
        ("coverage_pct", "coverage", 100, 2),
        ("ci", "ci_rtog", 1, 4),
        ("paddick_ci", "paddick_ci", 1, 4),
        ("nci", "nci", 1, 4),
        ("hi", "hi_rtog", 1, 4),
        ("hi_icru83", "hi_icru83", 1, 4),
        ("gradient_index", "gradient_index", 1, 4),
    ):
        assert row[column] == round(scale * target[key], digits), column
    metrics = tables["structure_metrics"].set_index("structure")
    assert sorted(metrics.index) == sorted(printed["structures"])
    for name, stats in printed["structures"].items():
        for column in ("volume_cc", "outside_grid_cc"):
            assert metrics.loc[name, column] == round(stats[column], 3), (name, column)
        for column in ("dmax_gy", "dmean_gy", "d2_gy", "d50_gy", "d95_gy", "d98_gy"):
            assert metrics.loc[name, column] == round(stats[column], 4), (name, column)
    assert metrics.loc["Lt Lung", "tg263_name"] == "Lung_L"
    assert metrics.loc["BODY", "tg263_name"] == "External"
    assert metrics.loc["Tumor Bed", "d0_03cc_gy"] <= metrics.loc["Tumor Bed", "dmax_gy"]
    _study_reads_the_structure_metrics(sqlite_url, metrics)
    levels = tables["structure_dose_volumes"]
    tumour = levels[(levels["structure"] == "Tumor Bed") & (levels["dose_gy"] == 14.0)]
    assert (
        tumour["volume_pct"].tolist() == [round(100 * target["coverage"], 2)]
        or abs(tumour["volume_pct"].iloc[0] - 100 * target["coverage"]) < 0.5
    )


def _study_reads_the_structure_metrics(db: str, metrics: pd.DataFrame) -> None:
    """Table 2 rows named in the study file come from the stored structure metrics."""
    from rtoutcomes.report.cohort_tables import table2
    from rtoutcomes.study import parse_study
    from rtoutcomes.study.cohort import cohort_facts
    from rtoutcomes.study.registry_table import build_registry_data

    study = parse_study(
        {
            "title": "dose metrics",
            "db": db,
            "endpoints": {"OS": {}},
            "tables": {
                "dose_metrics": [
                    {"structure": "target", "metric": "D98"},
                    {"structure": "Lung_L", "metric": "V14Gy"},  # TG-263 name of "Lt Lung"
                    {"structure": "heart", "metric": "Dmean", "label": "Heart mean dose, Gy"},
                    {"structure": "Spinal cord", "metric": "Dmax"},  # not contoured: no value
                ]
            },
        }
    )
    data = build_registry_data(read_tables(db), study)
    rows = cohort_facts(data, study.schedule_groups, study.dose_metrics)["table2"]["dose_metrics"]
    d98 = float(metrics.loc["Tumor Bed", "d98_gy"])
    assert rows[0] == {
        "label": "target D98, Gy",
        "structure": "target",
        "metric": "D98",
        "unit": "Gy",
        "summary": {"median": d98, "min": d98, "max": d98, "n": 1},
    }
    levels = read_tables(db)["structure_dose_volumes"]
    lung = levels[(levels["structure"] == "Lt Lung") & (levels["dose_gy"] == 14.0)]
    assert rows[1]["summary"]["median"] == float(lung["volume_pct"].iloc[0])
    assert rows[1]["unit"] == "%"
    assert rows[2]["summary"]["median"] == float(metrics.loc["Heart", "dmean_gy"])
    assert rows[3]["summary"] == {"median": None, "min": None, "max": None, "n": 0}
    shown = {
        row.cells[0]: row.cells[-1]
        for row in table2(cohort_facts(data, None, study.dose_metrics)["table2"]).rows
    }
    assert shown["target D98, Gy: median (range) (n = 1 of 58)"].startswith(f"{d98:.2f}")
    assert "Heart mean dose, Gy: median (range) (n = 1 of 58)" in shown


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"structure": "PTV", "metric": "D97.5x"}, "unknown dose metric 'D97.5x'"),
        ({"metric": "D98"}, "key 'tables.dose_metrics[0].structure': is required"),
        ({"structure": "PTV", "metric": "D98", "colour": "red"}, "colour"),
    ],
)
def test_study_file_dose_metrics_are_checked(entry: dict[str, str], message: str) -> None:
    from rtoutcomes.study import parse_study

    with pytest.raises(RtOutcomesError, match=re.escape(message)):
        parse_study(
            {
                "title": "t",
                "db": "sqlite:///unused.db",
                "endpoints": {"OS": {}},
                "tables": {"dose_metrics": [entry]},
            }
        )
