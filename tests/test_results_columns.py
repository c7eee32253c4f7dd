"""The curve lists of the in-memory results carry their arrays (``results.columns.Column``), and
nothing else changes: the lists are the ones ``study.summaries`` made before (values, types,
None where a limit does not exist), results.json's bytes are the same, the results pickle to
the report process and back as they were, and a figure drawn from the arrays has the bytes of
the same figure drawn from plain lists (converted, as before); one drawn from results read
back from results.json (plain lists of numbers rounded to 12 digits) is drawn too.

That the figures read the arrays and convert no list is checked by making the conversion fail:
a figure from the in-memory results is built, one from results.json's lists is not (negative
control). A ``Column`` whose array differs from its list draws another figure (negative
control: the byte comparison would see arrays that are not the lists' values).
"""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

import numpy as np
import pytest

from rtoutcomes.io.outputs import xml_safe_tree
from rtoutcomes.report import jsonio, step_curves
from rtoutcomes.report.figures import Axis, Curve, Panel, Style, render, survival_figure
from rtoutcomes.results import columns
from rtoutcomes.results.columns import Column
from rtoutcomes.study.spec import KMOptions
from rtoutcomes.study.summaries import incidence_summary, km_summary

ODD = np.array([0.0, -0.0, 1.5, np.nan, np.inf, -np.inf, 1e-300, 2.0**60, 0.1, 3.0])


def _same(got: list[Any], expected: list[Any]) -> bool:
    """The same items, of the same types (NaN equal to NaN)."""
    return [(type(v), repr(v)) for v in got] == [(type(v), repr(v)) for v in expected]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_columns_are_the_lists_summaries_made(dtype: Any) -> None:
    values = ODD if dtype is not np.int64 else np.arange(-3, 7)
    values = values.astype(dtype) if dtype is not np.int64 else values
    floats = columns.floats(values)
    assert _same(floats, [float(v) for v in values])
    optional = columns.optional_floats(values)
    assert _same(optional, [float(v) if math.isfinite(v) else None for v in values])
    counts = columns.counts(np.abs(np.nan_to_num(values, posinf=7, neginf=9)).astype(dtype))
    assert _same(counts, [int(v) for v in np.abs(np.nan_to_num(values, posinf=7, neginf=9))])
    for column in (floats, optional, counts):
        assert isinstance(column, Column)
        assert np.array_equal(column.array, np.array(column, dtype=float), equal_nan=True)
        with pytest.raises(ValueError, match="read-only"):
            column.array[0] = 1
    # counts that are no whole numbers: int() refuses NaN, as it did
    with pytest.raises(ValueError):
        columns.counts(np.array([1.0, np.nan]))
    assert _same(columns.counts(np.array([2.7, -2.7])), [2, -2])


def _km(n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    event = rng.weibull(1.2, n) * 20.0
    censor = rng.uniform(0.0, 60.0, n)
    time = np.append(np.minimum(np.round(event, 1), censor), 70.0)
    status = np.append(event <= censor, True).astype(float)  # the last row an event: S = 0
    return dict(km_summary(time, status, KMOptions(), (6.0, 12.0)))


def _read_back(value: Any) -> Any:
    """``value`` as results.json gives it back: plain lists."""
    return json.loads(jsonio.dumps(value))


def _lists(value: Any) -> Any:
    """``value`` with each ``Column`` as a plain list of its items."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return list(value) if isinstance(value, Column) else value


def test_results_json_and_pickling_are_as_with_plain_lists() -> None:
    summary = _km(3000, 1)
    km = summary["km"]
    assert all(isinstance(km[key], Column) for key in km)
    assert any(v is None for v in km["upper"])  # limits that do not exist: None
    rng = np.random.default_rng(2)
    status = rng.integers(0, 3, 500)
    incidence = incidence_summary(rng.uniform(0, 30, 500), status, (12.0,), 0.95)
    curve = incidence["local_failure"]["curve"]
    assert all(isinstance(curve[key], Column) for key in ("time", "estimate", "lower", "upper"))
    results = {"km": summary, "incidence": incidence}
    plain = _lists(results)
    assert jsonio.dumps(results) == jsonio.dumps(plain)
    assert json.dumps(results, sort_keys=True) == json.dumps(plain, sort_keys=True)
    back = pickle.loads(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
    assert jsonio.dumps(back) == jsonio.dumps(results)
    for key, column in km.items():
        again = back["km"]["km"][key]
        assert isinstance(again, Column) and _same(again, column)
        assert np.array_equal(again.array, column.array, equal_nan=True)
        assert not again.array.flags.writeable
    # what the figure workers get (strings made XML-safe) keeps each Column, with its array
    assert xml_safe_tree(results)["km"]["km"]["time"] is km["time"]
    # a Column changed after it was made (nothing does) pickles as its list, without its array
    changed = Column([1.0, 2.0], np.array([1.0, 2.0]))
    changed.append(3.0)
    again = pickle.loads(pickle.dumps(changed))
    assert type(again) is list and again == [1.0, 2.0, 3.0]


def _panel(kms: list[dict[str, Any]]) -> Any:
    curves = [Curve(f"group {i}", km, 100) for i, km in enumerate(kms)]
    return Panel(curves, "Overall survival by group", "Overall survival", "Log-rank p = 0.3", "G")


def _files(kms: list[dict[str, Any]]) -> dict[str, bytes]:
    fig = survival_figure([_panel(kms)], Axis("months"), Style(bands=True))
    return render(fig, ("png", "svg", "pdf")).files


def test_figures_from_the_arrays_are_the_figures_from_plain_lists(monkeypatch: Any) -> None:
    """Three curves with bands, one dense enough to be thinned (> 4,000 distinct times): the
    figure from the in-memory results (arrays) has the bytes of the figure from the same
    values as plain lists (what the figures drew before), and one from results.json read back
    (its numbers rounded to 12 digits) is drawn too, with the same PNG."""
    kms = [_km(n, seed)["km"] for n, seed in ((9000, 3), (700, 4), (60, 5))]
    plain = [_lists(km) for km in kms]
    from_disk = _read_back(kms)
    assert not any(isinstance(v, Column) for km in plain + from_disk for v in km.values())
    expected = _files(plain)
    assert _files(from_disk)["png"] == expected["png"]

    def no_conversion(*_: Any, **__: Any) -> Any:
        raise AssertionError("a list converted")

    with monkeypatch.context() as patch:
        patch.setattr(step_curves, "from_list", no_conversion)
        assert _files(kms) == expected  # the arrays drawn, no list converted
        with pytest.raises(AssertionError, match="a list converted"):  # negative control
            _files(plain)
    # negative control: an array that is not its list's values draws another figure
    odd = dict(kms[1])
    estimate = odd["estimate"]
    odd["estimate"] = Column(list(estimate), np.minimum(estimate.array + 0.02, 1.0))
    assert _files([kms[0], odd, kms[2]])["png"] != expected["png"]
