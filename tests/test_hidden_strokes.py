"""Curve stretches under censor ticks left out of a raster (report/hidden_strokes.py): the same
bytes, with most of a dense curve left out, and negative controls showing that the tests see
a violation of each premise (a smaller margin than the line's half width, a mark's partly
covered pixels counted as covered, marks drawn before the curve counted).

Curves come from fixed seeds: Weibull event times, uniform censoring to 60 months on a share
of the rows (sparse ticks, isolated; dense ticks, one per pixel and more)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from matplotlib.lines import Line2D

from rtoutcomes.report import figures, hidden_strokes, raster_thinning
from rtoutcomes.report.figures import Axis, Curve, Panel, Style, render, survival_figure
from rtoutcomes.study.spec import KMOptions
from rtoutcomes.study.summaries import km_summary


def _km(n: int, censored: float, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    event_time = rng.weibull(1.0, n) * 20.0 * (1 + seed % 3)
    censor_time = np.where(rng.random(n) < censored, rng.uniform(0.0, 60.0, n), np.inf)
    time = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(float)
    return dict(km_summary(time, event, KMOptions(), ())["km"])


@functools.cache  # each render leaves it as it was (tested below)
def _figure(n: int, groups: int, censored: float, bands: bool = False) -> Any:
    curves = [Curve(f"G{i}", _km(n, censored, 10 * groups + i), n) for i in range(groups)]
    panel = Panel(curves, "hidden", "Overall survival", "Log-rank p = 0.02", "Group")
    return survival_figure([panel], Axis("months"), Style(bands=bands))


def _raster(fig: Any, dpi: int, margin: Any = hidden_strokes.margin_px) -> tuple[Any, int, int]:
    """The figure's pixels at ``dpi`` as ``render`` draws them (ticks cut to their stamps,
    curves thinned), with the covered stretches left out if ``margin`` (else drawn in full),
    and the vertices of the curves drawn and of those left out."""
    with figures.rc_context():
        cut = figures._cap_censor_runs(fig, dpi)
        thinned = raster_thinning.thin_for_raster(fig, dpi)
        drawn = sum(len(line.get_xdata()) for line, _ in thinned if isinstance(line, Line2D))
        hidden = hidden_strokes.hide_covered(fig, dpi, margin) if margin else []
        left = drawn - sum(len(line.get_xdata()) for line, _ in hidden) if hidden else 0
        try:
            return figures._rgba(fig, dpi), drawn, left
        finally:
            hidden_strokes.restore(hidden)
            raster_thinning.restore(thinned)
            for line, data in cut:
                raster_thinning.put_back(line, data)


def _changed(a: Any, b: Any) -> int:
    return int(np.count_nonzero(np.any(a != b, axis=-1)))


@pytest.mark.parametrize("dpi", [300, 600])
@pytest.mark.parametrize("bands", [False, True])
def test_dense_ticked_panel_same_bytes_most_left_out(dpi: int, bands: bool) -> None:
    """Three curves of 100,000 rows, half censored (the benchmark's grouped panel): the PNG and
    TIFF ``render`` writes are the same bytes as drawn in full, and all but a few per cent of
    the thinned curves' vertices were left out (measured: 99 % at 300 and 600 dpi)."""
    fig = _figure(100_000, 3, 1.0, bands)
    full, drawn, _ = _raster(fig, dpi, None)
    part, _, left = _raster(fig, dpi)
    assert _changed(full, part) == 0
    assert left > 0.9 * drawn
    with_hiding = render(fig, ("png", "tiff"), tiff_dpi=dpi)
    original = hidden_strokes.hide_covered
    try:
        hidden_strokes.hide_covered = lambda fig, dpi: []  # type: ignore[assignment]
        in_full = render(fig, ("png", "tiff"), tiff_dpi=dpi)
    finally:
        hidden_strokes.hide_covered = original  # type: ignore[assignment]
    assert with_hiding.files == in_full.files


@pytest.mark.parametrize("censored", [0.02, 0.2, 1.0])
@pytest.mark.parametrize("dpi", [300, 600])
def test_every_line_style_same_pixels_and_margin_needed(censored: float, dpi: int) -> None:
    """Six curves of 20,000 rows, one in each group's line style (solid, and five dashed
    styles drawn as their dashes), with isolated to dense ticks: no pixel changes. Negative
    control: a margin of a quarter of the line's width (half the half width) changes pixels
    (a stroke reaches past a tick's core where its segment was under it)."""
    fig = _figure(20_000, 6, censored)
    full, _, _ = _raster(fig, dpi, None)
    part, _, left = _raster(fig, dpi)
    assert left > 0 or censored < 0.1  # something left out where ticks are dense
    assert _changed(full, part) == 0
    narrow, _, _ = _raster(fig, dpi, lambda width: width / 4)
    assert _changed(full, narrow) > 0


def test_partly_covered_pixels_are_not_cover() -> None:
    """The marks' cores are the pixels they cover whole. Negative control: counting the
    partly covered column each side as cover changes pixels."""
    fig = _figure(20_000, 3, 0.5)
    full, _, _ = _raster(fig, 600, None)
    core = hidden_strokes._core
    style = ("|", 3.5, 0.7, "full", True, None, True, 600)
    left_, right_, top, bottom = core(*style)
    try:
        hidden_strokes._core = lambda *args: (  # type: ignore[assignment]
            left_ - 1,
            right_ + 1,
            top - 1,
            bottom + 1,
        )
        wide, _, _ = _raster(fig, 600)
    finally:
        hidden_strokes._core = core  # type: ignore[assignment]
    assert _changed(full, wide) > 0


def test_marks_drawn_before_a_curve_do_not_hide_it() -> None:
    """A curve drawn after the ticks (its zorder raised; the ticks grey, the curve black) is
    left whole. Negative control: cut with the marks drawn before it counted, its pixels
    change."""
    fig = _figure(30_000, 1, 1.0)
    with figures.rc_context():
        ax = fig.axes[0]
        curve = next(line for line in ax.get_lines() if len(line.get_xdata()) > 1024)
        ticks = [line for line in ax.get_lines() if line.get_label() == figures.CENSOR_MARKS]
        order, grey = curve.get_zorder(), ticks[0].get_color()
        for line in ticks:
            line.set_color("0.5")
        full, _, _ = _raster(fig, 600, None)
        curve.set_zorder(ticks[0].get_zorder() + 1)
        try:
            fig.set_dpi(600)
            height = int(fig.bbox.height)
            covers = [hidden_strokes._mark_cover(line, 600, height) for line in ticks]
            fig.set_dpi(figures.DPI)
            over, _, _ = _raster(fig, 600, None)
            thinned = raster_thinning.thin_for_raster(fig, 600)
            assert hidden_strokes.hide_covered(fig, 600) == []  # nothing drawn after it
            fig.set_dpi(600)
            margin = hidden_strokes.margin_px(curve.get_linewidth() * 600 / 72)
            undo = hidden_strokes._hide_line(curve, [c for c in covers if c], margin, height)
            fig.set_dpi(figures.DPI)
            assert undo is not None
            try:
                cut = figures._rgba(fig, 600)
            finally:
                undo()
                raster_thinning.restore(thinned)
            assert _changed(over, cut) > 0
            assert _changed(full, over) > 0  # the curve now over its ticks: another figure
        finally:
            curve.set_zorder(order)
            for line in ticks:
                line.set_color(grey)


def test_what_is_left_whole() -> None:
    """Left as drawn: a figure of small curves (nothing to gain: the demo's), a curve Agg
    dashes itself, marks that are translucent or filled."""
    small = _figure(800, 2, 1.0)
    with figures.rc_context():
        assert hidden_strokes.hide_covered(small, 300) == []
        fig = _figure(30_000, 2, 0.5)
        ax = fig.axes[0]
        dashed = [line for line in ax.get_lines() if line.is_dashed()]
        ticks = [line for line in ax.get_lines() if line.get_label() == figures.CENSOR_MARKS]
        assert dashed and ticks
        fig.set_dpi(600)
        try:
            height = int(fig.bbox.height)
            cover = hidden_strokes._mark_cover(ticks[-1], 600, height)
            assert cover is not None
            # not thinned: Agg dashes it, leaving segments out would move its dashes
            assert hidden_strokes._hide_line(dashed[0], [cover], 4.2, height) is None
            tick = ticks[-1]
            for change, back in (
                (lambda: tick.set_alpha(0.5), lambda: tick.set_alpha(None)),
                (lambda: tick.set_marker("o"), lambda: tick.set_marker("|")),
            ):
                change()
                try:
                    assert hidden_strokes._mark_cover(tick, 600, height) is None
                finally:
                    back()
            assert hidden_strokes._mark_cover(tick, 600, height) is not None
        finally:
            fig.set_dpi(figures.DPI)


def test_curves_put_back() -> None:
    """After a render, every curve has its own arrays and snapping back."""
    fig = _figure(100_000, 3, 1.0)
    lines = fig.axes[0].get_lines()
    before = [(line.get_xdata(), line.get_ydata(), line.get_snap()) for line in lines]
    render(fig, ("png", "tiff"), tiff_dpi=600)
    after = [(line.get_xdata(), line.get_ydata(), line.get_snap()) for line in lines]
    assert all(
        a[0] is b[0] and a[1] is b[1] and a[2] == b[2] for a, b in zip(before, after, strict=True)
    )


def test_cover_of_marks_along_a_curve() -> None:
    """``_cover``: columns under marks whose cores join up get the rows between the first
    core's top and the last core's bottom; a gap between two marks' rows taller than a core
    leaves those columns uncovered; the clip box bounds it."""
    core = (0, 1, -3, 3)  # two columns, seven rows
    column = np.array([10, 11, 12, 13, 20, 21])
    row = np.array([50, 52, 54, 56, 80, 81])
    cover = hidden_strokes._cover(column, row, core, (0, 40, 0, 200))
    low, high = cover.low, cover.high
    assert (low[10], high[10]) == (47, 53)  # the mark at 10 alone
    assert (low[11], high[11]) == (47, 55)  # marks at 10 and 11 (rows 50, 52)
    assert (low[14], high[14]) == (53, 59)  # the mark at 13 alone
    assert low[15] > high[15]  # no mark
    assert (low[21], high[21]) == (77, 84)
    gap = hidden_strokes._cover(np.array([10, 11]), np.array([50, 58]), core, (0, 40, 0, 200))
    assert (gap.low[10], gap.high[10]) == (47, 53)
    assert gap.low[11] > gap.high[11]  # rows 50 and 58: 8 apart, a core is 7 tall
    clipped = hidden_strokes._cover(column, row, core, (0, 40, 49, 200))
    assert clipped.low[10] == 49
    boxes = cover.covers(
        np.array([11, 10, 11]),
        np.array([11, 11, 11]),
        np.array([48, 48, 47]),
        np.array([53, 53, 56]),
    )
    assert boxes.tolist() == [True, True, False]


def test_a_rising_staircase_under_its_ticks() -> None:
    """A rising staircase (an incidence curve's direction: up the canvas) of 20,000 steps, one
    in fifty a jump of a few pixels, with a tick in the report's style on every step from 20
    to 40 months, at 300 and 600 dpi: the same pixels, a third of it left out; a narrower
    margin changes pixels where the curve comes out from under the ticks (negative
    control)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rng = np.random.default_rng(5)
    times = np.sort(rng.uniform(0.0, 60.0, 20_000))
    # tiny steps, and one in fifty a jump of a few pixels (steep stretches)
    values = np.cumsum(np.where(rng.random(20_000) < 0.02, 0.01, 0.8 / 20_000))
    x = np.repeat(times, 2)[1:]
    y = np.repeat(values, 2)[:-1]
    with figures.rc_context():
        fig = Figure(figsize=(4, 3), dpi=figures.DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot(x, y, color="0.0", **figures.CURVE_LINE)
        ticked = (times > 20.0) & (times < 40.0)
        ax.plot(times[ticked], values[ticked], linestyle="none", color="0.5", **figures.CENSOR_TICK)
        ax.set_xlim(0, 60)
        ax.set_ylim(0, values[-1] * 1.05)
        for dpi in (300, 600):
            full, drawn, _ = _raster(fig, dpi, None)
            part, _, left = _raster(fig, dpi)
            assert _changed(full, part) == 0
            assert 0.2 * drawn < left < 0.5 * drawn
            narrow, _, _ = _raster(fig, dpi, lambda width: width / 4)
            assert _changed(full, narrow) > 0
