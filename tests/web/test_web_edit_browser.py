"""Entering and correcting data in a real Chromium: a scan that makes a lesion progress, a bad
value and its message, a correction with its reason in the history, an import with its
preview; a viewer sees no form. Every write goes through the audited write path."""

from __future__ import annotations

from pathlib import Path

from web_helpers import artefacts
from web_helpers import browser_login as _login

TIMEOUT_MS = 30_000


def _entries(live) -> int:
    from rtoutcomes.web import queries

    with live.app.state.web.connect() as connection:
        return queries.audit_entries(connection, limit=1)[1]


def test_a_new_scan_turns_the_lesion_into_local_failure(
    demo_db: Path, users_file: Path, serve, browser
) -> None:
    live = serve(demo_db, users_file)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _login(page, live.url, "eddie")
    page.goto(f"{live.url}/patients/DEMO-P002")
    status = "#endpoint-LC-DEMO-L002 .lc-status"
    assert page.inner_text(status) == "censored"
    page.click("#lesion-DEMO-L002 a.add-scan")
    page.wait_for_selector("#add-form", timeout=TIMEOUT_MS)
    assert page.input_value("select[name=lesion_id]") == "DEMO-L002"
    page.fill("input[name=assessment_date]", "2010-11-20")
    page.select_option("select[name=modality]", "CT")
    page.fill("input[name=longest_diameter_mm]", "40")
    page.click("#add-form button[type=submit]")
    page.wait_for_selector("#endpoints", timeout=TIMEOUT_MS)
    assert page.inner_text(status) == "local failure"
    assert "diameter 40 mm on 2010-11-20" in page.inner_text("#endpoint-LC-DEMO-L002")
    calls = page.locator("#lesion-DEMO-L002 td.response").all_inner_texts()
    assert calls[-1] == "PD (local failure)"
    page.screenshot(path=str(artefacts() / "patient-after-scan.png"), full_page=True)
    page.goto(f"{live.url}/history")
    assert "eddie" in page.inner_text(".entries") and "assessments" in page.inner_text(".entries")


def test_a_bad_value_shows_its_message_beside_the_field(
    demo_db: Path, users_file: Path, serve, browser
) -> None:
    live = serve(demo_db, users_file)
    before = _entries(live)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _login(page, live.url, "eddie")
    page.goto(f"{live.url}/patients/DEMO-P002/add/assessments?lesion_id=DEMO-L002")
    page.fill("input[name=assessment_date]", "2010-11-31")
    page.select_option("select[name=modality]", "CT")
    page.fill("input[name=longest_diameter_mm]", "999")
    page.click("#add-form button[type=submit]")
    page.wait_for_selector(".field-error", timeout=TIMEOUT_MS)
    date_error = page.inner_text("#field-assessment_date .field-error")
    size_error = page.inner_text("#field-longest_diameter_mm .field-error")
    assert "2010-11-31" in date_error
    assert "999" in size_error and "empty" in size_error  # an 'unknown' code: leave it empty
    assert page.input_value("input[name=longest_diameter_mm]") == "999"  # kept for fixing
    page.screenshot(path=str(artefacts() / "add-scan-errors.png"), full_page=True)
    assert _entries(live) == before  # nothing written


def test_a_correction_needs_a_reason_and_is_in_the_history(
    demo_db: Path, users_file: Path, serve, browser
) -> None:
    live = serve(demo_db, users_file)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _login(page, live.url, "eddie")
    page.goto(f"{live.url}/records/lesions/DEMO-L002")
    page.fill("#correct-form input[name=size_cm]", "4.6")
    page.click("#correct-form button[type=submit]")
    page.wait_for_selector("#field-reason .field-error", timeout=TIMEOUT_MS)
    assert "reason" in page.inner_text("#field-reason .field-error")
    page.fill("#correct-form input[name=size_cm]", "4.6")
    page.fill("#correct-form input[name=reason]", "re-measured on the planning CT")
    page.click("#correct-form button[type=submit]")
    page.wait_for_selector("#saved", timeout=TIMEOUT_MS)
    assert "<th>size_cm</th>" in page.content() and "4.6" in page.inner_text("#record")
    history = page.inner_text("#history")
    assert "size_cm: 4.4 → 4.6" in history
    assert "re-measured on the planning CT" in history and "eddie" in history
    page.screenshot(path=str(artefacts() / "record-history.png"), full_page=True)
    page.goto(f"{live.url}/history")
    page.click("#verify-link")
    page.wait_for_selector("#verify-result", timeout=60_000)
    assert page.inner_text("#verify-result").startswith("Intact")
    page.screenshot(path=str(artefacts() / "history.png"), full_page=True)


def test_import_with_its_preview(
    demo_db: Path, users_file: Path, serve, browser, tmp_path: Path
) -> None:
    live = serve(demo_db, users_file)
    upload = tmp_path / "assessments.csv"
    upload.write_text(
        "assessment_id,lesion_id,assessment_date,modality,longest_diameter_mm,new_lesions\n"
        "DEMO-A0020,DEMO-L003,2012-01-19,CT,27,no\n"
        "DEMO-A9001,DEMO-L003,2012-03-01,CT,35,no\n",
        encoding="utf-8",
    )
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _login(page, live.url, "eddie")
    page.goto(f"{live.url}/import")
    page.set_input_files("#upload-form input[type=file]", str(upload))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#preview", timeout=TIMEOUT_MS)
    assert page.inner_text("#totals").startswith("1 added, 1 changed, 0 deleted")
    changes = page.inner_text("#preview .changes")
    assert "+ assessments DEMO-A9001" in changes
    assert "DEMO-A0020 longest_diameter_mm: 26 → 27" in changes
    page.screenshot(path=str(artefacts() / "import-preview.png"), full_page=True)
    before = _entries(live)
    page.click("#confirm-form button[type=submit]")  # no reason: refused, nothing written
    page.wait_for_selector("#field-reason .field-error", timeout=TIMEOUT_MS)
    assert _entries(live) == before
    page.fill("#confirm-form input[name=reason]", "month-24 follow-up from radiology")
    page.click("#confirm-form button[type=submit]")
    page.wait_for_selector("#import-done", timeout=TIMEOUT_MS)
    page.goto(f"{live.url}/patients/DEMO-P003")
    assert "local failure" in page.inner_text("#endpoint-LC-DEMO-L003")


def test_a_viewer_sees_no_form_and_cannot_post_one(
    demo_db: Path, users_file: Path, serve, browser
) -> None:
    live = serve(demo_db, users_file)
    page = browser.new_page()
    _login(page, live.url, "vera")
    page.goto(f"{live.url}/records/lesions/DEMO-L002")
    assert page.locator("#correct-form").count() == 0
    page.goto(f"{live.url}/patients/DEMO-P002")
    assert page.locator("a.add-scan").count() == 0
    before = _entries(live)
    # The page's own session token, posted by the viewer's browser: refused by role.
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    response = page.request.post(
        f"{live.url}/records/lesions/DEMO-L002/correct",
        form={"csrf_token": token, "size_cm": "9", "reason": "viewer tries"},
    )
    assert response.status == 403
    assert _entries(live) == before
