"""Helpers of the web app's tests (imported by the tests and conftest.py)."""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
USERS = {"alice": "admin", "eddie": "editor", "vera": "viewer"}


def artefacts() -> Path:
    base = os.environ.get("RTOUTCOMES_TEST_ARTEFACTS")
    folder = (Path(base) if base else REPO_ROOT / "test-artefacts") / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def hostile_registry(folder: Path) -> Path:
    """The demo registry's CSV files with markup and script in ids and free text."""
    from rtoutcomes.demo import demo_registry_files

    shutil.copytree(demo_registry_files(), folder)
    replace = {
        ("patients.csv", "histology_subtype"): "<script>window.__pwned=1</script>sarcoma",
        ("patients.csv", "primary_site"): '<img src=x onerror="window.__pwned=2">',
        ("lesions.csv", "site_detail"): '"><svg onload=window.__pwned=3>',
        ("systemic_therapies.csv", "agent"): "</textarea><script>window.__pwned=4</script>",
        ("toxicities.csv", "term"): "<iframe src=javascript:window.__pwned=5>",
    }
    for (name, column), value in replace.items():
        path = folder / name
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        fields = list(rows[0])
        for row in rows[:2]:
            row[column] = value
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return folder


def login(client: Any, base: str, name: str, password: str = PASSWORD) -> Any:
    """Log ``client`` (httpx) in through the form; returns the POST's response."""
    page = client.get(f"{base}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "username": name, "password": password, "next": "/"},
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def browser_login(page: Any, url: str, name: str) -> None:
    """Log a Playwright ``page`` in through the form."""
    page.goto(f"{url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/", timeout=30_000)
