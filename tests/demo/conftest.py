"""Fixtures of the demo registry tests: the model study's published facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def facts(shared_dir: Path) -> dict[str, Any]:
    """shared/reference/feng-2022-facts.json (the tests that need it skip without it)."""
    path = shared_dir / "reference" / "feng-2022-facts.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result
