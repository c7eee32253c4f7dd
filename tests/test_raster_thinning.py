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
  over 20-140 px, solid and dashed, the first two groups' styles): every changed pixel next
  to an uninked one for a solid
  line, within half the line's width for a dashed one; at most
  ``CHANGED_PER_PX`` changed pixels per pixel of the curve's length; the ink moved at most
  ``CURVE_INK`` of the curve's ink (the worst of 360 curves from six seeds, seeds 20-25, at
  ``SUBSTEPS`` = 3: 1.09 pixels per pixel, 6.9 % of the ink), and at most ``MEAN_INK`` on
  average over the curves (1.0-1.6 %; thinning to whole pixels, one step a run: 6.5 %).
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
        with _thinning(dpi, 1, 0):  # negative control: one cell a pixel, one step a run
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
    x: np.ndarray, y: np.ndarray, dpi: int, dashed: bool, style: Any = None
) -> np.ndarray:
    """The staircase (in pixels) stroked as the report strokes a curve at ``dpi`` on a
    160 x 120 pixel canvas, one grey value per pixel (``style``: one of ``LINE_STYLES``, else
    the first dashed one if ``dashed``)."""
    from matplotlib.lines import Line2D
    from matplotlib.transforms import IdentityTransform

    with figures.rc_context():
        fig = figures.new_figure(160 / dpi, 120 / dpi)
        fig.set_dpi(dpi)
        fig.set_size_inches(160 / dpi, 120 / dpi)
        line = Line2D(
            x,
            y,
            transform=IdentityTransform(),
            linestyle=style if style is not None else figures.LINE_STYLES[1] if dashed else "-",
            color="0.0",
            linewidth=1.0,
            solid_joinstyle="miter",
            dash_capstyle="butt",
        )
        line.set_snap(False)  # as thin_for_raster draws both
        fig.add_artist(line)
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
        full = _drawn_alone(x, y, dpi, dashed)
        cells, substeps = raster_thinning.CELLS_PER_INCH / dpi, raster_thinning.SUBSTEPS
        thin_x, thin_y = raster_thinning.staircase_cells(
            x, y, (1.0, 0.0, 1.0, 0.0), cells, substeps
        )
        thin = _drawn_alone(thin_x, thin_y, dpi, dashed)
        broken, share = _alone_beyond_bound(full, thin, dashed, length, dpi)
        assert not broken, (case, steps, dashed)
        moved.append(share)
        coarse_x, coarse_y = raster_thinning.staircase_cells(x, y, (1.0, 0.0, 1.0, 0.0), 1, 1)
        coarse = _drawn_alone(coarse_x, coarse_y, dpi, dashed)
        broken, share = _alone_beyond_bound(full, coarse, dashed, length, dpi)
        coarse_broke += broken
        coarse_moved.append(share)
    assert np.mean(moved) <= MEAN_INK
    assert coarse_broke >= 10 and np.mean(coarse_moved) > 2 * MEAN_INK  # the control fails


@pytest.mark.parametrize(
    "style",
    [
        pytest.param(
            figures.LINE_STYLES[2],
            marks=pytest.mark.xfail(
                strict=True,
                reason="known gap: a dotted dense curve (a third group's style) thinned to "
                "SUBSTEPS steps a cell moves up to ~16 % of its ink (mean 3.9-5.5 %); "
                "8 steps a cell still breaks the bound",
            ),
            id="dotted",
        ),
        pytest.param(
            figures.LINE_STYLES[3],
            marks=pytest.mark.xfail(
                strict=True,
                reason="known gap: a dash-dot dense curve (a fourth group's style) thinned to "
                "SUBSTEPS steps a cell moves 1.7-2.9 % of its ink on average (bound 2 %)",
            ),
            id="dash-dot",
        ),
    ],
)
def test_generated_staircases_in_the_other_group_styles_stay_within_the_bound(
    style: Any,
) -> None:
    """The bound above, for the line styles of a third and a fourth group (dotted, dash-dot):
    30 staircases of seed 20 at 300 and 600 dpi. Neither holds today (xfail, strict: this
    test fails when a thinning that keeps the bound for these styles lands, and the marks
    must then go). The first test covers the first two groups' styles (solid, dashed)."""
    moved = []
    for case, steps, length, x, y in _generated_staircases(20, 30):
        dpi = (300, 600)[case % 2]
        full = _drawn_alone(x, y, dpi, True, style)
        cells, substeps = raster_thinning.CELLS_PER_INCH / dpi, raster_thinning.SUBSTEPS
        thin_x, thin_y = raster_thinning.staircase_cells(
            x, y, (1.0, 0.0, 1.0, 0.0), cells, substeps
        )
        thin = _drawn_alone(thin_x, thin_y, dpi, True, style)
        broken, share = _alone_beyond_bound(full, thin, True, length, dpi)
        assert not broken, (case, steps, style)
        moved.append(share)
    assert np.mean(moved) <= MEAN_INK


BAND_LEVELS = 8
"""Confidence bands are filled, not stroked (no folded outline), at 12 % opacity: a merged run
moves at most a cell's area of fill in each cell its boundary crosses, at most ~16 cells of
1/64 pixel in one pixel: a quarter of the pixel, 8 grey levels at most."""


def _bands_thinned(fig: Any, bands: list[Any], dpi: int, cells: float) -> np.ndarray:
    """The figure at ``dpi`` with only its bands thinned (cells of 1/``cells`` inch)."""
    with figures.rc_context(), _thinning(cells, raster_thinning.SUBSTEPS, 0):
        fig.set_dpi(dpi)
        thinned = [raster_thinning._thin_band(band, dpi) for band in bands]
        fig.set_dpi(figures.DPI)
        kept = [t for t in thinned if t is not None]
        assert len(kept) == len(bands)
        try:
            return figures._rgba(fig, dpi)[..., 0].astype(int)
        finally:
            raster_thinning.restore(kept)


def test_confidence_bands_thinned_within_a_few_levels() -> None:
    """A band (fill_between, step "post") of 40,000 rows is thinned with the curves and put
    back (a run of steps in a cell drawn as ``BAND_SUBSTEPS``: one step; measured: 1 level on
    34 pixels at 300 dpi, 172 at 600); its thinning alone moves no pixel more than
    BAND_LEVELS, at 300 and 600 dpi, and a
    far coarser one (cells of 40 pixels) does (negative control). The vector files thin it as
    the 300 dpi raster does."""
    from matplotlib.collections import PolyCollection

    from rtoutcomes.report.figures import Style

    curves = [Curve(f"G{i}", _km(40000, 700 + i, False), 40000) for i in range(2)]
    panel = Panel(curves, "bands", "Overall survival")
    fig = survival_figure([panel], Axis("months"), Style(bands=True))
    bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    paths = [band.get_paths() for band in bands]
    for dpi in (300, 600):
        with figures.rc_context():
            full = figures._rgba(fig, dpi)[..., 0].astype(int)
        thin = _bands_thinned(fig, bands, dpi, raster_thinning.CELLS_PER_INCH)
        assert np.abs(full - thin).max() <= BAND_LEVELS
        coarse = _bands_thinned(fig, bands, dpi, dpi / 40)
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
