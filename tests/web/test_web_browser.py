"""The web app in a real Chromium (Debian's, driven by Playwright): log in, find a patient,
read the pages (screenshots kept as test artefacts), run the model study and open its report;
hostile strings in the registry never execute. Bounded: one browser per module, a handful of
pages, every wait with a timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import artefacts, hostile_registry
from web_helpers import browser_login as _login

from rtoutcomes.registry.importer import import_registry

TIMEOUT_MS = 30_000
# Set by any hostile string that manages to run; also any dialog or console error fails the test.
PWNED = "() => window.__pwned === undefined ? null : window.__pwned"


def _watch(page) -> list[str]:
    """Collect dialogs (alert/confirm) and console errors of ``page``."""
    seen: list[str] = []
    page.on("dialog", lambda d: (seen.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: seen.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    return seen


def test_login_find_a_patient_and_screenshots(
    demo_db: Path, users_file: Path, serve, browser
) -> None:
    live = serve(demo_db, users_file)
    live.wait_ready()
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    seen = _watch(page)
    _login(page, live.url, "eddie")
    shots = artefacts()
    page.screenshot(path=str(shots / "overview.png"), full_page=True)
    assert page.inner_text("#flow").splitlines()[0].split()[-1] == "68"
    page.click("text=Patients")
    page.fill("input[name=q]", "P002")
    page.click("form.filters button")
    page.wait_for_selector("#found", timeout=TIMEOUT_MS)
    assert page.inner_text("#found").startswith("1 patient")
    page.screenshot(path=str(shots / "patients.png"), full_page=True)
    page.click("#patients a")
    page.wait_for_selector("#endpoints", timeout=TIMEOUT_MS)
    assert "Patient DEMO-P002" in page.inner_text("h1")
    assert page.locator("svg.chart circle").count() == 3
    page.screenshot(path=str(shots / "patient.png"), full_page=True)
    page.goto(f"{live.url}/studies")
    page.screenshot(path=str(shots / "studies.png"), full_page=True)
    assert seen == []


def test_run_the_model_study_and_open_its_report(
    demo_db: Path, users_file: Path, serve, browser
) -> None:
    live = serve(demo_db, users_file)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    seen = _watch(page)
    _login(page, live.url, "eddie")
    page.goto(f"{live.url}/studies")
    page.click("#run-model")
    page.wait_for_selector("#progress li", timeout=TIMEOUT_MS)  # progress while it runs
    page.wait_for_selector(".state-done, .state-failed", timeout=180_000)
    assert page.inner_text("#run-state") == "done", page.content()[:3000]
    label = page.inner_text("#frozen strong")
    assert label.startswith("study-")  # the state it read is frozen on the audit trail
    page.screenshot(path=str(artefacts() / "study-run.png"), full_page=True)
    assert page.locator("#files a", has_text="manuscript.docx").count() == 1
    assert page.locator("#files a", has_text="tables.xlsx").count() == 1
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.click("text=Word")
    assert download.value.suggested_filename == "manuscript.docx"
    page.click("#open-report")
    page.wait_for_load_state("load", timeout=TIMEOUT_MS)
    text = page.inner_text("body")
    assert "model study, Feng et al. 2022" in text and "Provenance" in text
    assert label in text  # the report's provenance names the frozen state
    loaded = page.evaluate(
        "() => Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length"
    )
    assert loaded == page.evaluate("() => document.images.length") > 0
    page.screenshot(path=str(artefacts() / "report.png"))
    assert seen == []


def test_hostile_strings_never_execute(tmp_path: Path, users_file: Path, serve, browser) -> None:
    db = tmp_path / "hostile.db"
    import_registry(hostile_registry(tmp_path / "csv"), db)
    live = serve(db, users_file)
    page = browser.new_page()
    seen = _watch(page)
    _login(page, live.url, "vera")
    for url in (
        "/",
        "/patients",
        "/patients/DEMO-P001",
        "/patients/DEMO-P002",
        "/records/patients/DEMO-P001",
        "/records/toxicities/DEMO-T001",
        "/patients/DEMO-P007",
    ):
        page.goto(f"{live.url}{url}")
        assert page.evaluate(PWNED) is None, url
        assert page.locator("script, iframe, img").count() == 0, url
    page.goto(f"{live.url}/patients/DEMO-P001")
    assert "<script>window.__pwned=1</script>sarcoma" in page.inner_text("body")  # as text
    assert seen == []


def test_the_hostile_check_can_fail(browser) -> None:
    """Control: the same strings written into a page unescaped are caught by the checks."""
    page = browser.new_page()
    seen = _watch(page)
    page.set_content(
        '<p><img src=x onerror="window.__pwned=2"></p>'
        "<script>window.__pwned=1; alert('x')</script>"
    )
    page.wait_for_function("() => window.__pwned === 2", timeout=TIMEOUT_MS)
    assert page.evaluate(PWNED) == 2
    assert page.locator("script, iframe, img").count() > 0
    assert any(s.startswith("dialog") for s in seen)


@pytest.fixture(autouse=True)
def _close_pages(browser):
    yield
    for context in browser.contexts:
        context.close()
