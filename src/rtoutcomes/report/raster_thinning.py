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
same shape is anti-aliased. Only those edge pixels change. Censor ticks drawn over a dense curve
hide most of it: the report's Kaplan-Meier figures of up to a million rows come out
byte-identical, or within a few pixels. ``MIN_VERTICES`` keeps every curve of a few thousand
rows (the demo, a department's studies) exactly as it was. tests/test_raster_thinning.py states
the bound and checks it at 300 and 600 dpi on report figures and on generated staircases in
each group's line style, with negative controls.

A dashed curve (the second group's style and on) is not left to Agg to dash once thinned: a
dash's butt end is square to the segment it ends on, which in a dense staircase is a tiny
horizontal or vertical step, either at random, and a thinned staircase puts other steps there.
So the thinning keeps, as they are, the steps each dash starts and ends on (``dash_steps``:
where along the curve Agg's dash generator cuts it, ``dash_ends``, found by binary search), and
the raster draws the curve solid as those dashes (``dashed``: the very pixels Agg draws of a
dashed path, tested), with the dashes' caps and joins; curves of short dashes (dots) take more
steps a cell (``SHORT_DASH``). Gaps are not drawn at all.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from rtoutcomes.report.step_curves import (
    BandPath,
    CensorTicks,
    Staircase,
    Stairs,
    edge_stairs,
    put_back,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

CELLS_PER_INCH = 2400
"""Cells per inch, in each direction: a run of steps is merged only while its times and values
stay inside one cell, 1/8 pixel at 300 dpi and 1/4 pixel at 600 (the line is twice as many
pixels wide there: the same cell on paper keeps the same bound, tested at both)."""

SUBSTEPS = 3
"""A run of steps inside one cell is drawn as at most this many steps (fewer keep less of the
over-inking of a dense curve's edge, see above). 3 keeps the tested bound with a margin: over
360 generated staircases a line style from six seeds (tests/test_raster_thinning.py), a solid
curve at worst 0.70 changed pixels per pixel of its length (bound 1.5) and 3.8 % of its ink
(bound 10 %), 0.8-1.1 % on average (bound 2 %); every style at worst 0.85 and 6.1 %, at most
1.6 % on average. Before dashed curves were drawn as their dashes, over solid and dashed
curves together: 4 drew a third more vertices (Agg's stroke costs by the vertex: 0.02 CPU s
of a 3-curve panel at 300 dpi) for 0.89, 5.7 % and 0.8-1.3 % against 3's 1.09, 6.9 % and
1.0-1.6 %; 2 came to within 0.2 % of the mean's bound."""

BAND_SUBSTEPS = 1
"""The same for a confidence band's edges: one step per run. A band is filled (12 % grey), not
stroked, so no edge is over-inked (tests/test_raster_thinning.py bounds the change at
``BAND_LEVELS``). Four steps per run drew three times the vertices for no visible change."""

BAND_CELLS_PER_PX = 2
"""Cells a pixel of a confidence band's edges, at the raster's own dpi: 1/2 pixel (1/600 inch
at 300 dpi, also for the layout and the vector files; 1/1200 at 600, so the 600 dpi TIFF
thins its bands anew), where a curve's cells are 1/8 pixel at 300 dpi (``CELLS_PER_INCH``).
A run of steps inside one cell is drawn as one step halfway through the time it drops over
(``step_cells``' ``centred``), not at its first drop: the fill it moves is about as much on
either side of the step and cancels within the cell, instead of all on one side.

Measured against the bands drawn from every step (only the bands thinned; the worst change
in grey levels, and the pixels changed), as drawn and "bare" (curves and ticks hidden: the
band's own edge everywhere), at 300 / 600 dpi:

- the bound test's two 40,000-row bands (no censoring): as drawn 1 level on 12 / 39 pixels,
  bare 1 level on 126 / 287;
- ``benchmarks/figure_scale``'s three 1e6-row bands (grouped panel, half censored): as drawn,
  no pixel changes (a band of 333,334 rows is narrower than its curve's stroke, and ticks
  cover it); bare, 2 levels on 525 pixels (1 of them 2) / 1,377 (8 of them 2);
- before, in the curves' cells at their first drop: as drawn 1 level on 34 / 171 pixels of
  the test's bands; bare, 1 level on 234 / 898 (the test's), 2 levels on 2,097 / 4 levels
  on 7,321 (the benchmark's);
- these cells with each step at its first drop: bare, 4 levels on 1,452 / 2,560 pixels (the
  test's) and 7 levels on 4,883 / 8 on 9,807 (the benchmark's): the centring is what keeps
  the bound with cells this coarse.

Vertices of the benchmark's three bands at 1e6 rows: 13,137 / 11,827 / 10,745 at 300 dpi and
26,129 / 23,575 / 21,419 at 600, against 51,785 / 46,893 / 42,613 before; Agg fills them (and
matplotlib reads their extents) by the vertex: the 300 dpi PNG's bands cost 0.012-0.014 CPU
s instead of 0.032-0.037. Also measured: cells of 1/1200 inch at both dpi (1/4 px at 300, the 600
dpi TIFF reusing the 300 dpi thinning): bare, 1 level on 64 / 296 pixels at 300 dpi, the
same as these at 600, for 0.019 s; of 1/600 inch at both (a whole pixel at 600): 2 levels
on 1,757 and 4 levels on 7,181 bare pixels at 600 dpi, as a whole-pixel cell is not one of
Agg's pixels and the fill it moves crosses into the next (cells of 1/300 inch: 14-16
levels)."""

SHORT_DASH = 3.0
"""Dashes shorter than this many line widths on average (dots, one width; the fifth group's
dashes, 2.5; the sixth group's dash and two dots, 2.7) are mostly their ends, where the
over-inking of a dense curve's edge and the butt cap meet: such a curve is thinned to twice
``SUBSTEPS`` steps a cell (``dash_substeps``). Over the generated staircases of six seeds
(tests/test_raster_thinning.py, the report's curve style), a dotted curve moves 1.7-2.4 % of
its ink on average at ``SUBSTEPS`` steps a cell (bound 2 %), 0.9-1.4 % at twice as many
(6.0 % at worst). The second and fourth groups' dashes (4 widths; a dash and a dot, 3) keep it
at ``SUBSTEPS``: 1.1-1.5 % and 1.2-1.6 % (6.1 % at worst); the fifth and sixth groups' at
twice as many, 0.6-1.0 % (6.1 % and 4.7 %)."""

MIN_VERTICES = 8192
"""Curves with fewer vertices (about 4,000 distinct times) are drawn as they are."""

LAYOUT_PX = 0.5
"""``figure_layout.data_points`` (where a legend or label may go) reads a dense curve, band
or run of censor ticks from thinned points (``for_layout``, ``band_for_layout``): every point
it reads from the full curve is within this many pixels (at the figure's dpi, in x and in y)
of a thinned point, and every thinned point within it of the full curve, so a label's
clearance from the data (2 px at 100 dpi, 6 at 300) shrinks by at most this much
(tests/test_layout_thinning.py)."""

Thinned = tuple[Any, "Callable[[], None]"]
"""A thinned artist (a curve's line, a band's polygon) and what puts it back as it was."""


def thin_for_raster(fig: Figure, dpi: int) -> list[Thinned]:
    """Thin every step curve and confidence band of ``fig`` with at least ``MIN_VERTICES``
    vertices for a raster at ``dpi``; returns what ``restore`` needs to put each back."""
    thinned: list[Thinned] = []
    original = fig.dpi
    fig.set_dpi(dpi)
    try:
        for ax in fig.axes:
            for line in ax.get_lines():
                undo = thin_line(line, dpi)
                if undo is not None:
                    thinned.append((line, undo))
    finally:
        fig.set_dpi(original)
    return thinned + thin_bands(fig, dpi)


def thin_line(line: Line2D, dpi: int) -> Callable[[], None] | None:
    """Thin ``line`` (its figure at ``dpi``) for the raster if it is a step curve of at least
    ``MIN_VERTICES`` vertices; returns what puts it back, or None (left as it is). A dashed
    curve is drawn solid as the dashes Agg would cut from the full curve (``dashed``), from
    more steps a cell (``dash_substeps``); if its pattern cannot be read, or Agg would not
    dash it from its first vertex, it is left in full."""
    import numpy as np

    if line.get_linestyle() in ("None", "none", "", " "):
        return None  # markers only (censor ticks): no line to stroke
    if line.get_drawstyle() != "default" or line.get_marker() not in ("None", "none", "", " "):
        return None  # drawn from other vertices than its own, or marks each vertex
    x, y = (np.asarray(v, dtype=float) for v in line.get_data())
    if x.shape[0] < MIN_VERTICES:
        return None
    known = None
    if isinstance(line, Staircase) and line.as_made():
        # the curve's own sorted steps: no pass over its vertices
        if not line.sorted:
            return None
        known = (line.times, line.key)
    elif not is_staircase(x, y):
        return None
    to_pixels = _separable(line)
    if to_pixels is None:
        return None
    dashes = _raster_pattern(line, x, y, to_pixels, dpi)
    if line.is_dashed() and (dashes is None or not _dashed_from_start(line, x, y)):
        return None  # its dashes could not be placed where Agg places them: in full
    new_x, new_y = _raster_steps(line, x, y, to_pixels, dpi, known, dashes)
    if new_x.shape[0] >= x.shape[0]:
        return None
    undo = _undo_line(line, dashes is not None)
    if dashes is not None:
        # the dashes as Agg would cut them, each ending on the full curve's segment, stroked
        # solid with the dashes' caps and joins
        new_x, new_y = _raster_dashes(line, new_x, new_y, to_pixels, dpi, dashes)
        cap, join = line.get_dash_capstyle(), line.get_dash_joinstyle()
        line.set_linestyle("-")
        line.set_solid_capstyle(cap)
        line.set_solid_joinstyle(join)
    line.set_data(new_x, new_y)
    # matplotlib snaps a rectilinear path of up to 1,024 vertices to the pixel grid; the
    # full curve was never snapped, neither is its thinning
    line.set_snap(False)
    return undo


def _raster_steps(
    line: Line2D,
    x: Any,
    y: Any,
    to_pixels: tuple[float, float, float, float],
    dpi: float,
    known: tuple[Any, Any] | None,
    dashes: tuple[float, Any] | None,
) -> tuple[Any, Any]:
    """The staircase (x, y) of ``line`` thinned for a raster at ``dpi`` (``SUBSTEPS`` steps a
    cell; a dashed curve, ``dashes`` its ``_raster_pattern``, with the steps its dashes start
    and end on kept, and twice the steps if they are short: ``dash_substeps``); for a curve's
    own steps (``known``: a ``Staircase``'s times and key) kept on the line (``_kept``): every
    file at these pixels, and the layout (``for_layout``), read the same thinning."""
    cells = CELLS_PER_INCH / dpi
    width = line.get_linewidth() * dpi / 72.0
    substeps = SUBSTEPS if dashes is None else dash_substeps(dashes[1], width)
    make = partial(staircase_cells, x, y, to_pixels, cells, substeps, known=known, dashes=dashes)
    if known is None:
        return make()
    pattern = None if dashes is None else _pattern_in_cells(dashes, dpi)
    key = ("raster", _cells_key(to_pixels, dpi), substeps, pattern)
    return _kept(line, key, (x, y, *known), make)


def _raster_pattern(
    line: Line2D, x: Any, y: Any, to_pixels: tuple[float, float, float, float], dpi: float
) -> tuple[float, Any] | None:
    """``dash_pattern`` of ``line`` (vertices x, y) where a raster at ``dpi`` can draw it as
    its dashes: None if it is solid, its pattern cannot be read, or it has more dash ends
    than half its vertices (dashes finer than its steps: nothing to gain, and the ends'
    arrays would grow with the pattern's fineness)."""
    dashes = dash_pattern(line, dpi)
    if dashes is None:
        return None
    length = _arc_px(x[-1:], y[-1:], x[0], y[0], to_pixels)[0]
    if length / dashes[1].sum() * dashes[1].shape[0] > x.shape[0] / 2:
        return None
    return dashes


def _raster_dashes(
    line: Line2D,
    x: Any,
    y: Any,
    to_pixels: tuple[float, float, float, float],
    dpi: float,
    dashes: tuple[float, Any],
) -> tuple[Any, Any]:
    """``dashed`` of ``line``'s thinning (x, y) for a raster at ``dpi``, kept on the line
    (``_kept``) while the thinning is the same arrays: the same in data units at 300 and 600
    dpi (pixels and pattern both twice as many, exactly), so the TIFF reuses the PNG's."""
    key = ("dashes", _cells_key(to_pixels, dpi), _pattern_in_cells(dashes, dpi))
    return _kept(line, key, (x, y), partial(dashed, x, y, to_pixels, dashes))


def _pattern_in_cells(dashes: tuple[float, Any], dpi: float) -> tuple[float, tuple[float, ...]]:
    """A dash pattern (offset, on-off lengths; pixels at ``dpi``) in cells, for a key of
    ``_kept``: the same at 300 and 600 dpi, as the pixels in cells are (``_cells_key``)."""
    cells = CELLS_PER_INCH / dpi
    return dashes[0] * cells, tuple(dashes[1] * cells)


def dash_substeps(lengths: Any, width: float) -> int:
    """The steps a cell of a curve dashed with on-off ``lengths`` drawn ``width`` wide (both
    in pixels): ``SUBSTEPS``, twice as many where its dashes are shorter than ``SHORT_DASH``
    line widths on average (see there)."""
    dashes = lengths[0::2]
    mean = float(dashes.sum()) / dashes.shape[0]
    return 2 * SUBSTEPS if mean < SHORT_DASH * width else SUBSTEPS


def _dashed_from_start(line: Line2D, x: Any, y: Any) -> bool:
    """Whether Agg dashes ``line`` from its first vertex, as ``dashed`` does: matplotlib
    draws a long line from the vertex before its axes' left edge (``Line2D.draw``), and
    clips a path to the canvas, starting its dash pattern anew where it comes in."""
    axes = line.axes
    if axes is not None and x[0] < min(axes.get_xbound()):
        return False
    a, b = line.get_transform().transform((x[0], y[0]))
    width, height = line.figure.bbox.size if line.figure is not None else (0.0, 0.0)
    return bool(0 <= a <= width and 0 <= b <= height)


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


def _undo_line(line: Line2D, restyled: bool) -> Callable[[], None]:
    """What puts back ``line``'s data and snapping, and if ``restyled`` (a dashed curve drawn
    solid as its dashes, ``dashed``) its styles, by matplotlib's own copy of a line's
    properties."""
    from matplotlib.lines import Line2D

    data, snap = line.get_data(), line.get_snap()
    styles = None
    if restyled:
        styles = Line2D([], [])
        styles.update_from(line)

    def undo() -> None:
        put_back(line, data)
        if styles is not None:
            line.update_from(styles)
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
    if isinstance(paths[0], BandPath) and not paths[0].made:
        return _thin_band_path(collection, paths, dpi)
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
        # post steps (x0, x1, x1, x2, ...; v0, v0, v1, v1, ...) through its points
        xs, values = x[0::2], y[0::2]
        if not (np.array_equal(x[1::2], x[2::2]) and np.array_equal(y[1::2], y[0:-1:2])):
            return None
        stairs = edge_stairs(xs, values) if xs.shape[0] > 2 else None
        if stairs is None:
            return None
        sorted_ = bool(np.all(xs[1:] >= xs[:-1]))
        edge = band_edge(xs, values, stairs, to_pixels) if sorted_ else None
        chains.append(np.column_stack((x, y) if edge is None else edge))
    lower, upper = chains
    polygon = np.concatenate((vertices[:1], lower, vertices[n + 1 : n + 2], upper[::-1]))
    return _drawn_thinned(collection, paths, polygon)


def _thin_band_path(collection: Any, paths: Sequence[Any], dpi: int) -> Thinned | None:
    """``_thin_band`` for a ``BandPath`` not yet made: its staircases thinned from its points
    (the same vertices as from its polygon), without making the polygon; found once for the
    layout and the files at one dpi and transform (``_kept``)."""
    to_pixels = _separable(collection)
    band = paths[0]
    polygon = _kept(
        band, _band_key(to_pixels, dpi), band.points, lambda: band_polygon(collection, band, dpi)
    )
    if polygon is None:
        return None
    return _drawn_thinned(collection, paths, polygon)


def _drawn_thinned(collection: Any, paths: Sequence[Any], polygon: Any) -> Thinned:
    """``collection`` (a band of ``paths``) drawn from ``polygon`` (its thinning) until put
    back, and not snapped: Agg snaps a path of horizontal and vertical segments to the pixel
    grid when it has at most 1,024 vertices, which moves a filled edge by up to half a pixel
    (a small dense band thinned to 525-617 vertices: 25-27 grey levels,
    tests/test_raster_thinning.py);
    the full band (at least ``MIN_VERTICES``) never is."""
    snap = collection.get_snap()
    collection.set_verts([polygon], closed=True)
    collection.set_snap(False)

    def undo() -> None:  # its own paths back (set_verts would copy them)
        collection._paths = paths
        collection.set_snap(snap)
        collection.stale = True

    return (collection, undo)


def band_polygon(collection: Any, band: BandPath, dpi: float) -> Any | None:
    """The polygon (data units) of the ``BandPath`` ``band`` of ``collection`` with both
    edges thinned for ``dpi`` (``band_edge``), from its points; None where its transform is
    not separable or an edge turns too often (``step_curves.edge_stairs``: not thinned)."""
    import numpy as np

    to_pixels = _separable(collection)
    if to_pixels is None:
        return None
    xs = band.points[0]
    chains = []
    for upper in (False, True):
        stairs = band.stairs(upper)
        if stairs is None:
            return None
        values = band.points[2 if upper else 1]
        edge = band_edge(xs, values, stairs, to_pixels) if band.times_sorted else None
        chains.append(np.column_stack(_post_steps(xs, values) if edge is None else edge))
    lower, upper_chain = chains
    hi = band.points[2]
    ends = np.array([[xs[0], hi[0]], [xs[-1], hi[-1]]])
    return np.concatenate((ends[:1], lower, ends[1:], upper_chain[::-1]))


def band_edge(
    xs: Any, values: Any, stairs: list[Stairs], to_pixels: tuple[float, float, float, float]
) -> tuple[Any, Any]:
    """A band's edge through (``xs``, ``values``) (post steps; times ascending) thinned in
    cells of 1/``BAND_CELLS_PER_PX`` pixel, ``BAND_SUBSTEPS`` step a run halfway through its
    drop (``step_cells``), each monotone piece (``stairs``: ``step_curves.edge_stairs``) on
    its own, from every step where it spans more cells than it has steps; the vertices."""
    import numpy as np

    xs_out: list[Any] = []
    ys_out: list[Any] = []
    for first, times, key, sign in stairs:
        thinned = step_cells(
            xs[first],
            values[first],
            times,
            key,
            sign,
            to_pixels,
            BAND_CELLS_PER_PX,
            BAND_SUBSTEPS,
            centred=True,
        )
        if thinned is None:
            stop = first + times.shape[0] + 1
            thinned = _post_steps(xs[first:stop], values[first:stop])
        skip = 1 if xs_out else 0  # a piece starts at the point the last one ended on
        xs_out.append(thinned[0][skip:])
        ys_out.append(thinned[1][skip:])
    if len(xs_out) == 1:
        return xs_out[0], ys_out[0]
    return np.concatenate(xs_out), np.concatenate(ys_out)


def _post_steps(xs: Any, values: Any) -> tuple[Any, Any]:
    """The staircase through (``xs``, ``values``) as ``fill_between(step="post")`` draws an
    edge: x0, x1, x1, x2, ...; v0, v0, v1, v1, ..."""
    import numpy as np

    x = np.empty(2 * xs.shape[0] - 1)
    y = np.empty_like(x)
    x[0::2], x[1::2] = xs, xs[1:]
    y[0::2], y[1::2] = values, values[:-1]
    return x, y


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


def stamp_pixels(line: Line2D, x: Any, y: Any) -> tuple[Any, Any]:
    """The pixel Agg stamps each marker of ``line`` at, at the figure's dpi: the display
    coordinates + 0.5 rounded down (y counted from the top: add the canvas's height in pixels
    for Agg's row), and whether each is sure (more than ``SURE_PX`` from a pixel edge, so that
    no rounding of the transform can move it; a NaN point is not)."""
    import numpy as np

    across, up = display_xy(line, x, y)
    pixel = np.empty((x.shape[0], 2))
    sure = np.ones(x.shape[0], dtype=bool)
    for axis, shifted in enumerate((across + 0.5, 0.5 - up)):
        np.floor(shifted, out=pixel[:, axis])
        fraction = shifted - pixel[:, axis]
        sure &= (fraction > SURE_PX) & (fraction < 1 - SURE_PX)
    return pixel, sure


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
    dashes: tuple[float, Any] | None = None,
) -> tuple[Any, Any]:
    """The staircase (x, y) (data units, as ``step_curves.steps`` makes it: times increasing,
    values monotone; ``to_pixels`` = (a, b, c, d): pixel x = a x + b, pixel y = c y + d) drawn
    from fewer steps (``step_cells``), and everything after the last step as it is (the flat
    end to the last follow-up); (x, y) unchanged where the curve spans more cells than it has
    steps. ``known``: its times and its values made increasing (``Staircase.times``,
    ``Staircase.key``) as contiguous arrays known to be sorted: no step is read but at the
    cuts. ``dashes``: the dash pattern (offset, on-off lengths; pixels) the curve is drawn
    with: each step on which a dash starts or ends is kept as it is (``dash_steps``), so
    that ``dashed`` ends each dash on the very segment the full curve ends it on."""
    import numpy as np

    core = x.shape[0] if x.shape[0] % 2 == 1 else x.shape[0] - 1
    # step j: vertex 2j+1 = (t_j, value before), vertex 2j+2 = (t_j, value after)
    times, after = x[1:core:2], y[2:core:2]
    sign = 1.0 if after[-1] >= y[0] else -1.0  # values made increasing: sign * value
    if known is None:
        if not np.all(times[1:] >= times[:-1]):
            return x, y
        # contiguous: binary search copies a strided array at every call, and key is
        # searched twice
        key = np.ascontiguousarray(after) if sign > 0 else -after
    else:
        times, key = known
    kept = None
    if dashes is not None:
        total = _arc_px(x[-1:], y[-1:], x[0], y[0], to_pixels)[0]
        kept = dash_steps(x[0], y[0], times, key, sign, to_pixels, dash_ends(total, *dashes)[0])
    thinned = step_cells(x[0], y[0], times, key, sign, to_pixels, cells, substeps, kept)
    if thinned is None:
        return x, y
    new_x, new_y = thinned
    return np.concatenate((new_x, x[core:])), np.concatenate((new_y, y[core:]))


def step_cells(
    x0: float,
    y0: float,
    times: Any,
    key: Any,
    sign: float,
    to_pixels: tuple[float, float, float, float],
    cells: float,
    substeps: int,
    kept: Any = None,
    centred: bool = False,
) -> tuple[Any, Any] | None:
    """The staircase from (``x0``, ``y0``) with a step at each of ``times`` (ascending) to
    each value (``key`` = ``sign`` * value: increasing; ``sign`` 1 if the last value is at
    least ``y0``, else -1)
    drawn from fewer steps: its steps are cut into runs at every 1/``cells`` pixel of time and
    of value (a step whose drop crosses a row of cells is a run of its own, and so are the last
    step and each of ``kept``, step indices), and each run of more than ``substeps`` steps is
    drawn as ``substeps`` steps: the run cut into that many groups of consecutive steps, each
    group one step at the time of its first drop, from the value before the group to the
    value after it; with ``centred`` (a filled band's edge), halfway between that time and
    its last step's (the fill the group moves is then about half on each side of the step
    instead of all on one: see ``BAND_CELLS_PER_PX``). Runs of ``substeps``
    steps or fewer are kept as they are. The cuts are found by binary search of the cell edges
    in the times and values (both sorted), so the cost grows with the number of cells, not of
    steps. Returns the vertices, or None where the curve spans more cells than it has steps
    (or its transform is no such)."""
    import numpy as np

    steps = times.shape[0]
    a, b, c, d = to_pixels
    first_key = sign * y0
    last_value = sign * key[-1]
    width = abs(a) * (times[-1] - times[0]) * cells  # the curve's extent in cells
    height = abs(c) * (key[-1] - first_key) * cells
    if not (a > 0 and c != 0 and width + height < steps):
        return None
    # cell edges: times where a t + b crosses a multiple of 1 / cells, values likewise
    column = np.arange(np.floor((a * times[0] + b) * cells) + 1, (a * times[-1] + b) * cells)
    row_pixels = np.sort(
        sign * ((np.arange(*_span(c * y0 + d, c * last_value + d, cells)) / cells - d) / c)
    )
    crossing = np.searchsorted(key, row_pixels[row_pixels > first_key], side="left")
    cuts = np.sort(
        np.concatenate(
            (
                [0, steps - 1],
                np.searchsorted(times, (column / cells - b) / a, side="left"),
                crossing,
                crossing + 1,
                *(() if kept is None else (kept, kept + 1)),
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
    if centred:  # a filled edge: the group's step halfway through the time it drops over
        new_times = np.where(first == last, new_times, (times[drop] + times[last]) / 2)
    new_values = key[last] if sign > 0 else -key[last]  # exact: a negation undone
    new_x = np.empty(2 * new_times.shape[0] + 1)
    new_y = np.empty_like(new_x)
    new_x[0], new_y[0] = x0, y0
    new_x[1::2] = new_x[2::2] = new_times
    new_y[2::2] = new_values
    new_y[1::2] = np.concatenate(([y0], new_values[:-1]))
    return new_x, new_y


def _span(start: float, end: float, cells: float) -> tuple[float, float]:
    """(first, stop) for ``np.arange``: the multiples of 1 / ``cells`` strictly inside the
    pixel range from ``start`` to ``end`` (either way round), times ``cells``."""
    import math

    low, high = sorted((start * cells, end * cells))
    return math.floor(low) + 1, high


def dash_pattern(line: Line2D, dpi: float) -> tuple[float, Any] | None:
    """A dashed ``line``'s pattern as Agg dashes it at ``dpi``: (offset, on-off lengths), in
    pixels (matplotlib's pattern, scaled by the line width, in points); None if the line is
    solid, or its pattern cannot be read (matplotlib keeps it in a private attribute: read
    with a check, so that a change there leaves the curve drawn in full rather than dashed
    wrongly) or it has a gap colour."""
    import numpy as np

    if not line.is_dashed() or line.get_gapcolor() is not None:
        return None
    pattern = getattr(line, "_dash_pattern", None)
    try:
        offset, lengths = pattern  # type: ignore[misc]
        lengths = np.asarray(lengths, dtype=float) * (dpi / 72.0)
        offset = float(offset) * (dpi / 72.0)
    except (TypeError, ValueError):
        return None
    if lengths.ndim != 1 or lengths.shape[0] % 2 or not np.all(lengths >= 0) or lengths.sum() <= 0:
        return None
    return offset, lengths


def dash_ends(total: float, offset: float, lengths: Any) -> tuple[Any, Any, bool]:
    """Where a path of ``total`` pixels dashed with on-off ``lengths`` (pixels) from
    ``offset`` pixels into the pattern, as Agg's dash generator dashes it, has a dash start
    or end: (distances along the path strictly inside it, ascending; whether each is a dash's
    start; whether the path starts inside a dash)."""
    import math

    import numpy as np

    edges = np.concatenate(([0.0], np.cumsum(lengths)))
    period = float(edges[-1])
    phase = offset % period
    repeats = np.arange(math.ceil((total + phase) / period) + 1)
    ends = (repeats[:, None] * period + edges[None, :-1] - phase).ravel()
    starts = np.tile(np.arange(lengths.shape[0]) % 2 == 0, repeats.shape[0])
    inside = (ends > 0) & (ends < total)
    on = (np.searchsorted(edges, phase, side="right") - 1) % 2 == 0
    return ends[inside], starts[inside], bool(on)


def _arc_px(x: Any, y: Any, x0: float, y0: float, to_pixels: tuple[float, ...]) -> Any:
    """The distance in pixels along a staircase (times increasing, values monotone; pixel
    x = a x + b, a > 0) from its start (``x0``, ``y0``) to each of its vertices (x, y):
    its width plus its height so far, whatever steps it took."""
    import numpy as np

    a, _, c, _ = to_pixels
    return a * (x - x0) + abs(c) * np.abs(y - y0)


def dash_steps(
    x0: float,
    y0: float,
    times: Any,
    key: Any,
    sign: float,
    to_pixels: tuple[float, float, float, float],
    ends: Any,
) -> Any:
    """The steps (indices, as ``step_cells`` reads them) on which a dash starts or ends,
    for dash ends at ``ends`` pixels along the staircase (``dash_ends``): the first step whose
    drop ends at or past each. Found by binary search (the distance to a step's end grows
    with the step), so the rows are not read; ends past the last step are on the flat end,
    drawn as it is."""
    a, _, c, _ = to_pixels
    first_key = sign * y0

    def reached(i: Any, end: Any) -> Any:
        return a * (times[i] - x0) + abs(c) * (key[i] - first_key) >= end

    steps = times.shape[0]
    at = _first_true(reached, steps, ends)
    return at[at < steps]


def dashed(x: Any, y: Any, to_pixels: tuple[float, float, float, float], dashes: Any) -> Any:
    """The staircase (x, y) (data units; pixel x = a x + b, a > 0) cut into the dashes Agg
    would draw of it with ``dashes`` (offset, on-off lengths; pixels): each dash its vertices
    from the point where it starts to the point where it ends, the dashes apart by a NaN
    vertex (matplotlib starts a new subpath after one). Stroked solid with the dash caps and
    joins, it draws what Agg draws of (x, y) dashed; and where (x, y) is a thinning that kept
    the steps each dash starts and ends on (``staircase_cells``' ``dashes``), each dash ends
    on the segment the full curve ends it on, which a dash's butt cap is square to. Returns
    (x, y) of the dashes."""
    import numpy as np

    along = _arc_px(x, y, x[0], y[0], to_pixels)
    ends, starts, on = dash_ends(float(along[-1]), *dashes)
    if ends.shape[0] == 0:  # shorter than the dash or gap it starts in
        return (x, y) if on else (x[:0], y[:0])
    at = np.searchsorted(along, ends, side="left")  # on the segment from vertex at - 1 to at
    share = (ends - along[at - 1]) / (along[at] - along[at - 1])
    # on a horizontal or vertical segment one coordinate is copied, not interpolated
    end_x = np.where(x[at] == x[at - 1], x[at], x[at - 1] + share * (x[at] - x[at - 1]))
    end_y = np.where(y[at] == y[at - 1], y[at], y[at - 1] + share * (y[at] - y[at - 1]))
    # between two ends every vertex is in a dash, or in a gap, as the first end says
    inside = np.repeat(np.concatenate(([on], starts)), np.diff(at, prepend=0, append=x.shape[0]))
    # each end inserted before the vertex it comes before (in their order), the vertices in
    # gaps left out, then a NaN after each dash's end
    keep = np.insert(inside, at, True)
    out_x, out_y = np.insert(x, at, end_x)[keep], np.insert(y, at, end_y)[keep]
    stop_at = (np.cumsum(keep) - 1)[(at + np.arange(at.shape[0]))[~starts]]
    out_x = np.insert(out_x, stop_at + 1, np.nan)
    out_y = np.insert(out_y, stop_at + 1, np.nan)
    return out_x, out_y


def censor_stamps(
    line: Line2D,
    x: Any,
    y: Any,
    stamps: int,
    to_pixels: tuple[float, float, float, float] | None = None,
) -> Any | None:
    """For a ``CensorTicks`` line along its curve (times ascending, values monotone) and a
    separable transform: the indices of the ticks ``figures._cap_censor_runs`` keeps (each run
    of consecutive ticks stamped on one pixel cut to its first ``stamps``; a tick within 1e-6
    px of a pixel edge is a run of its own), found by binary search of the pixel edges in the
    ticks, so that only the ticks at the edges are read. The pixels are computed as
    ``stamp_pixels`` computes them (the same floating-point operations, for the
    ticks read), so the runs are the same. None where this does not apply (the caller reads
    every tick). ``to_pixels``: other pixels (a, b, c, d: x a + b, y c + d) than the line's at
    the figure's dpi."""
    import numpy as np

    if not (isinstance(line, CensorTicks) and line.as_made() and line.sorted):
        return None
    if to_pixels is None:
        to_pixels = _separable(line)
    n = x.shape[0]
    if to_pixels is None or n < 2:
        return None
    a, b, c, d = to_pixels
    axes = (
        lambda i: x[i] * a + b + 0.5,  # the column Agg stamps at, + its fraction
        lambda i: 0.5 - (y[i] * c + d),  # the row, counted from the top
    )
    starts = [np.zeros(1, dtype=np.int64)]
    for shifted in axes:
        ends = shifted(np.array([0, n - 1]))
        if not np.all(np.isfinite(ends)):
            return None
        low, high = np.floor(ends)
        if abs(high - low) + 2 > max(4096, n):
            return None  # more pixel edges than ticks: reading every tick is less work
        starts += _pixel_runs(shifted, n, low, high)
    cut = np.unique(np.concatenate(starts))
    cut = cut[cut < n]
    count = np.diff(np.append(cut, n))
    drawn = np.minimum(count, stamps)
    if drawn.sum() == n:
        return np.arange(n)
    run = np.repeat(np.arange(cut.shape[0]), drawn)
    return cut[run] + np.arange(run.shape[0]) - np.repeat(np.cumsum(drawn) - drawn, drawn)


def raster_stamps(line: Line2D, x: Any, y: Any, stamps: int) -> Any | None:
    """``censor_stamps`` for a raster at the figure's dpi, kept on ``line`` for the next
    raster with the same pixels (``_kept``: a PNG and a TIFF at one dpi drawn apart)."""
    to_pixels = _separable(line)
    if to_pixels is None or not isinstance(line, CensorTicks):
        return censor_stamps(line, x, y, stamps)
    key = ("stamps", to_pixels, stamps)
    return _kept(line, key, (x, y), lambda: censor_stamps(line, x, y, stamps, to_pixels))


SURE_PX = 1e-6  # a stamp this close to a pixel edge may fall on either side of it


def _pixel_runs(shifted: Callable[[Any], Any], n: int, first: float, last: float) -> list[Any]:
    """Where runs of ticks start along one axis: the first tick on each new pixel, and each
    tick within ``SURE_PX`` of a pixel edge and the tick after it; ``shifted(i)``: the ticks'
    pixel coordinates + 0.5 (monotone in i), ``first`` and ``last`` the first and last tick's
    pixel."""
    import numpy as np

    rising = last >= first
    low, high = min(first, last), max(first, last)
    edges = np.arange(low, high + 2)  # pixel edge m: between pixels m - 1 and m
    # at each edge m, three searches: the first tick on pixel m (for a falling axis, on
    # pixel m - 1), and the zone of unsure ticks about edge m, [start, stop); found in one
    # binary search of all three at once (a third of the loop's numpy calls)
    count = edges.shape[0]
    searched = np.concatenate((edges[1:-1], edges, edges))
    kind = np.repeat([0, 1, 2], [count - 2, count, count])
    first_kind, zone_kind = kind == 0, kind == 1

    def found(i: Any, m: Any) -> Any:
        value = shifted(i)
        pixel = np.floor(value)
        fraction = value - pixel
        if rising:
            on = pixel >= m
            start = (pixel > m - 1) | ((pixel == m - 1) & (fraction >= 1 - SURE_PX))
            stop = (pixel > m) | ((pixel == m) & (fraction > SURE_PX))
        else:
            on = pixel <= m - 1
            start = (pixel < m) | ((pixel == m) & (fraction <= SURE_PX))
            stop = (pixel < m - 1) | ((pixel == m - 1) & (fraction < 1 - SURE_PX))
        return np.where(first_kind, on, np.where(zone_kind, start, stop))

    at = _first_true(found, n, searched)
    changes, zone_start, zone_stop = np.split(at, [count - 2, 2 * count - 2])
    length = np.maximum(zone_stop - zone_start, 0)
    unsure = np.repeat(zone_start, length) + (
        np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    )
    return [changes, unsure, unsure + 1]


def _first_true(predicate: Callable[[Any, Any], Any], n: int, edges: Any) -> Any:
    """For each edge, the first index i in [0, n) with ``predicate(i, edge)`` (False then
    True as i grows), n if none: binary search, all edges at once."""
    import numpy as np

    low = np.zeros(edges.shape[0], dtype=np.int64)
    high = np.full(edges.shape[0], n, dtype=np.int64)
    while True:
        active = low < high
        if not active.any():
            return low
        middle = (low + high) // 2
        true = predicate(np.minimum(middle, n - 1), edges) & active
        high = np.where(true, middle, high)
        low = np.where(active & ~true, middle + 1, low)


def for_layout(line: Line2D, dpi: float) -> Any | None:
    """Points (data units, n x 2) ``figure_layout.data_points`` reads for ``line`` in place of
    all its points, or None (it reads them all): a dense step curve (a ``Staircase`` of at
    least ``MIN_VERTICES`` vertices) thinned as for a raster at ``dpi`` (at most ``SUBSTEPS``
    steps per cell of 1/``CELLS_PER_INCH`` inch, 1/8 px at 300 dpi: the very thinning the
    300 dpi PNG then draws, kept on the line), to be read every ``LAYOUT_PX`` along (it is
    then within 3/8 px of every point of the curve); or, of many censor ticks
    (``CensorTicks``, at least half ``MIN_VERTICES``), the first of each run of ticks on one
    square of ``LAYOUT_PX`` pixels (the others are less than ``LAYOUT_PX`` away in x and in
    y). Found by binary search, so the rows are not read, and kept for the next call while
    the line's pixels are the same (the legend's placement, then the label's)."""
    import numpy as np

    to_pixels = _separable(line)
    if to_pixels is None:
        return None
    if isinstance(line, Staircase) and line.as_made() and line.sorted:
        x, y = line.vertices
        if x.shape[0] < MIN_VERTICES:
            return None

        dashes = _raster_pattern(line, x, y, to_pixels, dpi)
        known = (line.times, line.key)
        new_x, new_y = _raster_steps(line, x, y, to_pixels, dpi, known, dashes)
        return None if new_x.shape[0] >= x.shape[0] else np.column_stack((new_x, new_y))
    if (
        isinstance(line, CensorTicks)
        and line.as_made()
        and line.ticks[0].shape[0] >= (MIN_VERTICES // 2)
    ):
        x, y = line.ticks
        a, b, c, d = (v / LAYOUT_PX for v in to_pixels)

        def first_ticks() -> Any:
            # squares edged half a square off, as they were when the layout read the runs
            # of ``censor_stamps`` (a stamp's coordinates + 0.5)
            squares = (a, b + 0.5, c, d + 0.5)
            keep = first_in_squares(x, y, squares) if line.sorted else None
            return None if keep is None else np.column_stack((x[keep], y[keep]))

        return _kept(line, ("ticks", dpi, to_pixels, LAYOUT_PX), (x, y), first_ticks)
    return None


def first_in_squares(x: Any, y: Any, to_squares: tuple[float, float, float, float]) -> Any:
    """Indices of the first of each run of points (``x`` ascending, ``y`` monotone) on one
    square (square column ``floor(a x + b)``, row ``floor(c y + d)``; ``to_squares`` =
    (a, b, c, d), a > 0): the points where either changes, found by binary search of the
    squares' edges in ``x`` and ``y``. A point within rounding of an edge may start a run or
    not: the layout reads each run from its first point, and every point of a run is within a
    square's side of it either way. None where this does not apply (``x`` falling, too few
    points for the edges)."""
    import math

    import numpy as np

    a, b, c, d = to_squares
    n = x.shape[0]
    if n < 2 or not a > 0 or c == 0:
        return None
    first_column, last_column = (math.floor(v * a + b) for v in (x[0], x[-1]))
    first_row, last_row = (math.floor(v * c + d) for v in (y[0], y[-1]))
    if abs(last_column - first_column) + abs(last_row - first_row) + 2 > max(4096, n):
        return None  # more edges than points: reading every point is less work
    # the data value of each edge between squares, then the first point at or past it
    column_edges = (np.arange(first_column + 1, last_column + 1) - b) / a
    low_row, high_row = sorted((first_row, last_row))
    row_edges = (np.arange(low_row + 1, high_row + 1) - d) / c
    rising = y[-1] >= y[0]
    if rising:
        row_cuts = np.searchsorted(y, np.sort(row_edges), side="left")
    else:  # y falling: search its negation (ascending)
        row_cuts = np.searchsorted(-y, np.sort(-row_edges), side="left")
    cuts = np.concatenate(([0], np.searchsorted(x, column_edges, side="left"), row_cuts))
    cuts = np.unique(cuts)
    return cuts[cuts < n]


def band_for_layout(
    collection: Any, path: Any, dpi: float
) -> tuple[Any, Callable[[Any, Any], Any]] | None:
    """For a dense confidence band (a ``BandPath`` not yet made, of at least ``MIN_VERTICES``
    vertices), what ``figure_layout.data_points`` reads in place of its four vertices a row:
    its polygon (data units) with both edges thinned to one step per cell (``band_polygon``),
    read every ``LAYOUT_PX`` along, and which points of a grid (px) lie inside the full band
    (``band_inside``). None otherwise (the polygon is read, made if need be). A band
    whose edges cannot be thinned (one turning too often) or that is already made gives its full
    polygon, still with the binary search: ``contains_points`` of the full polygon costs its
    vertices times the points asked (1.3 s for two of a 3-group panel's bands at 1e5
    rows)."""
    if not (isinstance(path, BandPath) and len(path) >= MIN_VERTICES):
        return None
    inside = band_inside(collection, path)
    if inside is None:
        return None
    polygon = None
    if not path.made:
        key = _band_key(_separable(collection), dpi)  # the files' (300 dpi)
        polygon = _kept(path, key, path.points, lambda: band_polygon(collection, path, dpi))
    if polygon is None:
        polygon = path.vertices
    return polygon, inside


def band_inside(collection: Any, path: Any) -> Callable[[Any, Any], Any] | None:
    """Which points of a grid (display px: its columns' x ``across`` and rows' y ``up``; a
    mask of rows x columns) lie inside the band ``path`` of ``collection`` (a ``BandPath``:
    ``fill_between(..., step="post")``'s polygon of finite points, times ascending), found
    by binary search of each column's time in the band's times (once a column) and a
    comparison with that step's limits: what ``contains_points`` of its polygon answers, at
    any size, but for points on the polygon's boundary (counted inside here; either way
    there). ``contains_points`` costs the polygon's vertices times the points asked: a
    3-group panel with bands of 1,000 rows a group built in 0.12 CPU s with it, 0.02 s
    without (0.23 and 0.03 s at 2,000; each headroom step reads them again). None where
    this does not apply (another path, times not ascending, a transform that is not
    separable): the caller asks ``contains_points``. tests/test_layout_thinning.py checks,
    on small and dense panels, that every point answered otherwise is on the boundary and
    that the labels land as with ``contains_points``."""
    import numpy as np

    if not isinstance(path, BandPath):
        return None
    to_pixels = _separable(collection)
    xs, lo, hi = path.points
    if to_pixels is None or xs.shape[0] < 2 or not (path.times_sorted and xs[0] <= xs[1]):
        return None
    a, b, c, d = to_pixels

    def inside(across: Any, up: Any) -> Any:
        t, v = (across - b) / a, (up - d) / c  # each column's time, each row's value
        step = np.searchsorted(xs, t, side="right") - 1  # post steps: [xs[i], xs[i + 1])
        within = (step >= 0) & (t <= xs[-1])
        step = np.clip(step, 0, xs.shape[0] - 1)
        low, high = lo[step], hi[step]
        return (
            within & (v[:, None] >= np.minimum(low, high)) & (v[:, None] <= np.maximum(low, high))
        )

    return inside


def _band_key(to_pixels: tuple[float, float, float, float] | None, dpi: float) -> Any:
    """``_kept``'s key of a band's polygon thinned for ``dpi`` (``band_polygon``): its pixels in
    band cells (``BAND_CELLS_PER_PX``, ``_cells_key``), shared by the layout and the files at
    one dpi (the 300 dpi PNG, TIFF, SVG and PDF)."""
    return ("band", _cells_key(to_pixels, dpi, BAND_CELLS_PER_PX * dpi), BAND_SUBSTEPS)


def _cells_key(
    to_pixels: tuple[float, float, float, float] | None, dpi: float, per_inch: float | None = None
) -> Any:
    """What a thinning at ``dpi`` of a line with pixels ``to_pixels`` (a, b, c, d) depends on,
    for ``_kept``: the pixels in cells (a, b, c, d times ``per_inch / dpi``; ``per_inch``:
    ``CELLS_PER_INCH`` unless given, a band's ``BAND_CELLS_PER_PX`` times ``dpi``). Where the
    cells a pixel are a power of two (8 at 300 dpi, 4 at 600) and the figure's
    pixels at two resolutions are the same in cells (matplotlib's transform at 600 dpi is
    exactly twice the one at 300), ``step_cells``' arithmetic at the two is the same up to
    exact scalings by powers of two, so the thinned vertices (data units) are the same: the
    600 dpi TIFF reuses the 300 dpi PNG's thinning (tests/test_layout_thinning.py: the same
    bytes as found anew). Any other dpi keys on itself."""
    import math

    per_inch = CELLS_PER_INCH if per_inch is None else per_inch
    cells = per_inch / dpi
    if to_pixels is None or math.frexp(cells)[0] != 0.5:
        return ("dpi", dpi, to_pixels, per_inch)
    return ("cells", *(value * cells for value in to_pixels))


def _kept(
    owner: Any, key: tuple[Any, ...], sources: tuple[Any, ...], make: Callable[[], Any]
) -> Any:
    """``make()``, kept on ``owner`` (a curve's line or a band's path) for the next call with
    the same ``key`` (the line's pixels in cells, ``_cells_key``, and the thinning's
    constants) while it holds the same ``sources`` (the arrays ``make`` reads:
    the very objects, not copies). The last few are kept: a label's headroom changes the
    pixels, and the layout and the PNG, TIFF and vector files at 300 dpi share them."""
    kept: dict[tuple[Any, ...], Any] = owner.__dict__.setdefault("_thinned", {})
    found = kept.get(key)
    if (
        found is None
        or len(found[0]) != len(sources)
        or any(a is not b for a, b in zip(found[0], sources, strict=True))
    ):
        if key not in kept and len(kept) >= 6:
            del kept[next(iter(kept))]
        found = kept[key] = (sources, make())
    return found[1]
