"""The API reference (docs/api, Sphinx with numpydoc) builds from the docstrings with warnings
as errors: a broken docstring, a renamed function or a missing module fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api"


def test_api_reference_builds_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    page = (tmp_path / "html" / "stats.html").read_text(encoding="utf-8")
    assert "kaplan_meier" in page and "Kaplan-Meier" in page


def test_negative_control_a_missing_function_fails(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        (DOCS / "conf.py")
        .read_text(encoding="utf-8")
        .replace('parents[2] / "src"', f"parents[0] / {str(DOCS.parents[1] / 'src')!r}")
    )
    (source / "index.rst").write_text("X\n=\n\n.. autofunction:: rtoutcomes.stats.no_such\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "-q",
            "-b",
            "html",
            str(source),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode != 0
