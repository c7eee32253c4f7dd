"""benchmarks/figure_scale.py judges every size measured: the largest excess over the smallest
size, wherever it is (a step may peak at 1e5 rows and be back under the margin at 1e6)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "figure_scale.py"


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("figure_scale_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_verdict_reads_the_largest_excess_at_any_size() -> None:
    script = _script()
    # the quiet machine's grouped panel with bands at 1e5 rows (session 22): flat at 1e6
    times = {1000: 0.087, 10_000: 0.095, 100_000: 1.55, 1_000_000: 0.153}
    assert script.largest_excess(times) == (100_000, pytest.approx(1.463))
    assert script.largest_excess(times)[1] > script.MARGIN_S
    # a negative control: judged at the largest size only, the same times pass
    assert times[1_000_000] - times[1000] <= script.MARGIN_S


def test_flat_times_pass_and_two_sizes_still_work() -> None:
    script = _script()
    assert script.largest_excess({1000: 0.02, 10_000: 0.05, 1_000_000: 0.11})[1] <= 0.1
    assert script.largest_excess({1000: 0.02, 1_000_000: 0.2}) == (1_000_000, pytest.approx(0.18))
