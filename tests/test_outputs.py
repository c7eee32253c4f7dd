"""Output folders: staged and moved in whole, formulas and control characters inert, --out guard.

Reproductions of issue 8 (items 1, 3, 4, 5): the demo's database check with '%' and '#' in the
folder name, `--out /` and `--out FILE`, formula cells in tables.xlsx and the CSVs, control
characters that crashed the xlsx/docx writers after the other files were written.
"""

from __future__ import annotations

import copy
import csv
import os
from pathlib import Path

import pytest

from rtoutcomes.cli import main
from rtoutcomes.io.outputs import (
    OutputError,
    cell_text,
    check_output_folder,
    neutralise_formula,
    staged_output,
    xml_safe,
)
from rtoutcomes.report.build import build_report, write_report
from test_report_render import results

HOSTILE_TITLE = "=cmd|' /C calc'!A0 \x0b\x1b\x00 title"
HOSTILE_LEVEL = '=HYPERLINK("http://x.test","y")\x1b'


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _hostile_results() -> dict:
    data = copy.deepcopy(results())
    data["study"]["title"] = HOSTILE_TITLE
    for covariate in data["study"]["covariates"].values():
        covariate["label"] = "+" + covariate["label"] + "\x00"
    for endpoint in data["endpoints"].values():
        endpoint["label"] = "@SUM(1+1)\x07"
        for group in endpoint.get("groups", {}).values():
            old = group["order"][0]
            group["levels"][HOSTILE_LEVEL] = group["levels"].pop(old)
            group["order"] = [HOSTILE_LEVEL if x == old else x for x in group["order"]]
    return data


def test_cell_text_neutralises_formulas_and_control_characters() -> None:
    assert cell_text("=1+1") == "'=1+1"
    assert cell_text("-2+3") == "'-2+3"
    assert cell_text("@x") == "'@x" and cell_text("\tx") == "'\tx"
    assert cell_text("a=b") == "a=b"
    assert cell_text("-670.089") == "-670.089" and cell_text("+1e-3") == "+1e-3"
    assert cell_text("-24.0–68.0") == "-24.0–68.0"
    assert cell_text("-1-1") == "'-1-1"
    assert cell_text("-2+cmd|' /C calc'!A0") == "'-2+cmd|' /C calc'!A0"
    assert xml_safe("a\x00b\x0bc\x1bd\te\nf") == "a\ufffdb\ufffdc\ufffdd\te\nf"
    assert neutralise_formula("plain") == "plain"


def test_report_outputs_hold_no_formula_and_survive_control_characters(tmp_path: Path) -> None:
    from docx import Document
    from openpyxl import load_workbook

    write_report(build_report(_hostile_results()), tmp_path)
    workbook = load_workbook(tmp_path / "tables.xlsx")
    cells = [c for sheet in workbook for row in sheet.iter_rows() for c in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if cell_text(t) != t]
    assert any("\ufffd" in t for t in texts)  # the control characters, visible
    for file in (tmp_path / "tables").glob("*.csv"):
        with file.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                assert not [c for c in row if cell_text(c) != c]
                assert not [c for c in row if "\x00" in c or "\x1b" in c]
    document = Document(str(tmp_path / "manuscript.docx"))
    assert document.paragraphs[0].text.startswith("=cmd")  # Word runs no formula
    assert "\ufffd" in document.paragraphs[0].text


def test_failed_write_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rtoutcomes.report.docx_file as docx_file

    out = tmp_path / "report"
    write_report(build_report(results()), out)
    (out / "my notes.txt").write_text("mine")
    before = _snapshot(out)

    def broken(*_: object, **__: object) -> None:
        raise ValueError("All strings must be XML compatible")  # what python-docx raised

    monkeypatch.setattr(docx_file, "write_docx", broken)
    with pytest.raises(ValueError):
        write_report(build_report(_hostile_results()), out)
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging folder left


def test_negative_control_unstaged_writer_leaves_a_mixed_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without staging the same failure mixes new and old files: what the test above catches."""
    import rtoutcomes.report.build as build
    import rtoutcomes.report.docx_file as docx_file

    out = tmp_path / "report"
    write_report(build_report(results()), out)
    before = _snapshot(out)
    monkeypatch.setattr(
        docx_file, "write_docx", lambda *_, **__: (_ for _ in ()).throw(ValueError())
    )
    with pytest.raises(ValueError):
        build.write_report_files(build_report(_hostile_results()), out, lambda _: None)
    after = _snapshot(out)
    assert after["manuscript.docx"] == before["manuscript.docx"]
    assert after["results.json"] != before["results.json"]


def test_rerun_replaces_outputs_whole_and_keeps_other_files(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "figures").mkdir()
    (out / "figures" / "km_stale_from_an_old_run.png").write_bytes(b"old")
    (out / "analysis-plan.docx").write_bytes(b"mine")
    write_report(build_report(results()), out)
    assert not (out / "figures" / "km_stale_from_an_old_run.png").exists()
    assert (out / "analysis-plan.docx").read_bytes() == b"mine"
    assert (out / "report.html").is_file()


def test_out_guard(tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    with pytest.raises(OutputError, match="file system root"):
        check_output_folder("/")
    with pytest.raises(OutputError, match="a file of that name exists"):
        check_output_folder(file)
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(file / "sub")
    with pytest.raises(OutputError), staged_output("/"):
        pass  # pragma: no cover - refused before
    assert check_output_folder(tmp_path / "new" / "deeper") == (tmp_path / "new" / "deeper")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_out_read_only_folder(tmp_path: Path) -> None:  # pragma: no cover - not run as root
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_output_folder(folder)
    finally:
        folder.chmod(0o700)


def test_cli_out_refusals_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    study = tmp_path / "study.yaml"
    study.write_text("endpoints: {OS: {}}\n")
    for argv in (
        ["demo", "--out", "/", "--quiet"],
        ["demo", "--out", str(file), "--quiet"],
        ["run", str(study), "--db", str(tmp_path / "r.db"), "--out", str(file)],
        ["export", "--db", str(tmp_path / "r.db"), "--out", "/"],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
    assert file.read_text() == "x" and not (tmp_path / "r.db").exists()


def test_demo_database_check_reads_the_folder_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8 item 1: '%20' and '#' in the --out folder name."""
    import sqlite3

    from rtoutcomes.demo import DemoError, _is_demo_database, build_demo_registry

    monkeypatch.chdir(tmp_path)
    (tmp_path / "run a").mkdir()
    build_demo_registry(tmp_path / "run a")
    own = tmp_path / "run%20a"
    own.mkdir()
    with sqlite3.connect(own / "registry.db") as connection:
        connection.execute("CREATE TABLE registry_meta (key TEXT, value TEXT)")
        connection.execute("INSERT INTO registry_meta VALUES ('name', 'my own registry')")
    connection.close()
    before = (own / "registry.db").read_bytes()
    assert _is_demo_database(tmp_path / "run a" / "registry.db")
    assert not _is_demo_database(own / "registry.db")
    with pytest.raises(DemoError, match="not a demo registry"):
        build_demo_registry("run%20a")
    assert (own / "registry.db").read_bytes() == before
    for _ in range(2):  # a second run replaces the first demo database
        build_demo_registry("r#b?x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r#b?x", "run a", "run%20a"]
