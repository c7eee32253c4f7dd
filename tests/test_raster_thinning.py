"""Step curves thinned for PNG and TIFF (report/raster_thinning.py): what changes in the pixels,
and that it stays within the stated bound at 300 and 600 dpi.

The bound, per figure, thinned against the same figure drawn from every step:
- curves with censoring ticks (Kaplan-Meier panels as the report draws them): at most
  ``TICKED_LEVELS`` grey levels on at most ``TICKED_PIXELS`` pixels;
- curves without ticks (incidence curves, no censoring): only edge pixels differ (pixels next
  to an uninked one), at most ``EDGE_SHARE`` of the raster's pixels, the same pixels inked but
  for ``FLIP_SHARE`` of them, and the ink moved at most ``INK_SHARE`` of the figure's ink.
  A dense curve's edge is inked solid by Agg where its steps fold over each other, a sparser
  drawing of it is anti-aliased there: a single pixel can change by up to 255 levels.
The curves are generated from fixed seeds (Weibull times, with and without censoring, on a
continuous, 1/30 and 1/300 grid), thinned from any size (``MIN_VERTICES`` = 0) so that the
sensitive middle densities are covered. Negative control: thinning to whole pixels, one step per
run, breaks the bound.
"""

from __future__ import annotations

import functools
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
EDGE_SHARE = 0.001
FLIP_SHARE = 0.0001
INK_SHARE = 0.01


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
        raster_thinning.CELLS_PER_PIXEL,
        raster_thinning.SUBSTEPS,
        raster_thinning.MIN_VERTICES,
    )
    raster_thinning.CELLS_PER_PIXEL = cells  # type: ignore[assignment]
    raster_thinning.SUBSTEPS = substeps
    raster_thinning.MIN_VERTICES = min_vertices
    try:
        yield
    finally:
        (
            raster_thinning.CELLS_PER_PIXEL,
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


def _beyond_bound(full: np.ndarray, thin: np.ndarray, ticked: bool) -> list[str]:
    """How ``thin`` breaks the bound against ``full`` (empty: within it)."""
    diff = np.abs(full - thin)
    changed = diff > 0
    if ticked:
        if diff.max() > TICKED_LEVELS or changed.sum() > TICKED_PIXELS:
            return [f"{changed.sum()} pixels differ, by up to {diff.max()} levels"]
        return []
    problems = []
    white = np.pad(full == 255, 1)
    edge = np.zeros(full.shape, dtype=bool)  # an uninked pixel among the 8 neighbours
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            edge |= white[1 + dy : 1 + dy + full.shape[0], 1 + dx : 1 + dx + full.shape[1]]
    if not edge[changed].all():
        problems.append(f"{(changed & ~edge).sum()} pixels inside the curve differ")
    if changed.mean() > EDGE_SHARE:
        problems.append(f"{changed.mean():.4%} of the pixels differ")
    flips = ((full < 255) != (thin < 255)).mean()
    if flips > FLIP_SHARE:
        problems.append(f"{flips:.4%} of the pixels inked in one and not the other")
    ink = (255 - full).sum()
    if diff.sum() > INK_SHARE * ink:
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
        with _thinning(raster_thinning.CELLS_PER_PIXEL, raster_thinning.SUBSTEPS, 0):
            thin = _grey(fig, dpi)
        assert _beyond_bound(full, thin, censored) == [], (case, dpi)
        with _thinning(1, 1, 0):  # negative control: one step per pixel column
            coarse_broke += bool(_beyond_bound(full, _grey(fig, dpi), censored))
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
            assert [line for line, _, _ in thinned] == [curve]
            width, height = fig.get_size_inches() * dpi
            cells = raster_thinning.CELLS_PER_PIXEL * (width + height)
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
