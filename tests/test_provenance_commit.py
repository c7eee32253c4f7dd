"""The report's provenance names the git commit of the code that made it (in a git checkout;
an installed release is named by its version)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from rtoutcomes.report.provenance import git_commit, versions

SRC = Path(__file__).resolve().parents[1] / "src" / "rtoutcomes"


def _checkout_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(SRC), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def test_the_commit_is_in_the_provenance() -> None:
    expected = _checkout_commit()
    if expected is None:
        pytest.skip("not a git checkout (an installed release): the version names the code")
    commit = git_commit()
    assert commit is not None and re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit)
    assert commit.split("+")[0] == expected
    assert versions()["rtoutcomes commit"] == commit


def test_no_commit_outside_a_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without git (or outside a checkout) the key is absent rather than wrong."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert git_commit() is None
    assert "rtoutcomes commit" not in versions()
