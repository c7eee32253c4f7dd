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
            label=label,
            **figures.CURVE_LINE,
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


def _band_figure(km: dict[str, Any], rows: int) -> Any:
    curve = Curve("All", km, rows)
    return survival_figure([Panel([curve], "t", "t")], Axis("months"), Style(bands=True))


def _thinned_band(fig: Any, dpi: int, make_first: bool) -> Any:
    """The band's polygon thinned at ``dpi`` (None: not thinned), from its points (a
    ``BandPath`` not made) or, with ``make_first``, from its made polygon."""
    (band,) = fig.axes[0].collections
    (path,) = band.get_paths()
    assert isinstance(path, step_curves.BandPath) and not path.made
    if make_first:
        path.make()
    with figures.rc_context():
        fig.set_dpi(dpi)
        done = raster_thinning._thin_band(band, dpi)
        fig.set_dpi(figures.DPI)
    if done is None:
        return None
    polygon = np.array(band.get_paths()[0].vertices)
    raster_thinning.restore([done])
    assert band.get_paths()[0] is path  # put back
    return polygon


@pytest.mark.parametrize(
    ("rows", "seed", "grid", "limits"),
    [
        (40000, 31, 0.0, "as is"),  # thinned
        (40000, 32, 0.002, "as is"),  # ties
        (5000, 33, 0.0, "as is"),  # more cells than steps: drawn from every step
        (40000, 34, 0.0, "turning"),  # thinned in monotone pieces
        (40000, 37, 0.0, "turning often"),  # more pieces than EDGE_PIECES: not thinned
    ],
)
@pytest.mark.parametrize("dpi", [300, 600])
def test_a_band_is_thinned_from_its_points_as_from_its_polygon(
    rows: int, seed: int, grid: float, limits: str, dpi: int
) -> None:
    km = _km(rows, seed, grid)
    upper = list(km["upper"])
    if limits == "turning":
        middle = len(upper) // 2
        upper[middle] = upper[middle - 1] + 0.01  # a step up in a falling edge
        upper[-3] = upper[-4] + 0.001  # and near its end
    if limits == "turning often":
        for i in range(1000, 1000 + 50 * step_curves.EDGE_PIECES, 50):
            upper[i] = upper[i - 1] + 0.001
    km = dict(km, upper=upper)
    lazy = _thinned_band(_band_figure(km, rows), dpi, make_first=False)
    made = _thinned_band(_band_figure(km, rows), dpi, make_first=True)
    if limits == "turning often":
        assert lazy is None and made is None
        return
    assert lazy is not None and made is not None
    assert np.array_equal(lazy, made)
    if rows > 10000:
        assert lazy.shape[0] < 4 * len(km["time"])


def test_a_band_path_made_is_fill_betweens_polygon() -> None:
    from matplotlib.figure import Figure

    km = _km(3000, 35)
    fig = _band_figure(km, 3000)
    (path,) = fig.axes[0].collections[0].get_paths()
    assert len(path) == 4 * (len(km["time"]) + 2) + 1 and not path.made
    band = _loop_band(Curve("All", km, 3000), 1.0)
    (reference,) = Figure().add_subplot().fill_between(*band, step="post").get_paths()
    assert np.array_equal(path.vertices, reference.vertices) and path.made
    assert np.array_equal(path.codes, reference.codes)
    assert (path.should_simplify, path.simplify_threshold, path.readonly) == (
        reference.should_simplify,
        reference.simplify_threshold,
        reference.readonly,
    )


def test_negative_control_a_band_path_with_other_points_is_thinned_otherwise() -> None:
    km = _km(40000, 36)
    good = _thinned_band(_band_figure(km, 40000), 300, make_first=False)
    fig = _band_figure(km, 40000)
    (path,) = fig.axes[0].collections[0].get_paths()
    xs, lo, hi = path.points
    path.points = (xs, lo * 0.99, hi)  # a lower edge of other values
    bad = _thinned_band(fig, 300, make_first=False)
    assert good.shape != bad.shape or not np.array_equal(good, bad)


@pytest.mark.parametrize(("name", "curve"), _odd_curves())
def test_the_bands_data_limits_are_fill_betweens(name: str, curve: Curve) -> None:
    """The band is added by fill_between on three points with the band's extremes: the same
    data limits (and smallest positive values, for log axes) as fill_between on every point."""
    from matplotlib.figure import Figure

    band = step_curves.band_inputs(curve, 1.0)
    if band is None:
        return
    ours, theirs = Figure().add_subplot(), Figure().add_subplot()
    step_curves.plot_band(ours, curve, 1.0)
    theirs.fill_between(*_loop_band(curve, 1.0), step="post")
    assert np.array_equal(ours.dataLim.get_points(), theirs.dataLim.get_points(), equal_nan=True)
    assert np.array_equal(ours.dataLim.minpos, theirs.dataLim.minpos), name
    (collection,) = ours.collections
    assert np.array_equal(
        collection.get_datalim(ours.transData).get_points(),
        theirs.collections[0].get_datalim(theirs.transData).get_points(),
    )


def _every_tick_kept(line: Any, x: Any, y: Any, stamps: int, sure_px: float = 1e-6) -> Any:
    """figures._cap_censor_runs' cut reading every tick (the reference)."""
    pixel, sure = raster_thinning.stamp_pixels(line, x, y)
    if sure_px != 1e-6:  # negative control: another margin at the pixel edges
        shifted = raster_thinning.display_xy(line, x, y)
        sure = np.ones(x.shape[0], dtype=bool)
        for value in (shifted[0] + 0.5, 0.5 - shifted[1]):
            fraction = value - np.floor(value)
            sure &= (fraction > sure_px) & (fraction < 1 - sure_px)
    column, row = pixel[:, 0], pixel[:, 1]
    same = (column[1:] == column[:-1]) & (row[1:] == row[:-1]) & sure[1:] & sure[:-1]
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    run = np.cumsum(np.concatenate(([True], ~same))) - 1
    return np.flatnonzero(np.arange(x.shape[0]) - starts[run] < stamps)


def _tick_cases() -> list[tuple[str, Any, Any]]:
    rng = np.random.default_rng(41)
    cases = []
    for n, spread in ((50, 60.0), (5000, 60.0), (200000, 60.0), (20000, 0.5)):
        times = np.sort(rng.uniform(0, spread, n))
        values = np.sort(rng.uniform(0.05, 1.0, n))[::-1].copy()
        cases.append((f"{n} over {spread}", times, values))
        cases.append((f"{n} rising", times, values[::-1].copy()))
    times = np.repeat(np.sort(rng.uniform(0, 60, 300)), 7)  # ties: runs on one pixel
    cases.append(("ties", times, np.repeat(np.linspace(1, 0.2, 300), 7)))
    cases.append(("flat", np.sort(rng.uniform(0, 60, 3000)), np.full(3000, 0.5)))
    return cases


@pytest.mark.parametrize(("name", "times", "values"), _tick_cases())
@pytest.mark.parametrize("dpi", [300, 600])
def test_the_tick_cut_by_search_is_the_cut_reading_every_tick(
    name: str, times: Any, values: Any, dpi: int
) -> None:
    """The ticks ``censor_stamps`` keeps are those the cut reading every tick keeps, here on
    random ticks and on ticks moved onto pixel edges and to within 1e-6 px of them."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.3, 2.4), dpi=dpi)
    ax = fig.add_axes((0.15, 0.2, 0.8, 0.75))
    ax.set_xlim(0, times.max() * 1.05)
    ax.set_ylim(0, 1.02)
    matrix = ax.transData.get_affine().get_matrix()
    a, b = matrix[0, 0], matrix[0, 2]
    on_edges = times.copy()
    pick = np.arange(0, times.shape[0], 5)
    column = np.floor(times[pick] * a + b + 0.5)
    on_edges[pick] = (column - 0.5 - b) / a  # on a pixel edge, or an ulp away
    on_edges[pick[::2]] += np.array([1e-7, -1e-7])[pick[::2] % 2] / a  # within 1e-6 px
    on_edges = np.maximum.accumulate(on_edges)  # ascending again
    for x in (times, on_edges):
        line = step_curves.CensorTicks(x, values, marker="|")
        ax.add_line(line)
        step_curves.put_back(line, line.ticks)
        assert line.sorted
        for stamps in (1, 10):
            found = raster_thinning.censor_stamps(line, x, values, stamps)
            assert found is not None
            assert np.array_equal(found, _every_tick_kept(line, x, values, stamps)), name
        line.remove()


def test_negative_control_ticks_on_pixel_edges_are_cut_otherwise_without_the_margin() -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.3, 2.4), dpi=300)
    ax = fig.add_axes((0.15, 0.2, 0.8, 0.75))
    ax.set_xlim(0, 63)
    ax.set_ylim(0, 1.02)
    matrix = ax.transData.get_affine().get_matrix()
    a, b = matrix[0, 0], matrix[0, 2]
    column = np.repeat(np.arange(200, 900), 12).astype(float)
    x = (column - 0.5 - b + 1e-7) / a  # every tick 1e-7 px past a pixel edge
    values = np.full(x.shape[0], 0.5)
    line = step_curves.CensorTicks(x, values, marker="|")
    ax.add_line(line)
    step_curves.put_back(line, line.ticks)
    found = raster_thinning.censor_stamps(line, x, values, 10)
    assert np.array_equal(found, _every_tick_kept(line, x, values, 10))
    assert not np.array_equal(found, _every_tick_kept(line, x, values, 10, sure_px=1e-9))


def test_monotone_is_the_staircase_checks_rule() -> None:
    """``_monotone`` (comparisons) answers as ``np.diff``'s signs do, infinities and NaN
    included; the differences themselves are the negative control of a wrong rule."""
    inf, nan = float("inf"), float("nan")
    cases = [
        (1.0, [0.9, 0.9, 0.5]),
        (0.0, [0.1, 0.1, 0.7]),
        (1.0, [1.0, 1.0]),
        (1.0, [0.9, 0.95]),
        (1.0, [0.5, nan, 0.2]),
        (1.0, [0.5, -inf]),
        (1.0, [-inf, -inf]),
        (inf, [inf, 1.0]),
        (1.0, [inf]),
        (-1e308, [1e308, 1e308]),
        (0.5, [0.5]),
    ]
    for start, values in cases:
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, 1e308 - -1e308
            drops = np.diff(np.array([start, *values]))
            found = step_curves._monotone(start, np.array(values))
        assert found == bool(np.all(drops <= 0) or np.all(drops >= 0)), (start, values)
    assert not step_curves._monotone(1.0, np.array([0.9, 0.95]))
