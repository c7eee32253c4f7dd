"""Every example in a docstring (``>>>``) runs and prints what it says (doctests in CI)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
MODULES = sorted(
    ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
    for p in (SRC / "rtoutcomes").rglob("*.py")
    if ">>> " in p.read_text(encoding="utf-8")
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_there_are_doctests() -> None:
    assert "rtoutcomes.clinical.radiobiology" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_negative_control_a_wrong_example_fails() -> None:
    def wrong() -> None:
        """>>> 0.1 + 0.2
        0.3
        """

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=FLAGS, verbose=False)
    for test in finder.find(wrong, "wrong", globs={}):
        runner.run(test, out=lambda _: None)
    assert runner.summarize(verbose=False).failed == 1  # 0.30000000000000004
