"""Step curves thinned for the raster (PNG, TIFF) at its own resolution, so that Agg draws a
figure from the same amount of work whatever the number of rows.

A Kaplan-Meier or cumulative-incidence curve of a million rows is a staircase of two million
vertices, and Agg strokes every one (~0.6 s at 300 dpi, twice that at 600). ``thin_for_raster``
cuts each curve's steps into runs at every 1/``CELLS_PER_INCH`` inch of time and of value, at
the dpi of the raster being drawn (PNG and TIFF may differ), and draws a run of more than
``SUBSTEPS`` steps as ``SUBSTEPS`` steps: the same start, end and total drop, each step at the
time of its group's first drop. Agg then draws at most ``2 * SUBSTEPS`` vertices per cell
along the curve's width plus height. The cuts are found by binary search (times
and values are sorted), so numpy reads the rows only a few times.

It does not leave every pixel as it was, and cannot: Agg fills a stroke's outline by summing
winding numbers over each pixel and clamping at full coverage. A staircase whose steps are much
shorter than the line is wide has an outline that folds back at every inner corner, so the
pixels along a dense curve's edge are covered many times over, and how many depends on how
many steps there are: a dense curve's edge pixels are inked solid where a sparser drawing of the
same shape is anti-aliased. Only those edge pixels change (and a dash's end, which moves within
its cell). Censor ticks drawn over a dense curve hide most of it: the report's Kaplan-Meier
figures of up to a million rows come out byte-identical, or within a few pixels.
``MIN_VERTICES`` keeps every curve of a few thousand rows (the demo, a department's studies)
exactly as it was. tests/test_raster_thinning.py states the bound and checks it at 300 and 600
dpi on report figures and on generated staircases, with a negative control.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rtoutcomes.report.step_curves import Staircase, put_back

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

CELLS_PER_INCH = 2400
"""Cells per inch, in each direction: a run of steps is merged only while its times and values
stay inside one cell, 1/8 pixel at 300 dpi and 1/4 pixel at 600 (the line is twice as many
pixels wide there: the same cell on paper keeps the same bound, tested at both)."""

SUBSTEPS = 4
"""A run of steps inside one cell is drawn as at most this many steps (fewer keep less of the
over-inking of a dense curve's edge, see above: 2 breaks the tested bound)."""

MIN_VERTICES = 8192
"""Curves with fewer vertices (about 4,000 distinct times) are drawn as they are."""

Thinned = tuple[Any, "Callable[[], None]"]
"""A thinned artist (a curve's line, a band's polygon) and what puts it back as it was."""


def thin_for_raster(fig: Figure, dpi: int) -> list[Thinned]:
    """Thin every step curve and confidence band of ``fig`` with at least ``MIN_VERTICES``
    vertices for a raster at ``dpi``; returns what ``restore`` needs to put each back."""
    import numpy as np

    thinned: list[Thinned] = []
    original = fig.dpi
    fig.set_dpi(dpi)
    try:
        for ax in fig.axes:
            for line in ax.get_lines():
                if line.get_linestyle() in ("None", "none", "", " "):
                    continue  # markers only (censor ticks): no line to stroke
                x, y = (np.asarray(v, dtype=float) for v in line.get_data())
                if x.shape[0] < MIN_VERTICES:
                    continue
                known = None
                if isinstance(line, Staircase) and line.as_made():
                    # the curve's own sorted steps: no pass over its vertices
                    if not line.sorted:
                        continue
                    known = (line.times, line.key)
                elif not is_staircase(x, y):
                    continue
                to_pixels = _separable(line)
                if to_pixels is None:
                    continue
                cells = CELLS_PER_INCH / dpi  # per pixel
                new_x, new_y = staircase_cells(x, y, to_pixels, cells, SUBSTEPS, known=known)
                if new_x.shape[0] < x.shape[0]:
                    thinned.append((line, _undo_line(line)))
                    line.set_data(new_x, new_y)
                    # matplotlib snaps a rectilinear path of up to 1,024 vertices to the
                    # pixel grid; the full curve was never snapped, neither is its thinning
                    line.set_snap(False)
    finally:
        fig.set_dpi(original)
    return thinned + thin_bands(fig, dpi)


def thin_bands(fig: Figure, dpi: int) -> list[Thinned]:
    """Thin every confidence band of ``fig`` with at least ``MIN_VERTICES`` vertices as for a
    raster at ``dpi`` (``render`` thins them so for SVG and PDF too, at 300 dpi: a band of a
    million rows is otherwise four million vertices, 99 MB of SVG)."""
    thinned: list[Thinned] = []
    original = fig.dpi
    fig.set_dpi(dpi)
    try:
        for ax in fig.axes:
            for collection in ax.collections:
                band = _thin_band(collection, dpi)
                if band is not None:
                    thinned.append(band)
    finally:
        fig.set_dpi(original)
    return thinned


def _undo_line(line: Line2D) -> Callable[[], None]:
    data, snap = line.get_data(), line.get_snap()

    def undo() -> None:
        put_back(line, data)
        line.set_snap(snap)

    return undo


def _thin_band(collection: Any, dpi: int) -> Thinned | None:
    """A confidence band (``fill_between(..., step="post")``: one polygon from the start along
    the lower staircase to the end and back along the upper one) with both staircases thinned
    as a curve's are; None if ``collection`` is no such band or is small."""
    import numpy as np
    from matplotlib.collections import PolyCollection  # fill_between's (a subclass from 3.10)

    if not isinstance(collection, PolyCollection):
        return None
    paths = collection.get_paths()
    if len(paths) != 1 or len(paths[0]) < MIN_VERTICES:
        return None
    vertices: Any = np.asarray(paths[0].vertices)
    n = (vertices.shape[0] - 3) // 2  # start, n lower, end, n upper (reversed), closing point
    if not (
        2 * n + 3 == vertices.shape[0]
        and np.array_equal(vertices[0], vertices[2 * n + 1])  # start: the upper's first point
        and np.array_equal(vertices[n + 1], vertices[n + 2])  # end: the upper's last point
    ):
        return None
    to_pixels = _separable(collection)
    if to_pixels is None:
        return None
    chains = []
    for chain in (vertices[1 : n + 1], vertices[n + 2 : 2 * n + 2][::-1]):
        x, y = chain[:, 0], chain[:, 1]
        if not is_staircase(x, y):
            return None
        chains.append(
            np.column_stack(staircase_cells(x, y, to_pixels, CELLS_PER_INCH / dpi, SUBSTEPS))
        )
    lower, upper = chains
    collection.set_verts(
        [np.concatenate((vertices[:1], lower, vertices[n + 1 : n + 2], upper[::-1]))], closed=True
    )

    def undo() -> None:  # its own paths back (set_verts would copy them)
        collection._paths = paths  # type: ignore[attr-defined]
        collection.stale = True

    return (collection, undo)


def restore(thinned: list[Thinned]) -> None:
    """Put back each artist as ``thin_for_raster`` found it."""
    for _, undo in thinned:
        undo()


def is_staircase(x: Any, y: Any) -> bool:
    """Whether (x, y) are a step curve's vertices as ``step_curves.steps`` makes them: from the
    start, horizontal then vertical segments (and perhaps a last horizontal one to the
    follow-up's end), monotone in y."""
    import numpy as np

    core = x.shape[0] if x.shape[0] % 2 == 1 else x.shape[0] - 1
    if core < 5:
        return False
    steps = np.diff(y[:core:2])
    return bool(
        np.array_equal(x[1:core:2], x[2:core:2])
        and np.array_equal(y[1:core:2], y[0 : core - 1 : 2])
        and (np.all(steps <= 0) or np.all(steps >= 0))
    )


def display_xy(line: Line2D, x: Any, y: Any) -> tuple[Any, Any]:
    """``line``'s points (data units) in display pixels at the figure's dpi, as two arrays:
    by multiply-add per axis where its transform is separable (the same values as the
    transform's affine matrix gives: its cross terms are zero), else by the transform."""
    import numpy as np

    to_pixels = _separable(line)
    if to_pixels is None:
        display = line.get_transform().transform(np.column_stack((x, y)))
        return display[:, 0], display[:, 1]
    a, b, c, d = to_pixels
    return x * a + b, y * c + d


def _separable(line: Any) -> tuple[float, float, float, float] | None:
    """(a, b, c, d) with pixel x = a x + b and pixel y = c y + d for ``line``'s data at the
    figure's dpi, or None if its transform is not such (log axes, rotations): not thinned."""
    transform = line.get_transform()
    if not transform.is_affine:
        return None
    matrix = transform.get_affine().get_matrix()
    if matrix[0, 1] != 0 or matrix[1, 0] != 0:
        return None
    return (matrix[0, 0], matrix[0, 2], matrix[1, 1], matrix[1, 2])


def staircase_cells(
    x: Any,
    y: Any,
    to_pixels: tuple[float, float, float, float],
    cells: float,
    substeps: int,
    *,
    known: tuple[Any, Any] | None = None,
) -> tuple[Any, Any]:
    """The staircase (x, y) (data units, as ``step_curves.steps`` makes it: times increasing, values
    monotone; ``to_pixels`` = (a, b, c, d): pixel x = a x + b, pixel y = c y + d) drawn from
    fewer steps: its steps are cut into runs at every 1/``cells`` pixel of time and of value
    (a step whose drop crosses a row of cells is a run of its own, and so is the last step),
    and each run of more than ``substeps`` steps is drawn as ``substeps`` steps: the run cut
    into that many groups of consecutive steps, each group one step at the time of its first
    drop, from the value before the group to the value after it. Runs of ``substeps`` steps or
    fewer are kept as they are, and so is everything after the last step (the flat end to the
    last follow-up). The cuts are found by binary search of the cell edges in the times and
    values (both sorted), so the cost grows with the number of cells, not of steps; returns
    (x, y) unchanged where the curve spans more cells than it has steps. ``known``: the
    times and the values made increasing (``Staircase.times``, ``Staircase.key``) as
    contiguous arrays, known to be sorted, so that no step is read but at the cuts."""
    import numpy as np

    core = x.shape[0] if x.shape[0] % 2 == 1 else x.shape[0] - 1
    # step j: vertex 2j+1 = (t_j, value before), vertex 2j+2 = (t_j, value after)
    times, after = x[1:core:2], y[2:core:2]
    steps = times.shape[0]
    a, b, c, d = to_pixels
    last_value = after[-1]
    sign = 1.0 if last_value >= y[0] else -1.0  # values made increasing: sign * value
    if known is None:
        # contiguous: binary search copies a strided array at every call, and key is
        # searched twice
        key = np.ascontiguousarray(after) if sign > 0 else -after
    else:
        times, key = known
        after = key if sign > 0 else None  # read below only at the groups' last steps
    first_key = sign * y[0]
    width = abs(a) * (times[-1] - times[0]) * cells  # the curve's extent in cells
    height = abs(c) * (key[-1] - first_key) * cells
    if not (
        a > 0
        and c != 0
        and width + height < steps
        and (known is not None or np.all(times[1:] >= times[:-1]))
    ):
        return x, y
    # cell edges: times where a t + b crosses a multiple of 1 / cells, values likewise
    column = np.arange(np.floor((a * times[0] + b) * cells) + 1, (a * times[-1] + b) * cells)
    row_pixels = np.sort(
        sign * ((np.arange(*_span(c * y[0] + d, c * last_value + d, cells)) / cells - d) / c)
    )
    crossing = np.searchsorted(key, row_pixels[row_pixels > first_key], side="left")
    cuts = np.sort(
        np.concatenate(
            (
                [0, steps - 1],
                np.searchsorted(times, (column / cells - b) / a, side="left"),
                crossing,
                crossing + 1,
            )
        )
    )
    start = cuts[(cuts < steps) & np.concatenate((cuts[1:] != cuts[:-1], [True]))]
    count = np.diff(np.append(start, steps))
    drawn = np.minimum(count, substeps)
    run = np.repeat(np.arange(start.shape[0]), drawn)
    k = np.arange(run.shape[0]) - np.repeat(np.cumsum(drawn) - drawn, drawn)
    first = start[run] + (k * count[run]) // drawn[run]
    last = start[run] + ((k + 1) * count[run]) // drawn[run] - 1
    # a group's first drop: the first step past the value before the group
    before_key = np.where(first > 0, key[np.maximum(first - 1, 0)], first_key)
    drop = np.minimum(np.searchsorted(key, before_key, side="right"), last)
    new_times = times[np.where(first == last, first, drop)]
    new_values = after[last] if after is not None else -key[last]
    new_x = np.empty(2 * new_times.shape[0] + 1)
    new_y = np.empty_like(new_x)
    new_x[0], new_y[0] = x[0], y[0]
    new_x[1::2] = new_x[2::2] = new_times
    new_y[2::2] = new_values
    new_y[1::2] = np.concatenate(([y[0]], new_values[:-1]))
    return np.concatenate((new_x, x[core:])), np.concatenate((new_y, y[core:]))


def _span(start: float, end: float, cells: float) -> tuple[float, float]:
    """(first, stop) for ``np.arange``: the multiples of 1 / ``cells`` strictly inside the
    pixel range from ``start`` to ``end`` (either way round), times ``cells``."""
    import math

    low, high = sorted((start * cells, end * cells))
    return math.floor(low) + 1, high
