"""The reading pages over the demo registry: overview, search, patient, record; hostile data."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from web_helpers import hostile_registry

from rtoutcomes.registry.importer import import_registry


def test_overview_counts_and_flow(demo_db: Path, serve) -> None:
    live = serve(demo_db)
    live.wait_ready()
    page = httpx.get(f"{live.url}/").text
    assert "SYNTHETIC data" in page
    assert re.search(r"<th>Screened</th><td class=\"num\">68</td>", page)
    assert re.search(r"<th>Eligible</th><td class=\"num\">37</td>", page)
    assert re.search(r"<th>assessments</th><td class=\"num\">268</td>", page)
    assert "No problems found" in page


def test_patient_search_and_filters(demo_db: Path, serve) -> None:
    live = serve(demo_db)
    everyone = httpx.get(f"{live.url}/patients").text
    assert "37 patients" in everyone
    found = httpx.get(f"{live.url}/patients", params={"q": "p002"}).text
    assert "1 patient<" in found and 'href="/patients/DEMO-P002"' in found
    dead = httpx.get(f"{live.url}/patients", params={"status": "dead"}).text
    alive = httpx.get(f"{live.url}/patients", params={"status": "alive"}).text
    n_dead = int(re.search(r"(\d+) patients?", dead).group(1))
    n_alive = int(re.search(r"(\d+) patients?", alive).group(1))
    assert n_dead + n_alive == 37 and n_dead > 0
    # A LIKE wildcard in the search text is literal.
    assert "0 patients" in httpx.get(f"{live.url}/patients", params={"q": "%"}).text


def test_patient_page_shows_recist_calls_and_endpoint_reasons(demo_db: Path, serve) -> None:
    live = serve(demo_db)
    page = httpx.get(f"{live.url}/patients/DEMO-P002").text
    assert "death on 2010-12-18" in page  # OS reason
    assert "distant progression event DEMO-E002 on 2010-07-18" in page  # PFS reason
    assert '<svg class="chart"' in page
    calls = re.findall(r'<td class="response">([^<]+)</td>', page)
    assert calls == ["baseline", "SD", "SD"]
    assert httpx.get(f"{live.url}/patients/NOPE").status_code == 404


def test_patient_page_same_when_cached_or_derived_alone(demo_db: Path, serve) -> None:
    """The whole-registry pass at start-up and a one-patient derivation agree."""
    live = serve(demo_db)
    live.wait_ready()
    assert live.app.state.web.derived.warm
    cached = httpx.get(f"{live.url}/patients/DEMO-P010").text
    live.app.state.web.derived._items.clear()
    alone = httpx.get(f"{live.url}/patients/DEMO-P010").text
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", cached) == strip.sub("", alone)


def test_record_page(demo_db: Path, serve) -> None:
    live = serve(demo_db)
    page = httpx.get(f"{live.url}/records/assessments/DEMO-A0014").text
    assert "<th>longest_diameter_mm</th><td>35</td>" in page
    assert 'href="/patients/DEMO-P002"' in page


def test_hostile_strings_are_escaped(tmp_path: Path, serve) -> None:
    db = tmp_path / "hostile.db"
    import_registry(hostile_registry(tmp_path / "csv"), db)
    live = serve(db)
    for url in ("/patients", "/patients/DEMO-P001", "/patients?q=%3Cscript"):
        page = httpx.get(f"{live.url}{url}").text
        assert "<script>" not in page and "<img src=x" not in page and "<svg onload" not in page
        assert "<iframe" not in page
    page = httpx.get(f"{live.url}/patients/DEMO-P001").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;sarcoma" in page  # shown as text


def test_data_quality_problems_link_to_their_record(demo_db: Path, serve) -> None:
    """A scan dated after the patient's death (written around the checks) is listed with a link
    to the scan's record."""
    import sqlite3

    with sqlite3.connect(demo_db) as connection:
        connection.execute(
            "UPDATE assessments SET assessment_date = '2019-01-01' "
            "WHERE assessment_id = 'DEMO-A0015'"
        )
    live = serve(demo_db)
    live.wait_ready()
    page = httpx.get(f"{live.url}/").text
    assert "1 problem " in page
    assert 'href="/records/assessments/DEMO-A0015">DEMO-A0015</a>' in page
    assert "after the patient&#39;s death" in page or "death" in page


def test_a_change_from_outside_the_app_is_shown_and_derived_again(demo_db: Path, serve) -> None:
    """A write by the command line while the server runs: the patient's page shows it at once
    (its rows' fingerprint changed), and the watcher derives that patient again."""
    from rtoutcomes.registry.changes import ChangeSet, apply_changes
    from rtoutcomes.web import queries
    from rtoutcomes.web.derived import fingerprint

    live = serve(demo_db)
    live.wait_ready()
    state = live.app.state.web
    assert "censored" in _lc_status(httpx.get(f"{live.url}/patients/DEMO-P002").text)
    apply_changes(
        demo_db,
        ChangeSet(
            rows={
                "assessments": [
                    {
                        "assessment_id": "CLI-1",
                        "lesion_id": "DEMO-L002",
                        "assessment_date": "2010-11-20",
                        "modality": "CT",
                        "longest_diameter_mm": 40,
                    }
                ]
            }
        ),
        command="rtoutcomes import --update",
    )
    with state.connect() as connection:
        rows = queries.patient_rows(connection, "DEMO-P002")
    assert state.derived._items["DEMO-P002"][0] != fingerprint(rows)  # stale until caught up
    state.catch_up()
    assert state.derived._items["DEMO-P002"][0] == fingerprint(rows)
    assert "local failure" in _lc_status(httpx.get(f"{live.url}/patients/DEMO-P002").text)


def _lc_status(page: str) -> str:
    found = re.search(r'id="endpoint-LC-DEMO-L002">.*?<td class="lc-status">([^<]+)<', page, re.S)
    assert found is not None
    return found.group(1)
