"""Where the drawn data are, where a legend or label may go, and what a figure gets wrong.

Placement: ``place_clear`` tries anchor positions inside an axes and keeps the first whose box
touches no drawn data (lines densified to ~1 px, markers with their size, bands with their
interior) and no box already placed; when none is clear it adds headroom above the data (the
axis ticks stay at the data's range) and tries again.

Checking: ``layout_problems`` lists text outside the figure (clipped), text overlapping text,
text smaller than the journals' minimum and labels placed on drawn data. Tests run it on every
figure the report draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox, BboxBase

MIN_FONT_PT = 6.0  # journals: >= 6 pt at final size
TUNED_DPI = 100.0  # the sampling steps and the clearance below are pixels at this resolution
# anchor (axes fraction) in order of preference: corners first, then edges, then inside
ANCHORS: tuple[tuple[float, float], ...] = (
    (0.98, 0.98),
    (0.02, 0.02),
    (0.98, 0.02),
    (0.98, 0.5),
    (0.5, 0.02),
    (0.02, 0.98),
    (0.02, 0.5),
    (0.5, 0.98),
    (0.75, 0.98),
    (0.75, 0.02),
    (0.25, 0.02),
    (0.98, 0.75),
    (0.98, 0.25),
    (0.75, 0.75),
    (0.75, 0.5),
    (0.5, 0.5),
    (0.25, 0.5),
    (0.5, 0.25),
    (0.75, 0.25),
    (0.25, 0.25),
)


def alignment(
    x: float, y: float
) -> tuple[Literal["left", "center", "right"], Literal["bottom", "center", "top"]]:
    """(ha, va) that keep a box anchored at (x, y) inside the axes."""
    ha: Literal["left", "center", "right"] = (
        "right" if x > 0.6 else "left" if x < 0.4 else ("center")
    )
    va: Literal["bottom", "center", "top"] = (
        "top" if y > 0.6 else "bottom" if y < 0.4 else ("center")
    )
    return ha, va


def _renderer(fig: Any) -> Any:
    return fig.canvas.get_renderer()


def data_points(ax: Axes, skip: Iterable[Artist] = ()) -> np.ndarray:
    """Display coordinates (px) covering every line, marker and band drawn in ``ax``.

    A dense step curve, band or run of censor ticks (tens of thousands of rows) is read from
    points thinned by binary search (``raster_thinning.for_layout``, ``band_for_layout``),
    read every ``raster_thinning.LAYOUT_PX`` along: within that distance of every point of
    the full curve, so the time does not grow with the rows."""
    import numpy as np
    from matplotlib.collections import PolyCollection

    from rtoutcomes.report import raster_thinning

    skipped = set(map(id, skip))
    fig = ax.figure
    px_per_pt = fig.dpi / 72.0
    scale = fig.dpi / TUNED_DPI  # the same sampling in inches at any resolution
    fine = min(scale, raster_thinning.LAYOUT_PX)
    chunks: list[np.ndarray] = [np.empty((0, 2))]
    for line in ax.lines:
        if id(line) in skipped or not line.get_visible():
            continue
        thinned = raster_thinning.for_layout(line, fig.dpi)
        xy = line.get_transform().transform(line.get_xydata() if thinned is None else thinned)
        finite = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])  # by column: n x 2 reduced
        if not finite.all():  # along its rows is ~10x slower
            xy = xy[finite]
        if line.get_linestyle() not in ("None", "none", " ", "") and len(xy) > 1:
            chunks.append(_densify(xy, scale) if thinned is None else _along(xy, fine))
        if line.get_marker() not in (None, "None", "none", ""):
            half = line.get_markersize() * px_per_pt / 2
            for dx, dy in ((0, 0), (0, half), (0, -half), (half, 0), (-half, 0)):
                chunks.append(xy + np.array([dx, dy]))
    for collection in ax.collections:
        if id(collection) in skipped or not isinstance(collection, PolyCollection):
            continue
        for path in collection.get_paths():
            band = raster_thinning.band_for_layout(collection, path, fig.dpi)
            outline = collection.get_transform().transform(
                path.vertices if band is None else band[0]
            )
            chunks.append(_densify(outline, scale) if band is None else _along(outline, fine))
            inside = raster_thinning.band_inside(collection, path) if band is None else band[1]
            chunks.append(_interior(outline, 3 * scale, inside))
    for patch in ax.patches:
        if id(patch) in skipped:
            continue
        outline = patch.get_transform().transform(patch.get_path().vertices)
        chunks.append(_densify(outline, scale))
        chunks.append(_interior(outline, 3 * scale))
    points = np.concatenate(chunks)
    box = ax.get_window_extent()
    inside = (
        (points[:, 0] >= box.x0 - 1)
        & (points[:, 0] <= box.x1 + 1)
        & (points[:, 1] >= box.y0 - 1)
        & (points[:, 1] <= box.y1 + 1)
    )
    return points[inside]


class PointsRead:
    """``data_points``, read again only when what it reads may differ: a new axes, data
    transform (limits, size, dpi) or set of skipped artists among the data. A legend and then
    a label placed in one panel read the same points (at 1e6 rows, 0.007-0.012 CPU s a read).
    One per placement of a panel's boxes: the curves are not changed in between."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._points: Any = None

    def __call__(self, ax: Axes, skip: Iterable[Artist] = ()) -> np.ndarray:
        skip = list(skip)
        data = {id(a) for a in (*ax.lines, *ax.collections, *ax.patches)}
        key = (
            id(ax),
            ax.transData.get_matrix().tobytes(),
            frozenset(id(a) for a in skip if id(a) in data),
        )
        if key != self._key:
            self._points, self._key = data_points(ax, skip), key
        return self._points


def _densify(xy: np.ndarray, step_px: float = 1.0) -> np.ndarray:
    """Points every ``step_px`` along a polyline (vectorised)."""
    import numpy as np

    starts, ends = xy[:-1], xy[1:]
    lengths = np.hypot(*(ends - starts).T)
    counts = np.maximum(1, np.ceil(lengths / step_px).astype(int))
    index = np.repeat(np.arange(len(starts)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    fraction = (offsets / counts[index])[:, None]
    return np.vstack([starts[index] + fraction * (ends[index] - starts[index]), xy[-1:]])


def _along(xy: np.ndarray, step_px: float) -> np.ndarray:
    """Points every ``step_px`` of length along a polyline, and its last vertex: each point
    of the polyline is within ``step_px / 2`` of one (a thinned dense curve, thousands of
    vertices a pixel apart or less, read by its length, not by its vertices)."""
    import numpy as np

    length = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))))
    at = np.arange(0.0, length[-1], step_px)
    segment = np.clip(np.searchsorted(length, at, side="right") - 1, 0, len(xy) - 2)
    span = length[segment + 1] - length[segment]
    fraction = np.divide(at - length[segment], span, out=np.zeros_like(at), where=span > 0)
    start, end = xy[segment], xy[segment + 1]
    return np.vstack([start + fraction[:, None] * (end - start), xy[-1:]])


def _interior(
    outline: np.ndarray,
    step_px: float = 3.0,
    inside: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Grid points inside a closed outline (filled bands and bars); ``inside``: which are,
    from the grid's columns' x and rows' y (a mask of rows x columns; default: the outline's
    ``contains_points`` of every point)."""
    import numpy as np
    from matplotlib.path import Path

    if len(outline) < 3:
        return np.empty((0, 2))
    # by column (the same values): an n x 2 array reduced along axis 0 is ~10x slower
    lo = np.array([outline[:, 0].min(), outline[:, 1].min()])
    hi = np.array([outline[:, 0].max(), outline[:, 1].max()])
    xs = np.arange(lo[0], hi[0] + step_px, step_px)
    ys = np.arange(lo[1], hi[1] + step_px, step_px)
    if len(xs) * len(ys) > 400_000:
        return np.empty((0, 2))
    if inside is None:
        grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        return grid[Path(outline).contains_points(grid)]
    row, column = np.nonzero(inside(xs, ys))  # row by row, as the grid's points are
    return np.column_stack((xs[column], ys[row]))


def hits(box: Bbox, points: np.ndarray, pad_px: float = 2.0) -> int:
    """How many of ``points`` fall in ``box`` grown by ``pad_px``."""
    import numpy as np

    inside = (
        (points[:, 0] >= box.x0 - pad_px)
        & (points[:, 0] <= box.x1 + pad_px)
        & (points[:, 1] >= box.y0 - pad_px)
        & (points[:, 1] <= box.y1 + pad_px)
    )
    return int(np.count_nonzero(inside))


def place_clear(
    ax: Axes,
    artist: Artist,
    move: Callable[[float, float], None],
    *,
    avoid: Sequence[Bbox] = (),
    anchors: Sequence[tuple[float, float]] = ANCHORS,
    headroom_step: float = 0.08,
    max_headroom: float = 1.0,
    read: Callable[[Axes, Sequence[Artist]], np.ndarray] = data_points,
) -> bool:
    """Move ``artist`` (``move(x, y)`` anchors it in axes fraction) to the first anchor where it
    covers no data of ``ax`` and none of ``avoid``; add headroom above the data while none is.
    Returns whether a clear place was found (else the best one is kept). ``read``: how the
    data's points are read (``data_points``, or a ``PointsRead`` shared by the boxes of one
    panel)."""
    fig = ax.figure
    renderer = _renderer(fig)
    bottom, top = ax.get_ylim()
    pad = 2.0 * fig.dpi / TUNED_DPI  # clearance between the box and the data
    extra = 0.0
    best: tuple[int, float, float] | None = None
    while True:
        points = read(ax, [artist])
        for x, y in anchors:
            move(x, y)
            box = artist.get_window_extent(renderer)
            if not _inside(box, ax.get_window_extent(renderer)):
                continue
            score = hits(box, points, pad) + 10_000 * sum(box.overlaps(b) for b in avoid)
            if score == 0:
                return True
            if best is None or score < best[0]:
                best = (score, x, y)
        if extra >= max_headroom:
            break
        extra += headroom_step
        ax.set_ylim(bottom, top + extra * (top - bottom))
    if best is None:  # wider than the axes at every anchor (a very long label): the first one
        best = (0, *anchors[0])
    move(best[1], best[2])
    return False


def _inside(inner: BboxBase, outer: BboxBase, tol: float = 0.5) -> bool:
    return (
        inner.x0 >= outer.x0 - tol
        and inner.x1 <= outer.x1 + tol
        and inner.y0 >= outer.y0 - tol
        and inner.y1 <= outer.y1 + tol
    )


def texts(fig: Figure) -> list[Any]:
    """Every visible, non-empty text that drawing ``fig`` shows."""
    found: list[Any] = list(fig.texts)
    for legend in fig.legends:
        found += [*legend.get_texts(), legend.get_title()]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        found += list(ax.texts)
        # the left and right titles have no public getter
        found += [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)]
        if ax.axison:
            found += [ax.xaxis.label, ax.yaxis.label]
            for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
                lo, hi = min(lo, hi), max(lo, hi)
                for tick in axis.get_major_ticks():
                    if tick.label1.get_visible() and lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                        found.append(tick.label1)
        ax_legend = ax.get_legend()
        if ax_legend is not None and ax_legend.get_visible():
            found += [*ax_legend.get_texts(), ax_legend.get_title()]
    return [t for t in found if t is not None and t.get_visible() and t.get_text().strip()]


def layout_problems(fig: Figure, *, min_font_pt: float = MIN_FONT_PT) -> list[str]:
    """What a reader would object to: clipped, overlapping or tiny text, labels on the data."""
    renderer = _renderer(fig)
    fig.draw_without_rendering()
    frame = fig.bbox
    problems = []
    shown = texts(fig)
    boxes = [t.get_window_extent(renderer) for t in shown]
    for text, box in zip(shown, boxes, strict=True):
        name = repr(text.get_text()[:40])
        if not _inside(box, frame):
            problems.append(f"clipped text {name}")
        if text.get_fontsize() < min_font_pt - 1e-9:
            problems.append(f"text {name} at {text.get_fontsize():g} pt < {min_font_pt:g} pt")
    for i in range(len(shown)):
        for j in range(i + 1, len(shown)):
            if boxes[i].overlaps(boxes[j]) and boxes[i].width > 0 and boxes[j].width > 0:
                problems.append(
                    f"text {shown[i].get_text()[:30]!r} overlaps {shown[j].get_text()[:30]!r}"
                )
    for ax in fig.axes:
        if not ax.axison or not ax.get_visible():
            continue
        labels: list[Any] = [t for t in ax.texts if t.get_text().strip()]  # not bare arrows
        legend = ax.get_legend()
        if legend is not None:
            labels.append(legend)
        points = data_points(ax, skip=[t for t in labels if hasattr(t, "get_path")])
        for label in labels:
            n = hits(label.get_window_extent(renderer), points, pad_px=0.0)
            if n:
                what = "legend" if label is legend else repr(label.get_text()[:30])
                problems.append(f"{what} covers drawn data ({n} px) in {ax.get_title()!r}")
    return problems
