"""Reading the R reference fixtures (tests/reference/fixtures/*.json, made by make_reference.R).

Numbers come back as float arrays, with R's NA as NaN and the strings "Inf"/"-Inf" (JSON has no
infinities) as ±inf; lists of labels stay lists of strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
_SPECIAL = {"Inf": np.inf, "-Inf": -np.inf}


def _numeric(values: list[Any]) -> bool:
    if values and all(isinstance(v, bool) for v in values):
        return False
    return all(
        v is None or isinstance(v, int | float) or (isinstance(v, str) and v in _SPECIAL)
        for v in values
    )


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value):
            return np.array([_decode(v) for v in value], dtype=np.float64)
        if _numeric(value):
            return np.array(
                [np.nan if v is None else _SPECIAL.get(v, v) for v in value], dtype=np.float64
            )
        return [_decode(v) for v in value]
    return value


@cache
def _load(name: str) -> dict[str, Any]:
    path = FIXTURES / f"{name}.json"
    decoded: dict[str, Any] = _decode(json.loads(path.read_text()))
    return decoded


@pytest.fixture(scope="session")
def r_reference() -> Callable[[str], dict[str, Any]]:
    """``r_reference("kaplan_meier")`` -> the decoded fixture written by the R script."""
    return _load


def _assert_close(actual: Any, expected: Any, rtol: float, what: str) -> float:
    """Elementwise relative agreement; NaN where R has NA, inf where R has Inf; max error."""
    a = np.atleast_1d(np.asarray(actual, dtype=np.float64))
    e = np.atleast_1d(np.asarray(expected, dtype=np.float64))
    assert a.shape == e.shape, f"{what}: shape {a.shape} != R's {e.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{what}: NaN pattern differs from R\n{a}\n{e}"
    assert np.array_equal(np.isinf(a), np.isinf(e)), f"{what}: inf pattern differs from R"
    finite = np.isfinite(e)
    assert np.array_equal(a[~finite & ~np.isnan(e)], e[~finite & ~np.isnan(e)]), what
    if not finite.any():
        return 0.0
    err = np.abs(a[finite] - e[finite]) / np.maximum(np.abs(e[finite]), np.finfo(float).tiny)
    # Where R reports an exact zero, a relative error means nothing: allow 1e-14 absolute.
    zero = e[finite] == 0
    err[zero] = np.where(np.abs(a[finite][zero]) <= 1e-14, 0.0, np.inf)
    worst = float(err.max())
    assert worst <= rtol, f"{what}: max relative error {worst:.3g} > {rtol:g}\n{a}\n{e}"
    return worst


@pytest.fixture(scope="session")
def assert_close() -> Callable[[Any, Any, float, str], float]:
    """``assert_close(ours, r_value, rtol, "what")``: NaN/inf patterns equal, values close."""
    return _assert_close


# Tests that take an argument named like a key here run once per case of that fixture file.
CASE_ARGUMENTS = {"km_case": "kaplan_meier", "logrank_case": "logrank"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for argument, fixture in CASE_ARGUMENTS.items():
        if argument in metafunc.fixturenames:
            cases = _load(fixture)["cases"]
            metafunc.parametrize(argument, cases, ids=[c["label"] for c in cases])
