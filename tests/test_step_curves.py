"""The step curve, censor ticks and confidence band built by report/step_curves.py are exactly
what the figures drew before it: the loop over the rows (the band's points), ``ax.plot`` and
``ax.fill_between(..., step="post")`` (the artists), kept below as the reference.

- the band's points and polygons, vertex for vertex, on curves with tied and rounded times, an
  event at time 0, steps of zero width and zero height, NaN and infinite limits, a None tail,
  one row and none;
- whole panels drawn both ways: the same PNG, SVG, PDF and 600 dpi TIFF, small and dense
  (thinned) curves, with and without bands and censoring;
- a ``Staircase`` line is thinned from the steps it carries exactly as from its vertices.

Negative controls: a loop that skips a missing limit instead of stopping there, and the band
filled with ``step="pre"``, differ; so does a panel whose band ends one row early.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import numpy as np
import pytest

from rtoutcomes.report import figures, raster_thinning, step_curves
from rtoutcomes.report.figures import Axis, Curve, Panel, Style, render, survival_figure
from rtoutcomes.study.spec import KMOptions
from rtoutcomes.study.summaries import km_summary


def _loop_band(curve: Curve, start: float, *, skip_none: bool = False) -> Any:
    """The band's points as figures._band built them before (a loop over the rows)."""
    lower, upper = curve.km.get("lower"), curve.km.get("upper")
    if not lower or not upper:
        return None
    xs, lo, hi = [0.0], [start], [start]
    for t, a, b in zip(curve.km["time"], lower, upper, strict=True):
        if a is None or b is None:
            if skip_none:  # negative control
                continue
            break
        xs.append(float(t))
        lo.append(float(a))
        hi.append(float(b))
    xs.append(curve.arrays.end)
    lo.append(lo[-1])
    hi.append(hi[-1])
    return xs, lo, hi


def _km(n: int, seed: int, grid: float = 0.0, censored: bool = True) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    event = rng.weibull(rng.uniform(0.5, 3.0), n) * rng.uniform(5.0, 60.0)
    censor = rng.uniform(0.0, 60.0, n) if censored else np.full(n, np.inf)
    time = np.minimum(event, censor)
    if grid:
        time = np.round(time / grid) * grid  # ties, and events at time 0
    status = (event <= censor).astype(float)
    return dict(km_summary(time, status, KMOptions(), ())["km"])


def _odd_curves() -> list[tuple[str, Curve]]:
    """Curves with every shape the band's rows can take."""
    cases: list[tuple[str, dict[str, Any]]] = []
    for n, seed, grid in ((1, 1, 0.0), (2, 2, 0.0), (40, 3, 1.0), (300, 4, 0.5), (2000, 5, 0)):
        cases.append((f"n{n}", _km(n, seed, grid)))
    base = _km(200, 7, 1.0)
    k = len(base["time"])
    tail = dict(base, lower=base["lower"][: k // 2] + [None] * (k - k // 2))
    cases.append(("none tail", tail))
    upper_none = dict(base, upper=[None if i == 3 else v for i, v in enumerate(base["upper"])])
    cases.append(("one None", upper_none))
    nan = dict(base, upper=[float("nan") if 5 <= i < 9 else v for i, v in enumerate(base["upper"])])
    cases.append(("NaN limits", nan))
    inf = dict(base, lower=[float("-inf") if i == 10 else v for i, v in enumerate(base["lower"])])
    cases.append(("infinite limit", inf))
    nan_and_none = dict(nan, lower=[None if i == 20 else v for i, v in enumerate(base["lower"])])
    cases.append(("NaN then None", nan_and_none))
    cases.append(("first None", dict(base, lower=[None, *base["lower"][1:]])))
    cases.append(("no limits", dict(base, lower=[], upper=[])))
    zero_width = dict(
        time=[0.0, 0.0, 1.0, 1.0, 2.0],  # zero-width steps
        estimate=[1.0, 0.9, 0.9, 0.8, 0.8],  # zero-height steps
        lower=[1.0, 0.8, 0.8, 0.7, 0.7],
        upper=[1.0, 1.0, 1.0, 0.9, 0.9],
        n_risk=[5, 5, 4, 3, 2],
        n_censor=[0, 0, 1, 0, 2],
        end=2.0,
    )
    cases.append(("zero width", zero_width))
    cases.append(("end later", dict(zero_width, end=7.5)))
    return [(name, Curve(name, km, None)) for name, km in cases]


@pytest.mark.parametrize(("name", "curve"), _odd_curves())
@pytest.mark.parametrize("start", [1.0, 0.0])
def test_the_band_is_the_loops_band_and_fill_betweens_polygons(
    name: str, curve: Curve, start: float
) -> None:
    from matplotlib.figure import Figure

    expected = _loop_band(curve, start)
    got = step_curves.band_inputs(curve, start)
    if expected is None:
        assert got is None
        return
    assert got is not None
    for mine, theirs in zip(got, expected, strict=True):
        theirs = np.array(theirs, dtype=float)
        assert mine.dtype == theirs.dtype and mine.shape == theirs.shape, name
        assert np.array_equal(mine, theirs, equal_nan=True), name
        assert np.array_equal(np.signbit(mine), np.signbit(theirs)), name
    ax = Figure().add_subplot()
    polygons = step_curves.band_polygons(*got)
    reference = ax.fill_between(*expected, step="post").get_paths()
    assert len(polygons) == len(reference), name
    for pts, path in zip(polygons, reference, strict=True):
        assert np.array_equal(path.vertices[:-1], pts), name  # fill_between closes the path


def test_negative_controls_a_skipped_none_and_pre_steps_differ() -> None:
    from matplotlib.figure import Figure

    curves = dict(_odd_curves())
    curve = curves["one None"]
    skipped = _loop_band(curve, 1.0, skip_none=True)
    got = step_curves.band_inputs(curve, 1.0)
    assert got is not None and len(got[0]) != len(skipped[0])
    xs, lo, hi = step_curves.band_inputs(curves["n300"], 1.0) or ()
    pre = Figure().add_subplot().fill_between(xs, lo, hi, step="pre").get_paths()[0]
    assert not np.array_equal(pre.vertices[:-1], step_curves.band_polygons(xs, lo, hi)[0])


def _reference_draw_curves(
    ax: Any, curves: list[Curve], *, bands: bool = False, censor_marks: bool = True
) -> list[Any]:
    """figures.draw_curves as it was before step_curves (ax.plot and ax.fill_between)."""
    lines = []
    labelled = len(curves) > 1 or curves[0].rising
    for i, curve in enumerate(curves):
        style = figures.LINE_STYLES[i % len(figures.LINE_STYLES)]
        grey = figures.GREYS[i % len(figures.GREYS)]
        start = 0.0 if curve.rising else 1.0
        xs, ys = step_curves.steps(curve, start)
        label = None
        if labelled:
            label = curve.label if curve.n is None else f"{curve.label} (n={curve.n})"
        (line,) = ax.plot(
            xs,
            ys,
            linestyle=style,
            color=grey,
            linewidth=1.0,
            label=label,
            solid_joinstyle="miter",
            dash_capstyle="butt",
        )
        lines.append(line)
        if bands:
            band = _loop_band(curve, start)
            if band is not None:
                ax.fill_between(*band, step="post", color=grey, alpha=0.12, linewidth=0)
        if censor_marks and "n_censor" in curve.km:
            censored = np.asarray(curve.km["n_censor"]) > 0
            estimate = np.asarray(curve.km["estimate"], dtype=float)
            censored &= ~np.isnan(estimate)
            if censored.any():
                ax.plot(
                    np.asarray(curve.km["time"], dtype=float)[censored],
                    estimate[censored],
                    linestyle="none",
                    marker="|",
                    markersize=3.5,
                    markeredgewidth=0.7,
                    color=grey,
                    label=figures.CENSOR_MARKS,
                )
    return lines


def _digests(curves: list[Curve], bands: bool, monkeypatch: Any, reference: bool) -> list[str]:
    with monkeypatch.context() as patch:
        if reference:
            patch.setattr(figures, "draw_curves", _reference_draw_curves)
        # a new Curve each time: its arrays are converted by the drawing under test
        fresh = [Curve(c.label, c.km, c.n, c.rising, c.risk) for c in curves]
        fig = survival_figure(
            [Panel(fresh, "Overall survival", "Overall survival", "p = 0.01")],
            Axis("months"),
            Style(bands=bands),
        )
        files = render(fig, ("png", "svg", "pdf"))
        files.files["tiff"] = render(fig, ("tiff",), tiff_dpi=600).files["tiff"]
    return [hashlib.sha256(files.files[k]).hexdigest() for k in sorted(files.files)]


PANELS = [
    ("small", [(300, 11, 0.5, True)]),
    ("two groups", [(400, 12, 0.0, True), (250, 13, 1.0, True)]),
    ("dense, thinned", [(10000, 14, 0.0, True)]),
    ("dense, no censoring", [(9000, 15, 0.0, False), (6000, 16, 0.0, False)]),
]


@pytest.mark.parametrize(("name", "spec"), PANELS)
@pytest.mark.parametrize("bands", [False, True])
def test_panels_have_the_bytes_of_plot_and_fill_between(
    name: str, spec: list[tuple[int, int, float, bool]], bands: bool, monkeypatch: Any
) -> None:
    curves = [Curve(f"G{i}", _km(*args), args[0]) for i, args in enumerate(spec)]
    assert _digests(curves, bands, monkeypatch, False) == _digests(
        curves, bands, monkeypatch, True
    ), name


def test_negative_control_a_band_one_row_short_differs(monkeypatch: Any) -> None:
    curves = [Curve("All", _km(300, 11, 0.5), 300)]
    short = dict(curves[0].km)
    short["lower"] = [*short["lower"][:-1], None]
    assert _digests(curves, True, monkeypatch, False) != _digests(
        [Curve("All", short, 300)], True, monkeypatch, True
    )


def _thinned_staircase(fig: Any, dpi: int) -> np.ndarray:
    (staircase,) = [
        line for line in fig.axes[0].get_lines() if isinstance(line, step_curves.Staircase)
    ]
    with figures.rc_context():
        done = raster_thinning.thin_for_raster(fig, dpi)
        assert [artist for artist, _ in done] == [staircase]
        thinned = np.array(staircase.get_data())
        raster_thinning.restore(done)
    assert staircase.as_made()
    return thinned


@pytest.mark.parametrize("rising", [False, True])
@pytest.mark.parametrize("dpi", [300, 600])
def test_a_staircase_is_thinned_from_its_steps_as_from_its_vertices(
    rising: bool, dpi: int, monkeypatch: Any
) -> None:
    """The same curve thinned from the sorted steps its ``Staircase`` carries and, with
    those ignored, from its vertices (checked first) comes out vertex for vertex the same."""
    km = _km(40000, 21, 0.002)  # ties
    if rising:
        km = dict(km, estimate=[1 - v for v in km["estimate"]])
    curve = Curve("All", km, 40000, rising)
    fig = survival_figure([Panel([curve], "t", "t")], Axis("months"))
    fast = _thinned_staircase(fig, dpi)
    assert fast.shape[1] < 2 * len(km["time"])
    with monkeypatch.context() as patch:
        patch.setattr(step_curves.Staircase, "as_made", lambda self: False)
        slow = _thinned_staircase_plain(fig, dpi)
    assert np.array_equal(fast, slow)


def _thinned_staircase_plain(fig: Any, dpi: int) -> np.ndarray:
    (staircase,) = [
        line for line in fig.axes[0].get_lines() if isinstance(line, step_curves.Staircase)
    ]
    with figures.rc_context():
        done = raster_thinning.thin_for_raster(fig, dpi)
        thinned = np.array(staircase.get_data())
        raster_thinning.restore(done)
    return thinned


def test_negative_control_a_staircase_with_other_steps_is_thinned_otherwise() -> None:
    fig = survival_figure([Panel([Curve("All", _km(40000, 22, 0.002), 40000)], "t", "t")], Axis())
    good = _thinned_staircase(fig, 300)
    (staircase,) = [
        line for line in fig.axes[0].get_lines() if isinstance(line, step_curves.Staircase)
    ]
    staircase.__dict__["key"] = np.sort(staircase.key * 1.01)  # other steps, still sorted
    bad = _thinned_staircase(fig, 300)
    assert good.shape != bad.shape or not np.array_equal(good, bad)


def test_the_censor_ticks_and_curve_are_the_lines_data_without_a_copy() -> None:
    curve = Curve("All", _km(500, 23), 500)
    with figures.rc_context():
        fig = survival_figure([Panel([curve], "t", "t")], Axis("months"))
    lines = fig.axes[0].get_lines()
    (staircase,) = [line for line in lines if isinstance(line, step_curves.Staircase)]
    assert staircase.get_data()[0] is staircase.vertices[0]
    (ticks,) = [line for line in lines if line.get_label() == figures.CENSOR_MARKS]
    x, y = ticks.get_data()
    censored = np.asarray(curve.km["n_censor"]) > 0
    assert np.array_equal(x, np.asarray(curve.km["time"])[censored])
    assert np.array_equal(y, np.asarray(curve.km["estimate"])[censored])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # the lines draw (their paths are made when drawn)
    assert buffer.getvalue()[:4] == b"\x89PNG"
