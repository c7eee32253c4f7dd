"""Issue 8: every input that gave a traceback ends with a clear error and exit status 2.

Each case is one of the issue's reproductions, run through the command line in-process; the
database files involved are compared byte for byte before and after (never changed).
"""

from __future__ import annotations

import io
import os
import sqlite3
import zipfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from rtoutcomes.cli import main

STUDY_LUNG = Path(__file__).resolve().parent / "data" / "study_lung.yaml"
REGISTRY_STUDY = "title: t\nendpoints: {LC: {}, OS: {}, PFS: {}}\n"


def refused(argv: list[str], capsys: pytest.CaptureFixture[str], *expected: str) -> str:
    """Run ``argv``; it must exit 2 with an error and no traceback; returns stderr."""
    assert main(argv) == 2, argv
    err = "".join(
        line
        for line in capsys.readouterr().err.splitlines(keepends=True)
        if not line.startswith("[")
    )  # progress lines
    assert "Traceback" not in err and err.startswith(f"rtoutcomes {argv[0]}: error: "), err
    for text in expected:
        assert text in err, (text, err)
    return err


def one_line(argv: list[str], capsys: pytest.CaptureFixture[str], *expected: str) -> None:
    err = refused(argv, capsys, *expected)
    assert err.count("\n") == 1, err


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.db"
    assert main(["init", "--db", str(path)]) == 0
    return path


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("url", ["mysql://u@h/db", "http://example.test/x", "oracle://u@h/x"])
def test_unsupported_database_scheme(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["validate", "--db", url], ["init", "--db", url]):
        one_line(command, capsys, "unsupported database URL scheme")


def test_newer_schema_is_refused_with_the_reason(
    registry: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with closing(sqlite3.connect(registry)) as db, db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    before = registry.read_bytes()
    study = _write(tmp_path / "s.yaml", REGISTRY_STUDY)
    for argv in (
        ["validate", "--db", str(registry)],
        ["init", "--db", str(registry)],
        ["export", "--db", str(registry), "--out", str(tmp_path / "x")],
        ["run", str(study), "--db", str(registry), "--out", str(tmp_path / "o")],
    ):
        one_line(argv, capsys, "9999_from_the_future", "newer rtoutcomes")
    assert registry.read_bytes() == before


def _foreign_database(path: Path) -> bytes:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        db.execute("INSERT INTO notes (text) VALUES ('my notes')")
    return path.read_bytes()


def test_foreign_sqlite_database_is_not_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rtoutcomes.demo import demo_registry_files as demo_folder

    foreign = tmp_path / "other.db"
    before = _foreign_database(foreign)
    assert before[18:20] == b"\x01\x01"  # rollback journal, not WAL
    for argv in (
        ["init", "--db", str(foreign)],
        ["validate", "--db", str(foreign)],
        ["import", str(demo_folder()), "--db", str(foreign)],
    ):
        one_line(argv, capsys, "another program's SQLite database", "notes")
    assert foreign.read_bytes() == before  # no tables added, not switched to WAL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_negative_control_plain_sqlite_open_switches_a_foreign_database_to_wal(
    tmp_path: Path,
) -> None:
    """What the opener prevents: a plain engine connect changes another program's file."""
    import sqlalchemy as sa

    from rtoutcomes.registry.database import _sqlite_on_connect

    foreign = tmp_path / "other.db"
    before = _foreign_database(foreign)
    engine = sa.create_engine(f"sqlite:///{foreign}")
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    with engine.connect():
        pass
    engine.dispose()
    assert foreign.read_bytes()[18:20] == b"\x02\x02" != before[18:20]


def test_empty_and_non_sqlite_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    text = _write(tmp_path / "notes.db", "not a database\n")
    for argv in (
        ["validate", "--db", str(empty)],
        ["export", "--db", str(empty), "--out", str(tmp_path / "o")],
    ):
        one_line(argv, capsys, "empty (0-byte) file")
    one_line(["init", "--db", str(text)], capsys, "not a SQLite database")
    assert empty.read_bytes() == b"" and text.read_text() == "not a database\n"
    # what a killed `init` leaves: a 0-byte file, which init and import may then use
    assert main(["init", "--db", str(empty)]) == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[" * 3000 + "]" * 3000, "nested too deeply"),
        (
            "title: t\nrates_at: [" + "9" * 400 + "]\nendpoints: {OS: {}}\n",
            "must be a finite number",
        ),
        ("title: t\nrates_at: [1.0e+400]\nendpoints: {OS: {}}\n", "must be a finite number"),
        ("title: t\ntitle: u\nendpoints: {OS: {}}\n", "key 'title' given twice"),
        ('title: "a\\x1bb"\nendpoints: {OS: {}}\n', "control character"),
        (
            "title: t\nendpoints: {OS: {}}\ncovariates:\n  size: {column: size_cm, type: binary, "
            "cut: .nan}\n",
            "must be a finite number",
        ),
    ],
)
def test_study_file_problems(
    body: str, expected: str, tmp_path: Path, registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = _write(tmp_path / "study.yaml", body)
    one_line(
        ["run", str(study), "--db", str(registry), "--out", str(tmp_path / "o")], capsys, expected
    )
    assert not (tmp_path / "o").exists()


def _damaged_workbook(path: Path, damage: Callable[[str, bytes], bytes]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["os_time", "os_status"])
    for i in range(40):
        workbook.active.append([i + 1, i % 2])
    raw = io.BytesIO()
    workbook.save(raw)
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, damage(info.filename, source.read(info.filename)))
    return path


def _truncate_sheet(name: str, data: bytes) -> bytes:
    return data[: len(data) // 2] if name == "xl/worksheets/sheet1.xml" else data


def _corrupt_compressed(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(start + 5, start + info.compress_size - 5, 7):
        data[offset] ^= 0xA5
    path.write_bytes(bytes(data))
    return path


def test_analysis_table_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = _write(tmp_path / "empty.csv", "")
    csv_named_xlsx = _write(tmp_path / "table.xlsx", "os_time,os_status\n1,0\n")
    truncated = _damaged_workbook(tmp_path / "truncated.xlsx", _truncate_sheet)
    corrupt = _corrupt_compressed(_damaged_workbook(tmp_path / "corrupt.xlsx", lambda n, d: d))
    for path, expected in (
        (empty, "is empty"),
        (csv_named_xlsx, "cannot read"),
        (truncated, "cannot read"),
        (corrupt, "cannot read"),
    ):
        one_line(
            ["analyze", str(path), "--config", str(STUDY_LUNG), "--out", str(tmp_path / "o")],
            capsys,
            path.name,
            expected,
        )
    assert not (tmp_path / "o").exists()


def test_registry_workbook_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_named_xlsx = _write(tmp_path / "registry.xlsx", "key,value\nname,x\n")
    truncated = _damaged_workbook(tmp_path / "truncated.xlsx", _truncate_sheet)
    corrupt = _corrupt_compressed(_damaged_workbook(tmp_path / "corrupt.xlsx", lambda n, d: d))
    for path in (csv_named_xlsx, truncated, corrupt):
        db = tmp_path / f"{path.stem}.db"
        refused(["import", str(path), "--db", str(db)], capsys, "not a readable .xlsx workbook")
        assert not db.exists()


def test_dicom_truncated_or_corrupted(
    shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import random

    folder = shared_dir / "data" / "dicom" / "breast-boost"
    truncated = tmp_path / "rtdose.dcm"
    truncated.write_bytes((folder / "rtdose.dcm").read_bytes()[:20000])
    corrupted = tmp_path / "rtss.dcm"
    data = bytearray((folder / "rtss.dcm").read_bytes())
    rng = random.Random(1)
    for _ in range(200):
        data[rng.randrange(1000, len(data))] = rng.randrange(128, 256)
    corrupted.write_bytes(bytes(data))
    one_line(
        [
            "dosimetry",
            "--rtstruct",
            str(folder / "rtss.dcm"),
            "--rtdose",
            str(truncated),
            "--rx",
            "16",
        ],
        capsys,
        "damaged or truncated DICOM",
    )
    one_line(
        [
            "dosimetry",
            "--rtstruct",
            str(corrupted),
            "--rtdose",
            str(folder / "rtdose.dcm"),
            "--rx",
            "16",
        ],
        capsys,
        "damaged or truncated DICOM",
    )


def test_run_on_an_empty_registry(
    registry: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = _write(tmp_path / "s.yaml", REGISTRY_STUDY)
    one_line(
        ["run", str(study), "--db", str(registry), "--out", str(tmp_path / "o")],
        capsys,
        "holds no patients",
    )


def test_unreadable_import_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused(
        ["import", str(tmp_path / "nowhere"), "--db", str(tmp_path / "r.db")],
        capsys,
        "no such file or folder",
    )
    if os.geteuid() != 0:  # pragma: no cover - root reads anything
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0)
        try:
            refused(
                ["import", str(folder), "--db", str(tmp_path / "r.db")],
                capsys,
                "cannot read the folder",
            )
        finally:
            folder.chmod(0o700)
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize("stray", ["7", "two"])
def test_status_code_outside_the_declared_values(stray: str) -> None:
    import pandas as pd

    from rtoutcomes.study.errors import AnalysisTableError
    from rtoutcomes.study.spec import Endpoint
    from rtoutcomes.study.table import endpoint_data

    table = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "s": ["0", "1", stray, "0"]})
    with pytest.raises(AnalysisTableError, match=f"row 4: value '{stray}' is neither"):
        endpoint_data(table, Endpoint("OS", "t", "s"))
    declared = Endpoint("OS", "t", "s", censor_values=("0", stray))
    assert endpoint_data(table, declared).event.tolist() == [0, 1, 0, 0]
    with pytest.raises(AnalysisTableError, match="censor_values: 0"):
        endpoint_data(table, Endpoint("OS", "t", "s", censor_values=("0",)))
    # negative control: one censoring code and the event code pass without censor_values
    assert endpoint_data(table.iloc[[0, 1, 3]], Endpoint("OS", "t", "s")).event.sum() == 1


@pytest.mark.parametrize(
    ("end", "break_time"), [(1e7, None), (1e308, None), (1e7, 1.0), (1e308, 1e-300)]
)
def test_time_axis_ticks_are_bounded(end: float, break_time: float | None) -> None:
    """Issue 8 item 6: ticks every 730 days without an upper bound hung on a time of 1e7."""
    import math

    from rtoutcomes.report.figures import MAX_TICKS, Axis, ticks

    found = ticks(Axis(unit="days", break_time=break_time), end)
    assert 2 <= len(found) <= MAX_TICKS + 2 and found[-1] >= end * (1 - 1e-9)
    assert all(isinstance(t, float) and math.isfinite(t) for t in found)
