"""Stretches of a dense step curve that censor ticks drawn after it hide, left out of a raster:
the same pixels, less for Agg to stroke.

Where half the rows of a large study are censored, the ticks of one curve stand on nearly
every pixel along it, and each tick's core (the pixels its mark covers whole) is as tall as the
line is wide several times over. Agg sets a pixel that a mark covers whole to the mark's colour,
whatever was under it, and it fills a stroke by summing each edge of the stroke's outline into
the cells the edge crosses. Leaving out a run of a curve's segments changes its outline only
within ``margin_px`` of them (the line's half width: a right-angled miter's point is the
corner of the square of half the width about its vertex, and the caps where the curve is cut
lie inside that square): if every pixel there lies under the core
of a tick drawn after the curve, the raster is the same, byte for byte. At a million rows that
leaves out most of each curve's vertices, the part of the figure whose drawing still grew with
the rows. tests/test_hidden_strokes.py draws report figures and generated curves in every line
style with and without it, at 300 and 600 dpi, and checks that no pixel changes, with negative
controls (a smaller margin, marks' partly covered pixels counted as hidden).

Only what can be checked cheaply is left out: a segment of a rectilinear, monotone curve
(steps), drawn solid (a dashed curve thinned for the raster is drawn solid as its dashes), not
snapped, under the cores of the opaque, unfilled marks (ticks) of one marker line drawn after
it (in the axes' drawing order) along which the marks' pixels are monotone. Everything else is
drawn as it is.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

MIN_SEGMENTS = 2048
"""Curves with fewer segments are drawn as they are: little to gain (a curve of a thousand
rows; the demo's are smaller). Above 1,024 vertices matplotlib does not snap a rectilinear
path to the pixel grid, and its pieces are not snapped either (``_hide_line``)."""

Hidden = tuple[Any, "Callable[[], None]"]
"""A curve with hidden stretches left out, and what puts it back (as ``raster_thinning``)."""


SUBPIXEL_PX = 1.0 / 64.0
"""More than Agg's rounding of a stroke's outline to its 1/256 pixel grid."""


def margin_px(linewidth_px: float) -> float:
    """How far (pixels, in x and in y) from a left-out segment of a staircase a stroke's
    outline can change: its half width. A stroke covers what lies within half its width of the
    segment across it; its joins are right-angled (a miter's point is the corner of the square
    of half the width about the vertex; a bevel or round join, or a cap where the curve is cut,
    lies inside that square too)."""
    return linewidth_px / 2.0 + SUBPIXEL_PX


def hide_covered(
    fig: Figure, dpi: int, margin: Callable[[float], float] = margin_px
) -> list[Hidden]:
    """In each axes of ``fig`` drawn at ``dpi``, leave out of every dense step curve the
    segments that the cores of tick marks drawn after it hide, with every pixel within
    ``margin(line width in pixels)`` of them (see the module's docstring; the tests' negative
    controls pass a smaller one); returns what ``restore`` needs to put each curve back."""
    import numpy as np

    dense = [
        ax
        for ax in fig.axes
        if any(np.shape(line.get_xdata())[0] > MIN_SEGMENTS for line in ax.get_lines())
    ]
    if not dense:
        return []  # no dense curve (the demo's figures): not even the figure's dpi changed
    hidden: list[Hidden] = []
    original = fig.dpi
    fig.set_dpi(dpi)
    try:
        height = int(fig.bbox.height)  # Agg's canvas: display y counted up from its bottom
        for ax in dense:
            hidden.extend(_hide_in_axes(ax, dpi, height, margin))
    finally:
        fig.set_dpi(original)
    return hidden


def restore(hidden: list[Hidden]) -> None:
    """Put back each curve as ``hide_covered`` found it."""
    for _, undo in hidden:
        undo()


def _hide_in_axes(
    ax: Axes, dpi: int, height: int, margin: Callable[[float], float]
) -> list[Hidden]:
    from matplotlib.lines import Line2D

    order = sorted(ax.get_children(), key=lambda artist: artist.get_zorder())  # Axes.draw's
    lines = [(i, a) for i, a in enumerate(order) if isinstance(a, Line2D) and a.get_visible()]
    marks = [(i, cover) for i, line in lines if (cover := _mark_cover(line, dpi, height))]
    hidden: list[Hidden] = []
    for i, line in lines:
        after = [cover for j, cover in marks if j > i]
        if after:
            undo = _hide_line(line, after, margin(line.get_linewidth() * dpi / 72.0), height)
            if undo is not None:
                hidden.append((line, undo))
    return hidden


class MarkCover:
    """The pixels the cores of one marker line's marks cover whole, as one row interval per
    pixel column (``low``..``high``, inclusive; empty where ``low > high``), inside its clip box
    (less a pixel). ``first_column``: the column of ``low[0]``."""

    def __init__(self, first_column: int, low: Any, high: Any) -> None:
        import numpy as np

        self.first_column = first_column
        self.low = low
        self.high = high
        self._max_low = _range_table(low, np.maximum)
        self._min_high = _range_table(high, np.minimum)
        spans = np.arange(1, low.shape[0] + 1)
        self._level = np.floor(np.log2(spans)).astype(np.intp)  # of a span of 1, 2, ... columns

    def covers(self, col0: Any, col1: Any, row0: Any, row1: Any) -> Any:
        """Whether the pixel boxes ``col0..col1`` x ``row0..row1`` (inclusive, int arrays) lie
        whole under the marks' cores."""
        import numpy as np

        start, stop = col0 - self.first_column, col1 - self.first_column
        inside = (start >= 0) & (stop < self.low.shape[0]) & (start <= stop)
        start, stop = np.where(inside, start, 0), np.where(inside, stop, 0)
        # the extremes over start..stop: of the two runs of 2**level columns that cover it
        level = self._level[stop - start]
        first = level * self.low.shape[0]  # the tables' rows, flat
        second = first + stop - (1 << level) + 1
        first += start
        max_low, min_high = self._max_low.ravel(), self._min_high.ravel()
        low = np.maximum(max_low.take(first), max_low.take(second))
        high = np.minimum(min_high.take(first), min_high.take(second))
        return inside & (low <= row0) & (high >= row1)


def _range_table(values: Any, ufunc: Any) -> Any:
    """A sparse table of ``values`` for range maxima (``ufunc`` np.maximum) or minima
    (np.minimum): row k holds at i the extreme of values[i : i + 2**k] (where it fits)."""
    import numpy as np

    count = values.shape[0]
    levels = max(int(count).bit_length(), 1)
    table = np.empty((levels, count), dtype=values.dtype)
    table[0] = values
    width = 1
    for k in range(1, levels):
        ufunc(table[k - 1, : count - width], table[k - 1, width:], out=table[k, : count - width])
        table[k, count - width :] = table[k - 1, count - width :]  # never read
        width *= 2
    return table


def _mark_cover(line: Line2D, dpi: int, height: int) -> MarkCover | None:
    """The ``MarkCover`` of ``line`` if it is a line of opaque, unfilled marks only, clipped
    to its axes, along which the marks' pixels are monotone (columns rising, rows rising or
    falling); else None."""
    import matplotlib as mpl
    import numpy as np
    from matplotlib.colors import to_rgba
    from matplotlib.markers import MarkerStyle

    from rtoutcomes.report.raster_thinning import stamp_pixels

    if line.get_linestyle() not in ("None", "none", "", " ") or line.get_animated():
        return None
    if line.get_marker() in ("None", "none", "", " ", None):
        return None
    if MarkerStyle(line.get_marker(), line.get_fillstyle()).is_filled():
        return None  # a face and an edge: a pixel both cover in part could come out black
    if line.get_path_effects() or line.get_sketch_params() is not None:
        return None
    if line.get_alpha() not in (None, 1) or to_rgba(line.get_markeredgecolor())[3] != 1:
        return None
    if line.get_markevery() is not None or not line.get_clip_on() or line.get_clip_path():
        return None
    clip = line.get_clip_box()
    if clip is None:
        return None
    core = _core(
        str(line.get_marker()),
        float(line.get_markersize()),
        float(line.get_markeredgewidth()),
        str(line.get_fillstyle()),
        bool(line.get_antialiased()),
        line.get_snap(),
        bool(mpl.rcParams["path.snap"]),  # the calibration draws in the caller's settings
        dpi,
    )
    if core is None:
        return None
    x, y = (np.asarray(v, dtype=float) for v in line.get_data())
    pixel, sure = stamp_pixels(line, x, y)
    # a mark within ``SURE_PX`` of a pixel edge may be stamped on either side of it: not
    # counted (nor a NaN); rows as Agg counts them, from the canvas's top
    column = pixel[sure, 0].astype(np.int64)
    row = pixel[sure, 1].astype(np.int64) + height
    if column.shape[0] == 0 or np.any(np.diff(column) < 0):
        return None
    steps = np.diff(row)
    if not (np.all(steps >= 0) or np.all(steps <= 0)):
        return None
    # the clip box as Agg rounds it, less a pixel each side (a margin for that rounding)
    x0, y0, x1, y1 = clip.extents
    left, right = math.floor(x0 + 0.5) + 1, math.floor(x1 + 0.5) - 2
    top, bottom = math.floor(height - y1 + 0.5) + 1, math.floor(height - y0 + 0.5) - 2
    if right < left or bottom < top:
        return None
    return _cover(column, row, core, (left, right, top, bottom))


def _cover(
    column: Any, row: Any, core: tuple[int, int, int, int], clip: tuple[int, int, int, int]
) -> MarkCover:
    """Per pixel column of the clip box ``(left, right, top, bottom)`` (inclusive), the rows
    the cores of marks stamped at pixels (``column``, ``row``) cover without a gap, given
    ``core`` = (first column, last column, first row, last row) of a mark's core relative to
    its pixel."""
    import numpy as np

    left, right, top, bottom = clip
    core_left, core_right, core_top, core_bottom = core
    columns = np.arange(left, right + 1)
    first = np.searchsorted(column, columns - core_right, "left")
    stop = np.searchsorted(column, columns + -core_left, "right")
    some = stop > first
    first_row = row[np.minimum(first, row.shape[0] - 1)]
    last_row = row[np.maximum(stop - 1, 0)]
    # marks along a monotone run: their cores join up unless two neighbours' rows are further
    # apart than a core is tall
    apart = np.abs(np.diff(row)) > core_bottom - core_top + 1
    gaps = np.concatenate(([0], np.cumsum(apart)))
    joined = gaps[np.maximum(stop - 1, 0)] - gaps[np.minimum(first, row.shape[0] - 1)] == 0
    ok = some & joined
    low = np.maximum(np.minimum(first_row, last_row) + core_top, top)
    high = np.minimum(np.maximum(first_row, last_row) + core_bottom, bottom)
    empty = np.iinfo(np.int64).max // 4
    low = np.where(ok, low, empty)
    high = np.where(ok, high, -empty)
    return MarkCover(left, low, high)


@lru_cache(maxsize=64)
def _core(
    marker: str,
    size: float,
    edge_width: float,
    fill: str,
    antialiased: bool,
    snap: bool | None,
    snap_setting: bool,
    dpi: int,
) -> tuple[int, int, int, int] | None:
    """The rectangle of pixels one mark in this style covers whole at ``dpi``, relative to the
    pixel Agg stamps it at (display coordinates + 0.5 rounded down, y from the canvas's top):
    (first column, last column, first row, last row), found by drawing marks at a few
    sub-pixel positions in black on white and on grey and keeping the pixels black on both.
    None if the marks' cores differ or are no rectangle. ``snap_setting``: matplotlib's
    ``path.snap``, in effect for the call (a key of the cache)."""
    import numpy as np

    del snap_setting  # drawn in the caller's settings; only a key
    found = set()
    for fraction in (0.13, 0.5, 0.87):
        style = (marker, size, edge_width, fill, antialiased, snap)
        pixels = [_stamped(style, dpi, fraction, grey) for grey in (1.0, 0.5)]
        whole = (pixels[0] == 0) & (pixels[1] == 0)
        rows, cols = np.nonzero(whole)
        if rows.shape[0] == 0:
            return None
        box = (
            int(cols.min()) - STAMP_AT,
            int(cols.max()) - STAMP_AT,
            int(rows.min()) - STAMP_AT,
            int(rows.max()) - STAMP_AT,
        )
        filled = whole[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        if not filled.all():
            return None
        found.add(box)
    return found.pop() if len(found) == 1 else None


STAMP_AT = 64  # the calibration mark's pixel (column and row) on its canvas of 2 x STAMP_AT


def _stamped(style: tuple[Any, ...], dpi: int, fraction: float, grey: float) -> Any:
    """One black mark in ``style`` (marker, size, edge width, fill style, antialiased, snap)
    drawn by Agg at display (STAMP_AT + fraction - 0.5) in x and y on a
    canvas of ``grey``: the red channel of its pixels."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.transforms import IdentityTransform

    marker, size, edge_width, fill, antialiased, snap = style
    side = 2 * STAMP_AT
    fig = Figure(figsize=(side / dpi, side / dpi), dpi=dpi, facecolor=(grey, grey, grey))
    canvas = FigureCanvasAgg(fig)
    height = int(fig.bbox.height)  # Agg's canvas
    at = STAMP_AT + fraction - 0.5  # + 0.5 rounded down: STAMP_AT in x; from the top, too
    fig.add_artist(
        Line2D(
            [at],
            [height - at],
            transform=IdentityTransform(),
            linestyle="none",
            marker=marker,
            markersize=size,
            markeredgewidth=edge_width,
            fillstyle=fill,
            antialiased=antialiased,
            snap=snap,
            color="black",
        )
    )
    canvas.draw()
    return np.array(canvas.buffer_rgba())[..., 0]


def _hide_line(line: Line2D, covers: list[MarkCover], margin: float, height: int) -> Any:
    """Leave out of ``line`` the segments that ``covers`` hide, with every pixel within
    ``margin``; returns what puts it back, or None if the line is not such a curve or nothing
    is hidden."""
    import numpy as np

    from rtoutcomes.report.raster_thinning import display_xy
    from rtoutcomes.report.step_curves import put_back

    if line.get_linestyle() not in ("-", "solid") or line.get_animated():
        return None  # Agg dashes it: leaving segments out would move its dashes
    if line.get_marker() not in ("None", "none", "", " ", None):
        return None
    if line.get_drawstyle() != "default" or line.get_snap() not in (None, False):
        return None
    if line.get_path_effects() or line.get_sketch_params() is not None:
        return None
    data = line.get_data()
    x, y = (np.asarray(v, dtype=float) for v in data)
    if x.shape[0] <= MIN_SEGMENTS:
        return None
    across, up = display_xy(line, x, y)
    down = height - up  # Agg's pixels: y from the canvas's top
    hidden = hidden_segments(across, down, covers, margin)
    if hidden is None or not hidden.any():
        return None
    snap = line.get_snap()
    line.set_data(*_without(x, y, hidden))
    # the full curve is not snapped (more than 1,024 vertices), neither are its pieces
    line.set_snap(False)

    def undo() -> None:
        put_back(line, data)
        line.set_snap(snap)

    return undo


def hidden_segments(across: Any, down: Any, covers: list[MarkCover], margin: float) -> Any:
    """Which segments of the path through the points (``across``, ``down``: Agg's pixel
    coordinates, NaN between pieces) lie, with every pixel within ``margin`` of them, under
    the cores of one of ``covers`` (in drawing order: the first covers the most); None if the
    path is not a monotone staircase (each segment horizontal or vertical, none going left,
    all going down or all going up: no join turns back on itself)."""
    import numpy as np

    dx, dy = np.diff(across), np.diff(down)  # NaN where a segment is no segment
    if (dx < 0).any() or ((dy < 0).any() and (dy > 0).any()):
        return None
    turn = dx * dy
    if (turn != 0).any() and ((turn > 0).any() or (turn < 0).any()):
        return None  # a slanted segment: a join could be sharper than a right angle
    segment = ~np.isnan(turn)
    # each segment's box, from its vertices' (x never falls; y one way): off the canvas for
    # a NaN vertex, so that no box there is covered
    x = np.nan_to_num(across, nan=-(2.0**40))
    y = np.nan_to_num(down, nan=-(2.0**40))
    left = np.floor(x[:-1] - margin).astype(np.int64)
    right = np.floor(x[1:] + margin).astype(np.int64)
    falling = (dy > 0).any()  # going down the canvas
    first, last = (y[:-1], y[1:]) if falling else (y[1:], y[:-1])
    top = np.floor(first - margin).astype(np.int64)
    bottom = np.floor(last + margin).astype(np.int64)
    hidden = covers[0].covers(left, right, top, bottom)
    for cover in covers[1:]:  # the marks drawn later still, for what the first left
        rest = np.flatnonzero(~hidden)
        if rest.shape[0] == 0:
            break
        hidden[rest] = cover.covers(left[rest], right[rest], top[rest], bottom[rest])
    hidden &= segment
    return hidden


def _without(x: Any, y: Any, hidden: Any) -> tuple[Any, Any]:
    """The path (x, y) without its ``hidden`` segments: the vertices of the segments kept, a
    NaN wherever two kept vertices are not joined by a kept segment."""
    import numpy as np

    kept = np.isfinite(x[:-1]) & np.isfinite(x[1:]) & np.isfinite(y[:-1]) & np.isfinite(y[1:])
    kept &= ~hidden
    vertex = np.zeros(x.shape[0], dtype=bool)
    vertex[:-1] |= kept
    vertex[1:] |= kept
    index = np.flatnonzero(vertex)
    joined = (np.diff(index) == 1) & kept[index[:-1]]
    breaks = np.flatnonzero(~joined) + 1  # a NaN before each of these kept vertices
    new_x = np.insert(x[index], breaks, np.nan)
    new_y = np.insert(y[index], breaks, np.nan)
    return new_x, new_y
