"""Study runs from the web app without a browser: a study built from the form, a study file
with a mistake, and the server's log (paths only, never search text)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest
from web_helpers import csrf_of, login


def _wait(live, run_id: str, timeout: float = 180) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = live.app.state.web.runner.get(run_id)
        if run is not None and run.finished:
            return run.state
        time.sleep(0.2)
    raise AssertionError("the study run did not finish")


def test_a_study_built_from_the_form_runs(demo_db: Path, users_file: Path, serve) -> None:
    live = serve(demo_db, users_file)
    with httpx.Client() as client:
        login(client, live.url, "eddie")
        token = csrf_of(client.get(f"{live.url}/studies").text)
        started = client.post(
            f"{live.url}/studies",
            follow_redirects=False,
            data={
                "csrf_token": token,
                "source": "form",
                "title": "OS by grade <b>",
                "endpoints": ["OS"],
                "groups": ["grade"],
                "univariate": ["grade"],
                "local_failure": "RECIST 1.1",
            },
        )
        assert started.status_code == 303
        run_id = started.headers["location"].rsplit("/", 1)[-1]
        assert _wait(live, run_id) == "done"
        page = client.get(f"{live.url}/studies/{run_id}").text
        assert "OS by grade &lt;b&gt;" in page
        assert "figures/km_OS_by_grade.png" in page
        report = client.get(f"{live.url}/studies/{run_id}/files/report.html")
        assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
        escaped = client.get(f"{live.url}/studies/{run_id}/files/../study.yaml")
        assert escaped.status_code == 404  # nothing outside the report folder
        # the Word file is manuscript.docx; a link to its earlier name tables.docx still works
        word = client.get(f"{live.url}/studies/{run_id}/files/manuscript.docx")
        assert word.status_code == 200 and word.content.startswith(b"PK")
        assert client.get(f"{live.url}/studies/{run_id}/files/tables.docx").content == (
            word.content
        )
        assert client.get(f"{live.url}/studies/{run_id}/files/tables.xlsx.docx").status_code == (
            404
        )
    import yaml

    study = yaml.safe_load((live.app.state.web.runner.folder(run_id) / "study.yaml").read_text())
    assert study["endpoints"] == {"OS": {}}
    assert study["analyses"] == {"groups": ["grade"], "univariate": ["grade"]}


def test_a_study_file_with_a_mistake_is_refused_with_its_message(
    demo_db: Path, users_file: Path, serve
) -> None:
    live = serve(demo_db, users_file)
    with httpx.Client() as client:
        login(client, live.url, "eddie")
        token = csrf_of(client.get(f"{live.url}/studies").text)
        refused = client.post(
            f"{live.url}/studies",
            data={"csrf_token": token, "source": "upload"},
            files={
                "study_file": ("s.yaml", b"title: x\nendpoints:\n  OS: {}\nkm: {confType: log}\n")
            },
        )
        assert refused.status_code == 400
        assert "km.confType" in refused.text and "conf_type" in refused.text
    assert live.app.state.web.runner.runs() == []


def test_the_log_names_paths_not_search_text(
    demo_db: Path, serve, caplog: pytest.LogCaptureFixture
) -> None:
    live = serve(demo_db)
    with caplog.at_level(logging.INFO, logger="rtoutcomes.web"):
        httpx.get(f"{live.url}/patients", params={"q": "Jane Doe 1970-01-01"})
    lines = [r.getMessage() for r in caplog.records if r.name == "rtoutcomes.web"]
    assert any(line.startswith("GET /patients 200") for line in lines)  # control: it logs
    assert not any("Jane" in line or "1970" in line for line in lines)
