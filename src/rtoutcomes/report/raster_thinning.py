"""Step curves thinned for the raster (PNG, TIFF) at its own resolution, so that drawing a
figure takes the same time whatever the number of rows.

A Kaplan-Meier or cumulative-incidence curve of a million rows is a staircase of two million
vertices; Agg strokes every one (~0.7 s at 300 dpi). Within a small cell of the raster's pixel
grid those steps draw the same shape as far fewer steps, so ``thin_for_raster`` redraws each run
of steps that stays inside one cell as a few equal steps spanning the run: the same start, end,
total drop and length (so dash patterns keep their phase after the cell). Steps that carry no
drop (censoring times) are dropped first: their vertices lie on a straight segment.

It does not leave the pixels byte-identical, and cannot: Agg fills a stroke's outline with the
non-zero rule by summing the winding number over each pixel and clamping at full coverage. A
staircase whose steps are much shorter than the line is wide has an outline that folds back at
every inner corner (the inner joins), so the pixels along the curve's edge are covered many times
over, and how many depends on how many steps there are. A very dense curve's edge pixels are
inked solid where a sparser one's are anti-aliased. Only those edge pixels differ, and only
where the curve is dense. ``MIN_VERTICES`` keeps every curve of a few thousand rows (the demo,
every study a department draws) exactly as before. tests/test_raster_thinning.py states and
checks the bound on generated curves at 300 and 600 dpi, with a negative control.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

CELLS_PER_PIXEL = 8
"""Cells per pixel, in each direction: a run of steps is merged only while its times and
values stay inside one cell of 1/CELLS_PER_PIXEL pixel."""

SUBSTEPS = 4
"""A merged run of steps is drawn as at most this many equal steps."""

MIN_VERTICES = 8192
"""Curves with fewer vertices (about 4,000 distinct times) are drawn as they are."""

Restore = tuple["Line2D", tuple[Any, Any], Any]


def thin_for_raster(fig: Figure, dpi: int) -> list[Restore]:
    """Thin every step curve of ``fig`` with at least ``MIN_VERTICES`` vertices for a raster
    at ``dpi``; returns what ``restore`` needs to put each line's data back."""
    import numpy as np

    from rtoutcomes.report.figures import CENSOR_MARKS, _is_staircase

    thinned: list[Restore] = []
    original = fig.dpi
    fig.set_dpi(dpi)
    try:
        for ax in fig.axes:
            for line in ax.get_lines():
                if line.get_label() == CENSOR_MARKS:
                    continue
                x, y = (np.asarray(v, dtype=float) for v in line.get_data())
                if x.shape[0] < MIN_VERTICES or not _is_staircase(x, y):
                    continue
                to_pixels = _separable(line)
                if to_pixels is None:
                    continue
                new_x, new_y = staircase_cells(x, y, to_pixels, CELLS_PER_PIXEL, SUBSTEPS)
                if new_x.shape[0] < x.shape[0]:
                    thinned.append((line, line.get_data(), line.get_snap()))
                    line.set_data(new_x, new_y)
                    # matplotlib snaps a rectilinear path of up to 1,024 vertices to the
                    # pixel grid; the full curve was never snapped, neither is its thinning
                    line.set_snap(False)
    finally:
        fig.set_dpi(original)
    return thinned


def restore(thinned: list[Restore]) -> None:
    """Put back each line's data and snapping as ``thin_for_raster`` found them."""
    for line, data, snap in thinned:
        line.set_data(*data)
        line.set_snap(snap)


def _separable(line: Line2D) -> tuple[float, float, float, float] | None:
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
    x: Any, y: Any, to_pixels: tuple[float, float, float, float], cells: float, substeps: int
) -> tuple[Any, Any]:
    """The staircase (x, y) (data units; ``to_pixels`` = (a, b, c, d): pixel x = a x + b,
    pixel y = c y + d) with each run of
    consecutive steps inside one cell of 1/``cells`` pixel drawn as at most ``substeps`` equal
    steps from the run's first time to its last, from the value before the run to the value
    after it. Runs of ``substeps`` steps or fewer are kept as they are, and so is everything
    after the last step (the flat end to the last follow-up)."""
    import numpy as np

    core = x.shape[0] if x.shape[0] % 2 == 1 else x.shape[0] - 1
    # step j: vertex 2j+1 = (t_j, value before), vertex 2j+2 = (t_j, value after)
    times, before, after = x[1:core:2], y[1:core:2], y[2:core:2]
    drops = after != before
    drops[-1:] = True  # the last step ends the curve (or its flat end starts there)
    times, before, after = times[drops], before[drops], after[drops]
    a, b, c, d = (value * cells for value in to_pixels)
    column = np.floor(times * a + b)
    row_before = np.floor(before * c + d)
    row_after = np.floor(after * c + d)
    same = (
        (column[1:] == column[:-1])
        & (row_before[1:] == row_after[:-1])
        & (row_after[1:] == row_after[:-1])
        & (row_before[:-1] == row_after[:-1])
    )
    start = np.flatnonzero(np.concatenate(([True], ~same)))
    count = np.diff(np.append(start, times.shape[0]))
    drawn = np.minimum(count, substeps)
    # a run of c steps drawn as r: group k of its steps, from step floor(k c / r) to the step
    # before floor((k + 1) c / r), is one step at its first time to the value after its last
    run = np.repeat(np.arange(start.shape[0]), drawn)
    k = np.arange(run.shape[0]) - np.repeat(np.cumsum(drawn) - drawn, drawn)
    first = start[run] + (k * count[run]) // drawn[run]
    last = start[run] + ((k + 1) * count[run]) // drawn[run] - 1
    new_times, new_values = times[first], after[last]
    new_x = np.empty(2 * new_times.shape[0] + 1)
    new_y = np.empty_like(new_x)
    new_x[0], new_y[0] = x[0], y[0]
    new_x[1::2] = new_x[2::2] = new_times
    new_y[2::2] = new_values
    new_y[1::2] = np.concatenate(([y[0]], new_values[:-1]))
    return np.concatenate((new_x, x[core:])), np.concatenate((new_y, y[core:]))
