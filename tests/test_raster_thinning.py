"""Step curves thinned for PNG and TIFF (report/raster_thinning.py): what changes in the pixels,
and that it stays within the stated bound at 300 and 600 dpi.

Why not the same bytes: Agg fills a stroke's outline by summing winding numbers per pixel and
clamping; a staircase of steps much shorter than the line is wide folds back on itself at every
inner corner, so a dense curve's edge pixels are inked solid where a sparser drawing of the same
shape is anti-aliased there. A single edge pixel can change by up to 255 levels.

The bound, thinned against the same drawing from every step:
- Kaplan-Meier panels as the report draws them, with censoring ticks (they cover the curve where
  it is dense): at most ``TICKED_LEVELS`` grey levels on at most ``TICKED_PIXELS`` pixels;
- curves without ticks (incidence curves, no censoring), in a report figure: every changed pixel
  within half a line's width of an uninked one (``_half_width``: the curve's edge, or a dash's
  end, which moves within its cell across the line's width), at most ``CHANGED_SHARE`` of
  the raster's pixels changed, the same pixels inked but for ``FLIP_SHARE`` of them, the ink
  moved at most ``FIGURE_INK`` of the figure's;
- generated staircases drawn alone (the curve's own ink; 300 to 60,000 steps, drops of 5-100 px
  over 20-140 px, in each of the six groups' line styles): every changed pixel next to an
  uninked one for a solid line, within half the line's width for a dashed one; at most
  ``CHANGED_PER_PX`` changed pixels per pixel of the curve's length; the ink moved at most
  ``CURVE_INK`` of the curve's ink (the worst of 360 curves a style from six seeds, seeds
  20-25, in the report's curve style, ``figures.CURVE_LINE``: 0.85 pixels per pixel, 6.1 % of
  the ink), and at most ``MEAN_INK`` on average over the curves (0.6-1.6 % a style and seed;
  thinning to whole pixels, one step a run: 6.5 %). A dashed curve is drawn as its dashes,
  each ending on the full curve's segment (``raster_thinning.dashed``: Agg's very pixels,
  tested); without that, a dotted curve breaks the bound (negative control).
The curves come from fixed seeds. Curves are thinned from any size here (``MIN_VERTICES`` = 0)
so that the sensitive middle densities are covered. Negative control: thinning to whole pixels,
one step per run, breaks the bound.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from rtoutcomes.report import figures, raster_thinning
from rtoutcomes.report.figures import Axis, Curve, Panel, render, survival_figure
from rtoutcomes.study.spec import KMOptions
from rtoutcomes.study.summaries import km_summary

TICKED_LEVELS = 32
TICKED_PIXELS = 32
CHANGED_SHARE = 0.001
FLIP_SHARE = 0.0001
FIGURE_INK = 0.01
CHANGED_PER_PX = 1.5
CURVE_INK = 0.1
MEAN_INK = 0.02


def _km(n: int, seed: int, censored: bool) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    shape, scale = rng.uniform(0.5, 3.0), rng.uniform(5.0, 60.0)
    event_time = rng.weibull(shape, n) * scale
    censor_time = rng.uniform(0.0, 60.0, n) if censored else np.full(n, np.inf)
    time = np.minimum(event_time, censor_time)
    grid = (0.0, 1 / 30, 1 / 300)[seed % 3]
    if grid:
        time = np.maximum(np.round(time / grid) * grid, grid)
    return dict(km_summary(time, (event_time <= censor_time).astype(float), KMOptions(), ())["km"])


@functools.cache  # drawn at both resolutions; each render leaves it as it was (tested below)
def _figure(case: int, n: int, groups: int, censored: bool) -> Any:
    curves = [Curve(f"G{i}", _km(n, 100 * case + i, censored), n) for i in range(groups)]
    return survival_figure([Panel(curves, "thinning", "Overall survival")], Axis("months"))


# (rows per curve, curves, censored): ticked and tick-less, 3 to 300 steps per pixel column
CASES = [
    (3000, 1, True),
    (30000, 2, True),
    (10000, 3, False),
    (30000, 1, False),
    (10000, 2, True),
    (200000, 1, False),
]


@contextmanager
def _thinning(cells: float, substeps: int, min_vertices: int) -> Iterator[None]:
    saved = (
        raster_thinning.CELLS_PER_INCH,
        raster_thinning.SUBSTEPS,
        raster_thinning.MIN_VERTICES,
    )
    raster_thinning.CELLS_PER_INCH = cells  # type: ignore[assignment]
    raster_thinning.SUBSTEPS = substeps
    raster_thinning.MIN_VERTICES = min_vertices
    try:
        yield
    finally:
        (
            raster_thinning.CELLS_PER_INCH,
            raster_thinning.SUBSTEPS,
            raster_thinning.MIN_VERTICES,
        ) = saved


def _grey(fig: Any, dpi: int) -> np.ndarray:
    """The figure's raster as ``render`` draws it at ``dpi`` (censor runs cut, curves thinned
    as configured), one grey value per pixel."""
    with figures.rc_context():
        cut = figures._cap_censor_runs(fig, dpi)
        thinned = raster_thinning.thin_for_raster(fig, dpi)
        try:
            return figures._rgba(fig, dpi)[..., 0].astype(int)
        finally:
            raster_thinning.restore(thinned)
            for line, data in cut:
                line.set_data(*data)


def _from_uninked(grey: np.ndarray, most: int) -> np.ndarray:
    """Each pixel's distance (in pixels, diagonals counting one) to the nearest uninked pixel,
    up to ``most`` + 1."""
    distance = np.where(grey == 255, 0, most + 1)
    for step in range(1, most + 1):
        near = np.pad(distance == step - 1, 1)
        grown = np.zeros(grey.shape, dtype=bool)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                grown |= near[1 + dy : 1 + dy + grey.shape[0], 1 + dx : 1 + dx + grey.shape[1]]
        distance = np.where(grown & (distance > step), step, distance)
    return distance


def _half_width(dpi: int) -> int:
    """Half the curves' line (1 pt) in pixels at ``dpi``, rounded up: 3 at 300 dpi, 5 at 600."""
    return math.ceil(dpi / 72 / 2)


def _beyond_bound(full: np.ndarray, thin: np.ndarray, ticked: bool, dpi: int) -> list[str]:
    """How the report figure ``thin`` breaks the bound against ``full`` (empty: within it)."""
    diff = np.abs(full - thin)
    changed = diff > 0
    if ticked:
        if diff.max() > TICKED_LEVELS or changed.sum() > TICKED_PIXELS:
            return [f"{changed.sum()} pixels differ, by up to {diff.max()} levels"]
        return []
    problems = []
    edge = _half_width(dpi)
    inside = changed & (_from_uninked(full, edge) > edge)
    if inside.any():
        problems.append(f"{inside.sum()} pixels changed farther than {edge} px from the edge")
    if changed.mean() > CHANGED_SHARE:
        problems.append(f"{changed.mean():.4%} of the pixels differ")
    flips = ((full < 255) != (thin < 255)).mean()
    if flips > FLIP_SHARE:
        problems.append(f"{flips:.4%} of the pixels inked in one and not the other")
    ink = (255 - full).sum()
    if diff.sum() > FIGURE_INK * ink:
        problems.append(f"{diff.sum() / ink:.2%} of the ink moved")
    return problems


@pytest.mark.parametrize("dpi", [300, 600])
def test_thinned_curves_stay_within_the_bound(dpi: int) -> None:
    coarse_broke = 0
    for case, (n, groups, censored) in enumerate(CASES):
        if dpi == 600 and n > 100000:
            continue  # the densest case at 300 dpi only (time)
        fig = _figure(case, n, groups, censored)
        with _thinning(1, 1, 10**12):
            full = _grey(fig, dpi)  # every step drawn
        with _thinning(raster_thinning.CELLS_PER_INCH, raster_thinning.SUBSTEPS, 0):
            thin = _grey(fig, dpi)
        assert _beyond_bound(full, thin, censored, dpi) == [], (case, dpi)
        # negative control: a cell of two pixels, one step a run (a dashed curve's runs are
        # cut where its dashes end, and more steps a run: one pixel a cell keeps the bound
        # on some of these figures)
        with _thinning(dpi / 2, 1, 0):
            coarse_broke += bool(_beyond_bound(full, _grey(fig, dpi), censored, dpi))
    assert coarse_broke >= 3


def test_dense_curves_are_thinned_small_ones_kept() -> None:
    """A curve of 200,000 rows is drawn from a bounded number of steps at each dpi; the demo's
    and any curve of a few thousand rows are not touched (their bytes are as before)."""
    small = _figure(0, 3000, 2, True)
    with figures.rc_context():
        assert raster_thinning.thin_for_raster(small, 600) == []
    fig = _figure(5, 200000, 1, False)
    (curve,) = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 1000]
    x, y = (np.array(v) for v in curve.get_data())
    snap = curve.get_snap()
    for dpi in (300, 600):
        with figures.rc_context():
            thinned = raster_thinning.thin_for_raster(fig, dpi)
            assert [artist for artist, _ in thinned] == [curve]
            width, height = fig.get_size_inches() * dpi
            cells = raster_thinning.CELLS_PER_INCH / dpi * (width + height)
            assert len(curve.get_xdata()) <= 2 * raster_thinning.SUBSTEPS * cells + 3
            assert curve.get_snap() is False  # as the full curve: never snapped
            raster_thinning.restore(thinned)
    assert np.array_equal(curve.get_xdata(), x) and np.array_equal(curve.get_ydata(), y)
    assert curve.get_snap() == snap
    # render thins per format (PNG 300 dpi, TIFF 600) and leaves the figure as it was
    files = render(fig, ("png", "tiff"), tiff_dpi=600).files
    assert files["png"][:8] == b"\x89PNG\r\n\x1a\n" and files["tiff"][:2] in (b"II", b"MM")
    assert np.array_equal(curve.get_xdata(), x) and curve.get_snap() == snap


def _staircase(start: float, times: list[float], after: list[float], end: float) -> tuple:
    before = [start, *after[:-1]]
    x = np.concatenate(([0.0], np.repeat(times, 2), [end]))
    y = np.concatenate(([start], np.column_stack((before, after)).ravel(), [after[-1]]))
    return x, y


@pytest.mark.parametrize("rising", [False, True])
def test_runs_inside_a_cell_are_drawn_as_fewer_steps(rising: bool) -> None:
    """The thinning itself, on a staircase whose data units are pixels (one cell a pixel, at
    most two steps a run): cut at each pixel column, a run of five steps in column 10 drawn as
    two steps at their groups' first drops, the two steps of column 11 kept as they are (the
    one without a drop too), the last step kept, the flat end kept. A falling (Kaplan-Meier)
    and a rising (incidence) curve alike."""
    times = [10.0, 10.2, 10.4, 10.6, 10.8, 11.0, 11.5, 12.5]
    drops = [0.1, 0.0, 0.0, 0.2, 0.1, 0.1, 0.0, 0.0]  # steps 1, 2, 6 and 7 change nothing
    sign = 1.0 if rising else -1.0
    start = 0.0 if rising else 100.0
    after = list(start + sign * np.cumsum(drops))
    x, y = _staircase(start, times, after, 14.0)
    new_x, new_y = raster_thinning.staircase_cells(x, y, (1.0, 0.0, 1.0, 0.0), 1, 2)
    # column 10: steps 0-1 (drop at 10.0 to after[1]), steps 2-4 (first drop at 10.6, to
    # after[4]); column 11: steps 5 and 6 as they are; step 7 (the last) and the end
    assert list(new_x) == [0.0, 10.0, 10.0, 10.6, 10.6, 11.0, 11.0, 11.5, 11.5, 12.5, 12.5, 14.0]
    levels = [start, after[1], after[4], after[5], after[6], after[7]]
    assert list(new_y) == [start, *np.repeat(levels, 2)[1:-1], after[7]]
    # finer cells than the curve has steps: nothing to gain, the curve as it is
    same_x, same_y = raster_thinning.staircase_cells(x, y, (1.0, 0.0, 1.0, 0.0), 100, 2)
    assert same_x is x and same_y is y


def _drawn_alone(
    x: np.ndarray,
    y: np.ndarray,
    dpi: int,
    style: Any,
    thinning: tuple[float, int] | None = None,
) -> np.ndarray:
    """The staircase (in pixels) stroked as the report strokes a curve (``style``: one of
    ``LINE_STYLES``) at ``dpi`` on a 160 x 120 pixel canvas, one grey value per pixel; with
    ``thinning`` (cells per inch, substeps), thinned first as the raster thins a curve
    (``thin_line``) whatever its size."""
    return _stroked(x, y, dpi, thinning, linestyle=style, **figures.CURVE_LINE)


def _stroked(
    x: np.ndarray, y: np.ndarray, dpi: int, thinning: tuple[float, int] | None, **style: Any
) -> np.ndarray:
    """(x, y) (in pixels) stroked in black with ``style`` (Line2D's properties), as
    ``_drawn_alone`` says."""
    from matplotlib.lines import Line2D
    from matplotlib.transforms import IdentityTransform

    with figures.rc_context():
        fig = figures.new_figure(160 / dpi, 120 / dpi)
        fig.set_dpi(dpi)
        fig.set_size_inches(160 / dpi, 120 / dpi)
        line = Line2D(x, y, transform=IdentityTransform(), color="0.0", **style)
        line.set_snap(False)  # as thin_for_raster draws both
        fig.add_artist(line)
        if thinning is not None:
            with _thinning(*thinning, 0):
                raster_thinning.thin_line(line, dpi)
        fig.canvas.draw()
        return np.array(fig.canvas.buffer_rgba())[..., 0].astype(int)


def _alone_beyond_bound(
    full: np.ndarray, thin: np.ndarray, dashed: bool, length: float, dpi: int
) -> tuple[bool, float]:
    """Whether the staircase drawn alone breaks its bound, and the share of its ink moved."""
    diff = np.abs(full - thin)
    changed = diff > 0
    edge = _half_width(dpi) if dashed else 1
    moved = diff.sum() / (255 - full).sum()
    broken = (
        (changed & (_from_uninked(full, edge) > edge)).any()
        or changed.sum() > CHANGED_PER_PX * length
        or moved > CURVE_INK
    )
    return bool(broken), float(moved)


def _generated_staircases(seed: int, count: int) -> Iterator[tuple[int, int, float, Any, Any]]:
    """``count`` staircases (case, steps, length in px, x, y) from ``seed``: 300 to 60,000
    steps, drops of 5 to 100 pixels over 20 to 140 pixels, a fifth to all steps dropping."""
    rng = np.random.default_rng(seed)
    for case in range(count):
        steps = int(rng.choice([300, 2000, 6000, 20000, 60000]))
        span, drop = rng.uniform(20, 140), rng.uniform(5, 100)
        times = np.unique(rng.uniform(10, 10 + span, steps))
        size = rng.exponential(1.0, times.shape[0]) * (
            rng.random(times.shape[0]) < rng.uniform(0.2, 1)
        )
        values = 10 + drop * (1 - np.cumsum(size) / max(size.sum(), 1e-9))
        x, y = _staircase(10 + drop, list(times), list(values), times[-1] + 5)
        yield case, steps, span + drop, x + rng.uniform(0, 1), y + rng.uniform(0, 1)


def test_generated_staircases_stay_within_the_bound() -> None:
    """60 staircases from fixed seeds: 300 to 60,000 steps, drops of 5 to 100 pixels over 20 to
    140 pixels (steep and flat, sparse and dense), a fifth to all steps dropping, solid and
    dashed, with the line widths of 300 and 600 dpi; thinned as the report thins (cells and
    substeps) and, as a negative control, to whole pixels with one step a run."""
    coarse_broke, moved, coarse_moved = 0, [], []
    for case, steps, length, x, y in _generated_staircases(20, 60):
        dpi, dashed = (300, 600)[case % 2], case % 3 == 0
        style = figures.LINE_STYLES[1] if dashed else "-"
        full = _drawn_alone(x, y, dpi, style)
        thin = _drawn_alone(
            x, y, dpi, style, (raster_thinning.CELLS_PER_INCH, raster_thinning.SUBSTEPS)
        )
        broken, share = _alone_beyond_bound(full, thin, dashed, length, dpi)
        assert not broken, (case, steps, dashed)
        moved.append(share)
        coarse = _drawn_alone(x, y, dpi, style, (dpi, 1))
        broken, share = _alone_beyond_bound(full, coarse, dashed, length, dpi)
        coarse_broke += broken
        coarse_moved.append(share)
    assert np.mean(moved) <= MEAN_INK
    assert coarse_broke >= 10 and np.mean(coarse_moved) > 2 * MEAN_INK  # the control fails


@pytest.mark.parametrize("style", [2, 3, 4, 5])
def test_generated_staircases_in_the_other_group_styles_stay_within_the_bound(
    style: int,
) -> None:
    """The bound above, for the line styles of the third to sixth groups (dotted, dash-dot,
    short dashes, dash-dot-dot): 24 staircases of seed 20 at 300 and 600 dpi. Negative
    control: the same staircases thinned from as many steps a cell but without keeping the
    steps each dash starts and ends on, then dashed by Agg (how the raster drew a dashed
    curve before): a dash's butt end is square to whichever tiny step it falls on, and a dot
    of one line width is mostly ends, so the dotted curves move more than the bound allows."""
    pattern = figures.LINE_STYLES[style]
    moved, unkept = [], []
    for case, steps, length, x, y in _generated_staircases(20, 24):
        dpi = (300, 600)[case % 2]
        full = _drawn_alone(x, y, dpi, pattern)
        cells = raster_thinning.CELLS_PER_INCH
        thin = _drawn_alone(x, y, dpi, pattern, (cells, raster_thinning.SUBSTEPS))
        broken, share = _alone_beyond_bound(full, thin, True, length, dpi)
        assert not broken, (case, steps, style)
        moved.append(share)
        if style == 2:
            width = dpi / 72  # 1 pt
            substeps = raster_thinning.dash_substeps(np.array(pattern[1]) * width, width)
            unkept_x, unkept_y = raster_thinning.staircase_cells(
                x, y, (1.0, 0.0, 1.0, 0.0), cells / dpi, substeps
            )
            unkept_drawn = _drawn_alone(unkept_x, unkept_y, dpi, pattern)
            unkept.append(_alone_beyond_bound(full, unkept_drawn, True, length, dpi)[1])
    assert np.mean(moved) <= MEAN_INK
    if style == 2:
        assert np.mean(unkept) > MEAN_INK  # the control fails


def test_dashes_cut_as_agg_cuts_them() -> None:
    """A dashed staircase cut into its dashes (``dashed``) and stroked solid with the dash caps
    and joins is the very raster Agg draws of it dashed: every style, at 300 and 600 dpi, with
    and without an offset into the pattern. Negative control: the pattern shifted by a
    quarter of its first dash is not."""
    from matplotlib.lines import Line2D

    def cut(x: np.ndarray, y: np.ndarray, dpi: int, style: Any, shift: float = 0.0) -> Any:
        line = Line2D(x, y, linestyle=style, linewidth=figures.CURVE_LINE["linewidth"])
        offset, lengths = raster_thinning.dash_pattern(line, dpi)
        dashes = (offset + shift * lengths[0], lengths)
        return raster_thinning.dashed(x, y, (1.0, 0.0, 1.0, 0.0), dashes)

    def drawn_cut(x: np.ndarray, y: np.ndarray, dpi: int, style: Any, shift: float = 0.0) -> Any:
        cut_x, cut_y = cut(x, y, dpi, style, shift)
        return _drawn_solid(cut_x, cut_y, dpi)

    for case, _, _, x, y in _generated_staircases(21, 6):
        dpi = (300, 600)[case % 2]
        for style in [*figures.LINE_STYLES[1:], (2.3, (4, 1.5)), ":"]:
            assert np.array_equal(_drawn_alone(x, y, dpi, style), drawn_cut(x, y, dpi, style))
        dotted = figures.LINE_STYLES[2]
        assert not np.array_equal(
            _drawn_alone(x, y, dpi, dotted), drawn_cut(x, y, dpi, dotted, 0.25)
        )
    # a staircase shorter than the dash (or the gap) it starts in: one dash (or nothing)
    x, y = _staircase(60.0, [0.5, 1.0], [59.5, 59.0], 1.5)
    x = x + 60.0  # 2.5 px long
    for offset in (0.0, 4.1, 5.0):  # in a dash; in a gap; into the next dash
        style = (offset, (4, 1.5))
        assert np.array_equal(_drawn_alone(x, y, 300, style), drawn_cut(x, y, 300, style))
    assert cut(x, y, 300, (4.1, (4, 1.5)))[0].shape[0] == 0


@functools.cache
def _three_dense_curves(rows: int = 60000) -> Any:
    """A panel of three groups' curves (solid, dashed, dotted) of ``rows`` distinct times each,
    without censoring."""
    curves = [Curve(f"G{i}", _km(rows, 3 * (300 + i), False), rows) for i in range(3)]
    return survival_figure([Panel(curves, "dashes", "Overall survival")], Axis("months"))


@pytest.mark.parametrize("dpi", [300, 600])
def test_dense_grouped_curves_each_within_the_bound(dpi: int) -> None:
    """Three groups' curves of 300,000 rows each, without censoring (solid, dashed, dotted),
    in one panel: each curve, drawn alone in it, keeps the report figures' bound. (Where
    dense curves overlap, one curve's edge lies inside another's ink, so the figure's changed
    pixels add up and some lie deep in the union's ink: the bound is a curve's.) Negative
    control: cells of two pixels, one step a run, break it for at least two of the curves."""
    fig = _three_dense_curves(300000)
    curves = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 1000]
    assert len(curves) == 3
    coarse_broke = 0
    try:
        for curve in curves:
            for other in curves:
                other.set_visible(other is curve)
            with _thinning(1, 1, 10**12):
                full = _grey(fig, dpi)  # every step drawn
            assert _beyond_bound(full, _grey(fig, dpi), False, dpi) == []
            # negative control: cells of two pixels, one step a run
            with _thinning(dpi / 2, 1, 0):
                coarse_broke += bool(_beyond_bound(full, _grey(fig, dpi), False, dpi))
    finally:
        for curve in curves:
            curve.set_visible(True)
    assert coarse_broke >= 2


def _line_styles(line: Any) -> tuple[str, ...]:
    """A line's style, dash cap and join, solid cap and join."""
    return (
        line.get_linestyle(),
        line.get_dash_capstyle(),
        line.get_dash_joinstyle(),
        line.get_solid_capstyle(),
        line.get_solid_joinstyle(),
    )


def test_dashed_curves_thinned_as_dashes_and_put_back() -> None:
    """In a three-group panel (solid, dashed, dotted curves of 60,000 rows), the raster draws
    each dashed curve solid as its dashes (NaN between them) with the dashes' caps and joins;
    ``restore`` gives each line its style back (the panel then draws the same bytes as before
    it was thinned)."""
    fig = _three_dense_curves()
    lines = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 1000]
    styles = [_line_styles(line) for line in lines]
    assert [style[0] for style in styles] == ["-", "--", "--"]
    with figures.rc_context():
        before = figures._rgba(fig, 300)
        thinned = raster_thinning.thin_for_raster(fig, 300)
        assert {artist for artist, _ in thinned} >= set(lines)
        for line, (_, cap, join, _, _) in zip(lines[1:], styles[1:], strict=True):
            assert line.get_linestyle() == "-" and np.isnan(line.get_xdata()).sum() > 10
            assert (line.get_solid_capstyle(), line.get_solid_joinstyle()) == (cap, join)
        raster_thinning.restore(thinned)
        assert [_line_styles(line) for line in lines] == styles
        assert np.array_equal(figures._rgba(fig, 300), before)


def test_dashed_curves_left_in_full_where_their_dashes_cannot_be_placed() -> None:
    """A dashed curve is left as it is (drawn in full) where its pattern cannot be read (it is
    kept in a matplotlib attribute that a release may rename), where it is drawn as steps of
    its vertices or marks each of them, where its dashes are finer
    than its steps (a pattern of a ten-thousandth of its width), or where Agg would not dash it
    from its first vertex (it starts left of its axes: matplotlib then draws it from a later
    vertex). Control: the same curve as made is thinned."""
    fig = _three_dense_curves()
    dashed_line = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 1000][1]
    with figures.rc_context():
        fig.set_dpi(300)
        undo = raster_thinning.thin_line(dashed_line, 300)
        assert undo is not None
        undo()
        saved = dashed_line._dash_pattern  # type: ignore[attr-defined]
        dashed_line._dash_pattern = None  # type: ignore[attr-defined]
        try:
            assert raster_thinning.thin_line(dashed_line, 300) is None
        finally:
            dashed_line._dash_pattern = saved  # type: ignore[attr-defined]
        # a curve drawn as steps of its vertices, or marking each vertex
        for prop, value in (("drawstyle", "steps-post"), ("marker", ".")):
            back = getattr(dashed_line, f"get_{prop}")()
            dashed_line.set(**{prop: value})
            try:
                assert raster_thinning.thin_line(dashed_line, 300) is None
            finally:
                dashed_line.set(**{prop: back})
        again = raster_thinning.thin_line(dashed_line, 300)  # as made again: thinned
        assert again is not None
        again()
        # dashes finer than the curve's steps (more dash ends than it has vertices)
        dashed_line.set_linestyle((0, (1e-4, 1e-4)))
        try:
            assert raster_thinning.thin_line(dashed_line, 300) is None
            # the layout reads it thinned as a solid curve (no dash ends made)
            assert raster_thinning.for_layout(dashed_line, 300) is not None
        finally:
            dashed_line.set_linestyle(figures.LINE_STYLES[1])
        axes = fig.axes[0]
        left, right = axes.get_xlim()
        axes.set_xlim(left + 0.5, right)
        try:
            assert raster_thinning.thin_line(dashed_line, 300) is None
        finally:
            axes.set_xlim(left, right)
            fig.set_dpi(figures.DPI)


def _drawn_solid(x: np.ndarray, y: np.ndarray, dpi: int) -> np.ndarray:
    """(x, y) (in pixels, NaN between subpaths) stroked solid with the dash caps and joins of
    a report curve, as ``_drawn_alone`` strokes a curve."""
    style = figures.CURVE_LINE
    return _stroked(
        x,
        y,
        dpi,
        None,
        linestyle="-",
        linewidth=style["linewidth"],
        solid_joinstyle=style["dash_joinstyle"],
        solid_capstyle=style["dash_capstyle"],
    )


BAND_LEVELS = 8
"""Confidence bands are filled, not stroked (no folded outline), at 12 % opacity: a merged run
of steps moves fill only inside its cell (``raster_thinning.BAND_CELLS_PER_PX``: 1/2 pixel),
and its step is placed halfway through the time the run drops over, so about as much moves
one way as the other. 8 grey levels is a quarter of a pixel's fill (0.12 x 255 = 31 levels a
whole pixel); measured: at most 1 level as drawn, 2 with the curves hidden (see
``BAND_CELLS_PER_PX``)."""


@contextmanager
def _band_cells(per_px: float, centred: bool = True) -> Iterator[None]:
    """Bands thinned in cells of 1/``per_px`` pixel, each run's step halfway through its drop
    (``centred``) or, if not, at its first drop (as a curve's)."""
    saved = raster_thinning.BAND_CELLS_PER_PX, raster_thinning.step_cells
    raster_thinning.BAND_CELLS_PER_PX = per_px  # type: ignore[assignment]
    if not centred:
        step_cells = raster_thinning.step_cells

        def at_first_drop(*args: Any, **kwargs: Any) -> Any:
            return step_cells(*args, **{**kwargs, "centred": False})

        raster_thinning.step_cells = at_first_drop  # type: ignore[assignment]
    try:
        yield
    finally:
        raster_thinning.BAND_CELLS_PER_PX, raster_thinning.step_cells = saved


def _bands_thinned(
    fig: Any, bands: list[Any], dpi: int, per_px: float, centred: bool = True
) -> np.ndarray:
    """The figure at ``dpi`` with only its bands thinned (cells of 1/``per_px`` pixel)."""
    curves = raster_thinning.CELLS_PER_INCH, raster_thinning.SUBSTEPS
    with figures.rc_context(), _band_cells(per_px, centred), _thinning(*curves, 0):
        fig.set_dpi(dpi)
        thinned = [raster_thinning._thin_band(band, dpi) for band in bands]
        fig.set_dpi(figures.DPI)
        kept = [t for t in thinned if t is not None]
        assert len(kept) == len(bands)
        try:
            return figures._rgba(fig, dpi)[..., 0].astype(int)
        finally:
            raster_thinning.restore(kept)


@pytest.mark.parametrize("bare", [False, True], ids=["as drawn", "bands alone"])
def test_confidence_bands_thinned_within_a_few_levels(bare: bool) -> None:
    """Two bands (fill_between, step "post") of 40,000 rows are thinned with the curves and
    put back (a run of steps in a band's cell drawn as ``BAND_SUBSTEPS``: one step, halfway
    through its drop; measured: 1 level on 12 pixels at 300 dpi and 39 at 600 as drawn, on
    126 and 287 with the curves hidden, ``bare``); their thinning alone moves no pixel more
    than BAND_LEVELS, at 300 and 600 dpi, and changes fewer pixels than the same cells with
    each step at its run's first drop (bare: 4 levels on 1,452 and 2,560 pixels); a far
    coarser one (cells of 40 pixels) breaks the bound (negative control). The vector files
    thin them as the 300 dpi raster does."""
    from matplotlib.collections import PolyCollection

    from rtoutcomes.report.figures import Style

    curves = [Curve(f"G{i}", _km(40000, 700 + i, False), 40000) for i in range(2)]
    panel = Panel(curves, "bands", "Overall survival")
    fig = survival_figure([panel], Axis("months"), Style(bands=True))
    for line in fig.axes[0].get_lines() if bare else ():
        line.set_visible(False)
    bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    paths = [band.get_paths() for band in bands]
    cells = raster_thinning.BAND_CELLS_PER_PX
    for dpi in (300, 600):
        with figures.rc_context():
            full = figures._rgba(fig, dpi)[..., 0].astype(int)
        moved = np.abs(full - _bands_thinned(fig, bands, dpi, cells))
        assert moved.max() <= BAND_LEVELS
        at_first_drop = np.abs(full - _bands_thinned(fig, bands, dpi, cells, centred=False))
        assert np.count_nonzero(moved) < np.count_nonzero(at_first_drop)
        coarse = _bands_thinned(fig, bands, dpi, 1 / 40)
        assert np.abs(full - coarse).max() > BAND_LEVELS
    assert [band.get_paths() for band in bands] == paths  # put back, the same objects
    with figures.rc_context():
        thinned = raster_thinning.thin_for_raster(fig, 300)
    assert set(bands) <= {artist for artist, _ in thinned}
    raster_thinning.restore(thinned)
    # SVG and PDF: the bands thinned as for the 300 dpi PNG, smaller, and put back
    with _thinning(raster_thinning.CELLS_PER_INCH, raster_thinning.SUBSTEPS, 10**12):
        every_step = render(fig, ("svg",)).svg
    assert len(render(fig, ("svg",)).svg) < len(every_step)  # 1e6 rows: 99 MB -> 4.6 MB
    assert [band.get_paths() for band in bands] == paths


@pytest.mark.parametrize("snapped", [False, True], ids=["as drawn", "negative control"])
def test_a_small_dense_band_thinned_is_not_snapped(snapped: bool) -> None:
    """A dense band in a small part of its axes (20,000 rows over ~20 x 30 px at 300 dpi)
    is thinned to fewer than 1,025 vertices, where Agg would snap a path of horizontal and
    vertical segments to the pixel grid (the full band, at least ``MIN_VERTICES``, never
    is): the thinned band is drawn unsnapped (measured: 1 level on 1 pixel) and its snapping
    put back; snapped (negative control), its edges move by up to half a pixel (25 levels)."""
    from matplotlib.figure import Figure

    from rtoutcomes.report import step_curves

    rng = np.random.default_rng(3)
    rows = 20000
    km = dict(km_summary(rng.uniform(0, 10, rows), np.ones(rows), KMOptions(), ())["km"])
    fig = Figure(figsize=(3.35, 2.5), dpi=300)
    ax = fig.add_subplot()
    ax.set_xlim(0, 2000)
    ax.set_ylim(-40, 1)
    step_curves.plot_band(ax, Curve("A", km, rows), 1.0, color="k", alpha=0.12, linewidth=0)
    (band,) = ax.collections
    full = figures._rgba(fig, 300)[..., 0].astype(int)
    (thinned,) = raster_thinning.thin_bands(fig, 300)
    assert len(band.get_paths()[0].vertices) <= 1024
    assert band.get_snap() is False
    if snapped:
        band.set_snap(None)
    moved = np.abs(full - figures._rgba(fig, 300)[..., 0].astype(int))
    raster_thinning.restore([thinned])
    assert band.get_snap() is None  # put back
    assert (moved.max() > BAND_LEVELS) == snapped


@pytest.mark.parametrize("pieces", [True, False], ids=["in pieces", "negative control"])
def test_a_band_edge_that_turns_is_thinned_in_pieces_within_the_bound(
    pieces: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upper limit that rises again (here once in the middle, as a log upper limit does at
    the tail where few are at risk, and over its last third) is thinned in monotone pieces
    (``step_curves.edge_stairs``) within ``BAND_LEVELS`` at 300 and 600 dpi, curves hidden
    (measured: 2 levels); thinned as one piece (negative control: its values are not
    sorted, so the binary searches cut it wrongly), it breaks the bound."""
    from matplotlib.collections import PolyCollection

    from rtoutcomes.report import step_curves
    from rtoutcomes.report.figures import Style

    km = _km(40000, 701, False)
    upper = list(km["upper"])
    upper[len(upper) // 3] = upper[len(upper) // 3 - 1] + 0.01
    turn = 2 * len(upper) // 3
    for i in range(turn, len(upper)):
        upper[i] = upper[turn] + 0.2 * (i - turn) / len(upper)
    curve = Curve("G", dict(km, upper=upper), 40000)
    fig = survival_figure([Panel([curve], "bands", "OS")], Axis("months"), Style(bands=True))
    for line in fig.axes[0].get_lines():
        line.set_visible(False)
    bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    if not pieces:

        def one_piece(xs: Any, values: Any) -> Any:
            return [step_curves._piece(xs, values, 0, xs.shape[0] - 1)]

        monkeypatch.setattr(step_curves, "edge_stairs", one_piece)
        monkeypatch.setattr(raster_thinning, "edge_stairs", one_piece)
    worst = 0
    for dpi in (300, 600):
        with figures.rc_context():
            full = figures._rgba(fig, dpi)[..., 0].astype(int)
        thin = _bands_thinned(fig, bands, dpi, raster_thinning.BAND_CELLS_PER_PX)
        worst = max(worst, int(np.abs(full - thin).max()))
    assert (worst <= BAND_LEVELS) == pieces
    (path,) = bands[0].get_paths()
    assert len(path.stairs(True) or ()) == (4 if pieces else 1)
