"""Hostile-input corpus and fuzz tests (hypothesis) over every reader of user input.

The importer (CSV folder and workbook), the study-file parser, ``analyze``'s table reader and
the DICOM RT readers each either accept an input or refuse it with rtoutcomes' own error: never
another exception (which the command line would print as a traceback). Through the command
line: exit 0 or 2, no traceback, a registry that already holds data is never changed and an
output folder is never half written.

Deterministic and bounded: a fixed hypothesis profile (``derandomize``, no example database, a
fixed number of examples), so every run tries the same inputs in about a minute in all.
"""

from __future__ import annotations

import contextlib
import csv
import io
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mini_registry import Tables, mini_registry, write_csv_folder, write_workbook

from conftest import database_snapshot
from rtoutcomes.cli import main
from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.tabular import read_registry_files
from rtoutcomes.registry.validation import validate_registry

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW = settings(FUZZ, max_examples=15)

# The hostile-input corpus: what a careless or hostile user puts into a cell.
HOSTILE_TEXT = [
    "",
    " ",
    "NA",
    "N/A",
    "?",
    "-",
    ".",
    "999",
    "-99",
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-0",
    "9" * 400,
    "1" * 5000,
    "0x1F",
    "1_000",
    "1,5",
    "5e0",
    "\u0665",
    "\uff15",
    "½",
    "²",
    "=1+1",
    "+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "-2+3",
    "'=x",
    '=HYPERLINK("http://x","y")',
    "\t",
    "\r",
    "\n",
    "a\nb",
    "a\r\nb",
    "\x00",
    "a\x00b",
    "\x0b",
    "\x1b[31m",
    "\ufeff",
    "\u200b",
    "\u00a0",
    "\u202e",
    "DEMO-P001",
    "demo-p001",
    "P0\u0410",
    "P01 ",
    " P01",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "'; DROP TABLE patients;--",
    "2019-02-30",
    "2019-13-01",
    "1899-12-31",
    "2101-01-01",
    "0000-00-00",
    "20190101",
    "2019/01/01",
    "01.02.2019",
    "43831",
    "-1",
    "99",
    "yes",
    "TRUE",
    "y",
    "Ja",
    "\U0001f600",
    "a" * 100_000,
]
TEXT_CELLS = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30))


def _mutated(tables: Tables, data: st.DataObject) -> Tables:
    """The mini registry with up to four cells replaced by hostile text."""
    for _ in range(data.draw(st.integers(1, 4))):
        table = data.draw(st.sampled_from(sorted(t for t in tables if tables[t])))
        row = data.draw(st.sampled_from(tables[table]))
        column = data.draw(st.sampled_from(sorted(row)))
        row[column] = data.draw(TEXT_CELLS)
    return tables


@FUZZ
@given(data=st.data())
def test_registry_validation_never_raises(data: st.DataObject, tmp_path: Path) -> None:
    folder = write_csv_folder(_mutated(mini_registry(), data), tmp_path / "fuzz")
    validated = validate_registry(read_registry_files(folder))
    for problem in validated.problems:
        assert problem.rule and problem.source


@FEW
@given(data=st.data())
def test_registry_workbook_validation_never_raises(data: st.DataObject, tmp_path: Path) -> None:
    tables = _mutated(mini_registry(), data)
    from openpyxl.utils.exceptions import IllegalCharacterError

    try:
        path = write_workbook(tables, tmp_path / "fuzz.xlsx")
    except (ValueError, TypeError, IllegalCharacterError):  # openpyxl refuses control chars
        return
    validate_registry(read_registry_files(path))


@FUZZ
@given(raw=st.binary(max_size=400))
def test_registry_csv_bytes_never_raise(raw: bytes, tmp_path: Path) -> None:
    folder = write_csv_folder(mini_registry(), tmp_path / "bytes")
    (folder / "lesions.csv").write_bytes(raw)
    validated = validate_registry(read_registry_files(folder))
    assert validated.problems  # lesions.csv is never a valid table of 4 lesions here


@FEW
@given(data=st.data())
def test_import_into_a_filled_registry_changes_nothing(
    data: st.DataObject, filled_registry: str, tmp_path: Path
) -> None:
    before = database_snapshot(filled_registry)
    folder = write_csv_folder(_mutated(mini_registry(), data), tmp_path / "again")
    status = main(["import", str(folder), "--db", filled_registry])
    assert status == 2
    assert database_snapshot(filled_registry) == before


@pytest.fixture(scope="module")
def filled_registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    from rtoutcomes.registry.importer import import_registry

    folder = tmp_path_factory.mktemp("filled")
    import_registry(write_csv_folder(mini_registry(), folder / "in"), folder / "r.db")
    return f"sqlite:///{folder / 'r.db'}"


# --- study files -------------------------------------------------------------------------------

VALID_STUDY = """\
title: Fuzz study
time_unit: months
rates_at: [12, 24]
km: {conf_type: log, conf_level: 0.95}
endpoints:
  OS: {time: os_time, event: os_status, event_values: [1]}
covariates:
  size: {column: size_cm, type: binary, cut: 5, labels: ["<=5 cm", ">5 cm"]}
  age: {column: age, type: continuous, per: 10}
analyses:
  groups: [size]
  univariate: [size, age]
"""
YAML_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.sampled_from(HOSTILE_TEXT[:60]),
    st.text(max_size=12),
)
YAML_VALUES = st.recursive(
    YAML_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(string.ascii_lowercase + "_.", max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)


@FUZZ
@given(
    value=YAML_VALUES,
    key_path=st.lists(
        st.sampled_from(
            [
                "title",
                "time_unit",
                "rates_at",
                "km",
                "conf_type",
                "conf_level",
                "endpoints",
                "OS",
                "time",
                "event",
                "event_values",
                "censor_values",
                "covariates",
                "size",
                "cut",
                "labels",
                "type",
                "age",
                "per",
                "analyses",
                "groups",
                "univariate",
                "figures",
                "max_time",
                "break_time",
                "width_mm",
                "cox",
                "ties",
                "data",
            ]
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_study_parser_never_raises(value: object, key_path: list[str], tmp_path: Path) -> None:
    import yaml

    from rtoutcomes.study import load_study

    document = yaml.safe_load(VALID_STUDY)
    node = document
    for key in key_path[:-1]:
        child = node.get(key) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[key_path[-1]] = value
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with contextlib.suppress(RtOutcomesError):
        load_study(path)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))
    )
)
def test_study_file_text_never_raises(text: str, tmp_path: Path) -> None:
    from rtoutcomes.study import load_study

    path = tmp_path / "study.yaml"
    path.write_text(
        VALID_STUDY[: len(VALID_STUDY) // 2] + text, encoding="utf-8", errors="surrogateescape"
    )
    with contextlib.suppress(RtOutcomesError):
        load_study(path)


# --- analysis tables ---------------------------------------------------------------------------


def _analysis_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["os_time", "os_status", "size_cm", "age"])
    writer.writerows(rows)
    return buffer.getvalue()


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.lists(st.lists(TEXT_CELLS, min_size=0, max_size=5), max_size=8).map(
            lambda rows: _analysis_csv(rows).encode("utf-8", "surrogatepass")
        ),
    ),
    suffix=st.sampled_from([".csv", ".xlsx", ".txt"]),
)
def test_analysis_table_reader_never_raises(raw: bytes, suffix: str, tmp_path: Path) -> None:
    from rtoutcomes.study.spec import Endpoint
    from rtoutcomes.study.table import endpoint_data, read_table

    path = tmp_path / f"table{suffix}"
    path.write_bytes(raw)
    try:
        table = read_table(path)
        endpoint_data(table, Endpoint("OS", "os_time", "os_status"))
    except RtOutcomesError:
        pass


# --- DICOM -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dicom_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    import numpy as np

    from rtoutcomes.io.dicom_rt_synthetic import circle, write_rtdose, write_rtplan, write_rtstruct

    folder = tmp_path_factory.mktemp("dicom")
    contours = [(z, circle(10.0, points=32)) for z in (-2.0, 0.0, 2.0)]
    dose = np.fromfunction(lambda z, y, x: 20.0 - 0.1 * (x + y + z), (5, 12, 12))
    paths = {
        "rtstruct": write_rtstruct(folder / "rtss.dcm", {"PTV": contours}),
        "rtdose": write_rtdose(
            folder / "rtdose.dcm", dose, origin_mm=(-15.0, -15.0, -4.0), spacing_mm=(2.5, 2.5, 2.0)
        ),
        "rtplan": write_rtplan(folder / "rtplan.dcm", prescription_gy=20.0, fractions=5),
    }
    return {kind: Path(path).read_bytes() for kind, path in paths.items()}


@FUZZ
@given(kind=st.sampled_from(["rtstruct", "rtdose", "rtplan"]), data=st.data())
def test_dicom_readers_never_raise(
    kind: str, data: st.DataObject, dicom_files: dict[str, bytes], tmp_path: Path
) -> None:
    from rtoutcomes.io.dicom_rt import read_rtdose, read_rtplan, read_rtstruct

    original = bytearray(dicom_files[kind])
    if data.draw(st.booleans()):
        damaged = bytes(original[: data.draw(st.integers(0, len(original)))])
    else:
        for _ in range(data.draw(st.integers(1, 20))):
            position = data.draw(st.integers(128, len(original) - 1))
            original[position] = data.draw(st.integers(0, 255))
        damaged = bytes(original)
    path = tmp_path / f"{kind}.dcm"
    path.write_bytes(damaged)
    reader = {"rtstruct": read_rtstruct, "rtdose": read_rtdose, "rtplan": read_rtplan}[kind]
    with contextlib.suppress(RtOutcomesError):
        reader(path)


# --- the command line on the corpus ------------------------------------------------------------

ANALYZE_CORPUS = [
    "=1+1",
    "+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "a\r\nb",
    "a\x00b",
    "\x1b[31m",
    "\u202e",
    "<script>alert(1)</script>",
    "$x$ and $",
    "9" * 400,
    "\U0001f600",
    "\t",
]


@pytest.mark.parametrize("hostile", ANALYZE_CORPUS)
def test_analyze_on_hostile_labels_writes_all_or_nothing(
    hostile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hostile level or title through ``analyze``: exit 0 with every output, or exit 2 with
    none (and no traceback)."""
    import yaml

    rows = [[str(t), str(t % 2), "A" if t % 3 else hostile, str(40 + t)] for t in range(1, 25)]
    data = tmp_path / "table.csv"
    data.write_text(_analysis_csv(rows), encoding="utf-8", errors="surrogatepass")
    study = yaml.safe_load(VALID_STUDY)
    study["title"] = hostile or "x"
    study["covariates"]["size"] = {"column": "size_cm", "type": "categorical"}
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    status = main(["analyze", str(data), "--config", str(config), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if status == 0:
        assert {p.name for p in out.iterdir()} >= {
            "report.html",
            "results.json",
            "tables.xlsx",
            "manuscript.docx",
            "tables",
            "figures",
        }
    else:
        assert status == 2 and err.startswith("rtoutcomes analyze: error:"), err
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
