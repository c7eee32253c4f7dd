""".ci/run installs into temporary virtual environments and removes them on exit: a developer
who runs it in their checkout keeps their own .venv (it used to delete it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"


def _code(text: str) -> list[str]:
    return [line.split("#", 1)[0] for line in text.splitlines()]


def venv_problems(text: str) -> list[str]:
    """Lines of a CI script that would touch the checkout's virtual environments."""
    problems = [
        line
        for line in _code(text)
        if re.search(r"rm\s+-r?f+\S*\s+[\"']?\.venv", line)
        or (" -m venv " in line and "$CI_VENV" not in line)
    ]
    if not any("CI_VENV=$(mktemp -d" in line for line in _code(text)):
        problems.append("no temporary folder for the environments")
    if not any("trap" in line and 'rm -rf "$CI_VENV"' in line for line in _code(text)):
        problems.append("the temporary environments are not removed on exit")
    return problems


def test_ci_run_uses_temporary_environments() -> None:
    subprocess.run(["bash", "-n", str(CI_RUN)], check=True)
    assert venv_problems(CI_RUN.read_text(encoding="utf-8")) == []


def test_negative_control_the_old_script_is_refused() -> None:
    old = "rm -rf .venv\npython3 -m venv .venv && .venv/bin/pip install -e '.[test]'\n"
    assert len(venv_problems(old)) == 4
