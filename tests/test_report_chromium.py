"""report.html opened in headless Chromium: it renders, every figure loads, no console error.

A copy of the report gets a small probe script that, on load, writes the number of images and
of images with naturalWidth > 0 into the DOM, which ``--dump-dom`` prints. Console messages
appear in Chromium's log (``--enable-logging=stderr``) as ``CONSOLE`` lines; a control page
with a deliberate ``console.error`` proves that they are seen.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rtoutcomes.cli import main

HERE = Path(__file__).parent

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not installed (Debian package 'chromium'): cannot open "
    "the HTML report in a browser",
)
PROBE = (
    "<script>window.addEventListener('load', function () {"
    "var imgs = document.images, ok = 0;"
    "for (var i = 0; i < imgs.length; i++) {"
    "if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }"
    "var m = document.createElement('div'); m.id = 'rt-probe';"
    "m.textContent = 'images=' + imgs.length + ' loaded=' + ok;"
    "document.body.appendChild(m); });</script>"
)


def open_in_chromium(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after load and the console lines of Chromium's log."""
    assert CHROMIUM is not None
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    return run.stdout, console


def probe(html: str) -> str:
    return html.replace("</body>", PROBE + "</body>")


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    """The lung study's report (rtoutcomes analyze): 8 figures, tables 3-5."""
    out = tmp_path / "report"
    assert (
        main(
            [
                "analyze",
                str(HERE / "reference" / "fixtures" / "study_lung.csv"),
                "--config",
                str(HERE / "data" / "study_lung.yaml"),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    page = tmp_path / "probed.html"
    page.write_text(probe((out / "report.html").read_text(encoding="utf-8")), encoding="utf-8")
    dom, console = open_in_chromium(page, tmp_path / "profile")
    for title in (
        "Table 3. Univariate Cox regression",
        "Table 5. Nested Cox models",
        "Statistical methods",
        "Provenance",
    ):
        assert title in dom
    found = re.search(r'id="rt-probe">images=(\d+) loaded=(\d+)<', dom)
    assert found, "the probe did not run: the page did not finish loading"
    images, loaded = int(found.group(1)), int(found.group(2))
    assert images == 10  # 2 endpoints x (overall + 3 groupings), 2 forest plots
    assert loaded == images
    assert console == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """Control: a broken image and a console error are both detected."""
    page = tmp_path / "broken.html"
    page.write_text(
        probe(
            "<!DOCTYPE html><html><body><img src='data:image/png;base64,AAAA'>"
            "<script>console.error('rt-control');</script></body></html>"
        )
    )
    dom, console = open_in_chromium(page, tmp_path / "profile")
    assert 'id="rt-probe">images=1 loaded=0<' in dom
    assert any("rt-control" in line for line in console)


ARTEFACTS = HERE.parent / "test-artefacts"


def test_demo_report_screenshot(tmp_path: Path) -> None:
    """The model study's report (demo results as stored for this version) rendered by Chromium
    to test-artefacts/report-demo.png, for a person to look at: the Figures 1-4, forest,
    swimmer and waterfall plots are there and the page is not blank."""
    import json

    from PIL import Image

    from rtoutcomes.report.build import build_report, write_report
    from rtoutcomes.report.cohort_tables import cohort_tables

    stored = json.loads((HERE / "data" / "stored_outputs" / "demo" / "results.json").read_text())
    from rtoutcomes.report.provenance import provenance

    stored["provenance"] = provenance("feng2022.yaml", "0" * 64, "registry.db", "0" * 64)
    report = build_report(stored, cohort_tables(stored["cohort"]))
    write_report(report, tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    for key in ("flow_chart", "figure2", "figure3", "figure4", "forest_LC", "swimmer", "waterfall"):
        assert f'id="fig-{key}" class="main"' in html, key
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report-demo.png"
    assert CHROMIUM is not None
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,9000",
            "--virtual-time-budget=5000",
            f"--screenshot={shot}",
            (tmp_path / "report" / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    image = Image.open(shot).convert("L")
    assert image.size == (1200, 9000)
    import numpy as np

    inked = int((np.asarray(image.resize((120, 900))) < 200).sum())
    assert inked > 2000  # tables and figures drawn, not a blank page
