"""``rtoutcomes dosimetry --db DB --course-id ID``: computed dosimetry attached to a course."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtoutcomes.cli import main
from rtoutcomes.demo import demo_registry_files
from rtoutcomes.registry.importer import import_registry
from rtoutcomes.registry.tables import read_tables


@pytest.fixture
def registry(db_url: str) -> str:
    import_registry(demo_registry_files(), db_url)
    return db_url


def _dosimetry_command(shared_dir: Path, *extra: str) -> list[str]:
    folder = shared_dir / "data" / "dicom" / "breast-boost"
    return [
        "dosimetry",
        "--rtstruct",
        str(folder / "rtss.dcm"),
        "--rtdose",
        str(folder / "rtdose.dcm"),
        "--rtplan",
        str(folder / "rtplan.dcm"),
        *extra,
    ]


def _row(db: str, course_id: str) -> dict[str, object]:
    frame = read_tables(db)["dosimetry"]
    return dict(frame[frame["course_id"] == course_id].iloc[0])


def test_replace_writes_a_computed_row(
    registry: str, shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _row(registry, "DEMO-RT001")["source"] == "tps"
    args = _dosimetry_command(shared_dir, "--json", "--db", registry, "--course-id", "DEMO-RT001")
    assert main([*args, "--replace"]) == 0
    captured = capsys.readouterr()
    target = json.loads(captured.out)["target"]
    assert "written to" in captured.err and "(source computed)" in captured.err
    # the 14 Gy/7 Fx plan on a 50 Gy/5 Fx course, with the prescription's ROI as target: said
    assert (
        "warning: the plan's 14 Gy/7 Fx differs from course DEMO-RT001's 50 Gy/5 Fx" in captured.err
    )
    assert "warning: coverage of target 'Breast' is 15." in captured.err
    row = _row(registry, "DEMO-RT001")
    assert row["source"] == "computed"
    assert row["tv_cc"] == pytest.approx(target["tv_cc"], abs=5e-4)
    assert row["piv_cc"] == pytest.approx(target["piv_cc"], abs=5e-4)
    assert row["tv_piv_cc"] == pytest.approx(target["tv_piv_cc"], abs=5e-4)
    assert row["coverage_pct"] == pytest.approx(100 * target["coverage"], abs=5e-3)
    assert row["ci"] == pytest.approx(target["ci_rtog"], abs=5e-5)
    assert row["nci"] == pytest.approx(target["nci"], abs=5e-5)
    assert row["hi"] == pytest.approx(target["hi_rtog"], abs=5e-5)
    assert row["dmax_gy"] == pytest.approx(14.0 * target["hi_rtog"], abs=1e-3)
    assert len(read_tables(registry)["dosimetry"]) == 58  # replaced, not added


def test_existing_dosimetry_is_kept_without_replace(
    registry: str, shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _dosimetry_command(shared_dir, "--db", registry, "--course-id", "DEMO-RT002")
    assert main(args) == 2
    assert "already has dosimetry (source tps)" in capsys.readouterr().err
    assert _row(registry, "DEMO-RT002")["source"] == "tps"


def test_unknown_course_is_refused_and_nothing_written(
    registry: str, shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = read_tables(registry)["dosimetry"]
    args = _dosimetry_command(shared_dir, "--db", registry, "--course-id", "NO-SUCH-COURSE")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "dosimetry not written, the registry is unchanged" in err
    assert "NO-SUCH-COURSE" in err
    assert read_tables(registry)["dosimetry"].equals(before)


def test_db_needs_a_course(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_dosimetry_command(shared_dir, "--db", "x.db")) == 2
    assert "--db and --course-id go together" in capsys.readouterr().err
