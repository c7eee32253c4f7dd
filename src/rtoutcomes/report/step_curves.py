"""A survival curve's data as the figures draw it: results.json's lists (``Curve.km``) turned
into the step curve's vertices, its censor ticks and its confidence band, and read for the
numbers at risk and the curve's end.

``report.figures`` draws with these and keeps the look (line styles, greys, marker sizes);
this module only says where the vertices are, and builds them with work that grows as little
as it can with the rows (a curve of a million rows is a million-element list per column):

- each list is read as an array once per curve (``CurveArrays``, ``Curve.arrays``), and only
  the lists a figure draws: the in-memory results carry each curve list's array beside it
  (``results.columns.Column``), and a plain list (results read back from results.json) is
  converted, by ``np.fromiter``;
- the numbers at risk are read at the ticks by binary search in the lists themselves;
- the step curve is a ``Staircase`` line: matplotlib keeps its arrays as they are (no copy,
  no data-limit pass over them: the report's axes have fixed limits) and
  ``report.raster_thinning`` thins it from the sorted times and values it carries, without
  checking two million vertices at every raster;
- the confidence band's polygon is built by numpy (``band_polygons``), the vertices
  ``Axes.fill_between(..., step="post")`` makes for the same input, without its masked-array
  passes.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.path import Path

from rtoutcomes.results.columns import Column

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from rtoutcomes.report.figures import Curve


def floats(values: Sequence[float | None]) -> Any:
    """``values`` as a float array, None as NaN: a results ``Column``'s own array (the
    in-memory results carry one beside each curve list: no conversion), else the list
    converted (``from_list``: results read back from results.json have plain lists)."""
    if isinstance(values, Column):
        return values.array.astype(float, copy=False)
    if isinstance(values, np.ndarray):
        return values.astype(float, copy=False)
    return from_list(values)


def from_list(values: Sequence[float | None], ends: tuple[float, float] | None = None) -> Any:
    """A list of floats (None as NaN) as an array, between ``ends`` if given: converted
    element by element in C (``np.fromiter`` reads a million floats in about half
    ``np.asarray``'s time, ~15 ns a value)."""
    items: Any = values if ends is None else itertools.chain((ends[0],), values, (ends[1],))
    try:
        return np.fromiter(items, dtype=float, count=len(values) + (0 if ends is None else 2))
    except (TypeError, ValueError):  # not numbers: numpy's own conversion and its error
        listed = list(values) if ends is None else [ends[0], *values, ends[1]]
        return np.array([np.nan if v is None else v for v in listed], dtype=float)


class CurveArrays:
    """A curve dict's lists (results.json's ``km`` or a cause's ``curve``) as float arrays,
    each converted when first read and then kept."""

    def __init__(self, km: Mapping[str, Any]) -> None:
        self._km = km

    @cached_property
    def time(self) -> Any:
        return floats(self._km["time"])

    @cached_property
    def estimate(self) -> Any:
        return floats(self._km["estimate"])

    @cached_property
    def censored(self) -> Any:
        """Rows with censored observations and an estimate (where the ticks go)."""
        n_censor = self._km["n_censor"]
        counts = n_censor.array if isinstance(n_censor, Column) else floats(n_censor)
        return (counts > 0) & ~np.isnan(self.estimate)

    @cached_property
    def end(self) -> float:
        """The curve's last time: its last row or, if later, its ``end``, >= 0."""
        end = self._km.get("end")
        times = self.time
        last = float(times.max()) if times.shape[0] else 0.0
        return max(last, float(end) if end is not None else 0.0, 0.0)

    @cached_property
    def with_estimate(self) -> tuple[Any, Any]:
        """(time, estimate) of the rows with an estimate."""
        estimate = self.estimate
        keep = ~np.isnan(estimate)
        if keep.all():
            return self.time, estimate
        return self.time[keep], estimate[keep]


def at_risk(curve: Curve, times: Sequence[float]) -> list[int]:
    """Number at risk at each time: rows still followed (time >= t), as R's ``summary``; by
    binary search in the curve's (ascending) times, so no list is converted."""
    source = curve.risk if curve.risk is not None else curve.km
    steps, counts = source["time"], source["n_risk"]
    found = [bisect.bisect_left(steps, float(t)) for t in times]
    return [int(counts[i]) if i < len(counts) else 0 for i in found]


def steps(curve: Curve, start: float) -> tuple[Any, Any]:
    """The step curve's vertices: from (0, ``start``) a horizontal then a vertical segment to
    each estimate (rows without an estimate skipped), then flat to the curve's end."""
    times, values = curve.arrays.with_estimate
    n = times.shape[0]
    end = curve.arrays.end
    tail = 1 if end > (times[-1] if n else 0.0) else 0
    xs = np.empty(2 * n + 1 + tail)
    ys = np.empty(2 * n + 1 + tail)
    xs[0], ys[0] = 0.0, start
    xs[1 : 2 * n + 1 : 2] = times
    xs[2 : 2 * n + 1 : 2] = times
    ys[2 : 2 * n + 1 : 2] = values
    if n:
        ys[1] = start
        ys[3 : 2 * n + 1 : 2] = values[:-1]
    if tail:
        xs[-1], ys[-1] = end, ys[-2]
    return xs, ys


class Staircase(Line2D):
    """A step curve's line (``steps``' vertices) that also carries the curve's times and
    values after each step as contiguous arrays (``times``, ``values``), and whether it is a
    staircase ``report.raster_thinning`` thins (``sorted``: times ascending, values from the
    start monotone, as ``raster_thinning.is_staircase`` and ``staircase_cells`` require):
    the thinning reads those by binary search instead of checking the vertices at every
    raster. Drawn as any ``Line2D`` (the same bytes)."""

    def __init__(self, xs: Any, ys: Any, times: Any, values: Any, **style: Any) -> None:
        super().__init__([], [], **style)
        self.times, self.values = times, values
        self.vertices = (xs, ys)
        self.sorted = bool(
            times.shape[0] >= 2 and np.all(times[1:] >= times[:-1]) and _monotone(ys[0], values)
        )

    @cached_property
    def key(self) -> Any:
        """The values made increasing (``raster_thinning.staircase_cells``' sign)."""
        values = self.values
        return values if values[-1] >= self.vertices[1][0] else -values

    def as_made(self) -> bool:
        """Whether the line still draws the vertices it was made with."""
        x, y = self.get_data()
        return x is self.vertices[0] and y is self.vertices[1]


def _monotone(start: float, values: Any) -> bool:
    """Whether ``np.diff`` of ``start`` followed by ``values`` is all <= 0 or all >= 0 (as
    ``raster_thinning.is_staircase`` checks a staircase), without making the differences:
    for finite ends a difference's sign is the comparison's."""
    if not (np.isfinite(start) and np.isfinite(values[0]) and np.isfinite(values[-1])):
        drops = np.diff(values, prepend=start)
        return bool(np.all(drops <= 0) or np.all(drops >= 0))
    return bool(
        (values[0] <= start and np.all(values[1:] <= values[:-1]))
        or (values[0] >= start and np.all(values[1:] >= values[:-1]))
    )


def plot_steps(ax: Axes, curve: Curve, start: float, **style: Any) -> Line2D:
    """The step curve (``steps``) drawn on ``ax`` as one line in ``style`` (Line2D's
    properties); returns the line.

    As ``ax.plot(xs, ys, **style)`` draws it, without copying the vertices or passing over
    them for the data limits (both grow with the rows; the report's axes get fixed limits,
    and ``ax.relim()`` reads the full line)."""
    xs, ys = steps(curve, start)
    times, values = curve.arrays.with_estimate
    line = Staircase(xs, ys, np.ascontiguousarray(times), np.ascontiguousarray(values), **style)
    ax.add_line(line)  # empty: no data limits read from a million vertices
    put_back(line, line.vertices)
    return line


def plot_censor_ticks(ax: Axes, curve: Curve, **style: Any) -> None:
    """One marker (``style``: Line2D's properties) on the curve at each time with censored
    rows and an estimate; nothing when there are none or the curve has no ``n_censor``."""
    if "n_censor" not in curve.km:
        return
    arrays = curve.arrays
    censored = arrays.censored
    if censored.any():
        # the rows' indices, then two takes: a quarter of the time of two boolean indexings
        # (a censoring mask is random: every element a branch mispredicted); the same values
        rows = np.flatnonzero(censored)
        line = CensorTicks(arrays.time.take(rows), arrays.estimate.take(rows), **style)
        ax.add_line(line)  # empty: no data limits read from every tick
        put_back(line, line.ticks)


class CensorTicks(Line2D):
    """A curve's censor ticks (markers only) that know whether they lie along it
    (``sorted``: times ascending, values monotone): ``report.raster_thinning.censor_stamps``
    then finds the ticks sharing a pixel by binary search. Drawn as any ``Line2D``."""

    def __init__(self, times: Any, values: Any, **style: Any) -> None:
        super().__init__([], [], linestyle="none", **style)
        self.ticks = (times, values)
        self.sorted = bool(
            np.all(times[1:] >= times[:-1])
            and (np.all(values[1:] >= values[:-1]) or np.all(values[1:] <= values[:-1]))
        )

    def as_made(self) -> bool:
        """Whether the line still draws the ticks it was made with."""
        x, y = self.get_data()
        return x is self.ticks[0] and y is self.ticks[1]


def band_inputs(curve: Curve, start: float) -> tuple[Any, Any, Any] | None:
    """The band's (time, lower, upper) points from (0, ``start``) to the curve's end: the
    rows up to the first one without a limit (None), then the last limits carried to the end
    (NaN limits are kept: the fill leaves them out). None when the curve has no limits.

    Each limit list is converted straight into its place between the start and the end (one
    array each, no copy: a band of a million rows is 8 MB a list)."""
    km = curve.km
    lower, upper = km.get("lower"), km.get("upper")
    if not lower or not upper:
        return None
    time = km["time"]
    rows = min(len(time), len(lower), len(upper))
    lo, hi = (_between(start, limits) for limits in (lower, upper))
    # a None and a NaN both read as NaN: only the NaN places can be a None (a NaN shows in
    # the minimum: one pass, no mask)
    first_none = None
    if any(np.isnan(np.min(limits[1 : rows + 1], initial=0.0)) for limits in (lo, hi)):
        missing = np.flatnonzero(np.isnan(lo[1 : rows + 1]) | np.isnan(hi[1 : rows + 1]))
        first_none = next((int(i) for i in missing if lower[i] is None or upper[i] is None), None)
    if first_none is None:
        if not len(time) == len(lower) == len(upper):
            raise ValueError("a curve's time, lower and upper differ in length")
        first_none = rows
    xs = np.empty(first_none + 2)
    xs[0], xs[1:-1], xs[-1] = 0.0, curve.arrays.time[:first_none], curve.arrays.end
    lo, hi = lo[: first_none + 2], hi[: first_none + 2]
    lo[-1], hi[-1] = lo[-2], hi[-2]
    return xs, lo, hi


def _between(start: float, values: Sequence[float | None]) -> Any:
    """``start``, ``values`` as floats (None as NaN), and a place for the end, in one array."""
    if isinstance(values, Column | np.ndarray):
        return np.concatenate(([start], floats(values), [np.nan]))
    return from_list(values, (start, np.nan))


def band_polygons(xs: Any, lo: Any, hi: Any) -> list[Any]:
    """The polygons ``fill_between(xs, lo, hi, step="post")`` fills, as its vertices: for each
    run of points with finite x, lower and upper, from the run's first upper point along the
    lower steps to the last upper point and back along the upper steps."""
    finite = np.isfinite(xs) & np.isfinite(lo) & np.isfinite(hi)
    change = np.flatnonzero(finite[1:] != finite[:-1]) + 1
    edges = np.concatenate(([0], change, [finite.shape[0]]))
    polygons = []
    for first, stop in itertools.pairwise(edges):
        if not finite[first]:
            continue
        n = 2 * (stop - first) - 1  # post steps: t0, t1, t1, t2, ...; f0, f0, f1, f1, ...
        t, f1, f2 = xs[first:stop], lo[first:stop], hi[first:stop]
        pts = np.empty((2 * n + 2, 2))
        lower, upper = pts[1 : n + 1], pts[n + 2 :][::-1]
        for chain, f in ((lower, f1), (upper, f2)):
            chain[0::2, 0] = t
            chain[1::2, 0] = t[1:]
            chain[0::2, 1] = f
            chain[1::2, 1] = f[:-1]
        pts[0] = (t[0], f2[0])
        pts[n + 1] = (t[-1], f2[-1])
        polygons.append(pts)
    return polygons


def plot_band(ax: Axes, curve: Curve, start: float, **style: Any) -> None:
    """The pointwise confidence band (``band_inputs``) filled under the step curve's steps
    in ``style`` (the fill's properties): what ``ax.fill_between(xs, lo, hi, step="post",
    **style)`` draws. Its polygons are ``band_polygons``; a band of finite points, one
    polygon, is a ``BandPath``, made only if it is drawn unthinned or read. Nothing when the
    curve has no limits."""
    band = band_inputs(curve, start)
    if band is None:
        return
    extremes, finite = _extremes(*band)
    # fill_between itself on three points with the same extremes (its data limits, its
    # properties), then the polygons
    collection = ax.fill_between(*extremes, step="post", **style)
    if finite is None:  # every point finite: one polygon
        xs, lo, hi = band
        collection._paths = [BandPath(xs, lo, hi)]  # type: ignore[attr-defined]
        collection.stale = True
    else:
        collection.set_verts(band_polygons(*band))


def _made(name: str) -> property:
    """``Path``'s property ``name``, read once the ``BandPath`` is made."""
    original = getattr(Path, name)

    def get(self: BandPath) -> Any:
        self.make()
        return original.fget(self)

    def set_(self: BandPath, value: Any) -> None:
        self.make()
        original.fset(self, value)

    return property(get, set_ if original.fset is not None else None)


class BandPath(Path):
    """A confidence band's polygon, closed, as ``fill_between(..., step="post")`` makes it for
    points that are all finite (one polygon: ``band_polygons``), made when first read. Until
    then it holds the points (``points``: time, lower, upper), and ``report.raster_thinning``
    thins its two staircases from them (``stairs``) without making its vertices: a band of a
    million rows is four million vertices."""

    def __init__(self, xs: Any, lo: Any, hi: Any) -> None:  # no Path.__init__: see make
        self.points = (xs, lo, hi)
        self.length = 4 * xs.shape[0] + 1  # the polygon's vertices and the closing one
        self._threshold = mpl.rcParams["path.simplify_threshold"]  # as when made now

    @property
    def made(self) -> bool:
        return "_vertices" in self.__dict__

    def make(self) -> None:
        """The polygon's vertices and codes: what ``PolyCollection.set_verts`` makes."""
        if not self.made:
            (polygon,) = band_polygons(*self.points)
            Path.__init__(self, np.concatenate([polygon, polygon[:1]]), closed=True)
            self._simplify_threshold = self._threshold

    vertices = _made("vertices")
    codes = _made("codes")
    simplify_threshold = _made("simplify_threshold")
    should_simplify = _made("should_simplify")
    readonly = _made("readonly")

    def __len__(self) -> int:
        return self.length

    def stairs(self, upper: bool) -> list[Stairs] | None:
        """The lower (or ``upper``) edge as ``raster_thinning.step_cells`` reads staircases: its
        monotone pieces (``edge_stairs``), or None if it turns too often (the band is not
        thinned); found once."""
        return self._stairs[upper]

    @cached_property
    def times_sorted(self) -> bool:
        """Whether the band's times (after the start) ascend, as its edges' steps' do."""
        times = self.points[0][1:]
        return bool(np.all(times[1:] >= times[:-1]))

    @cached_property
    def _stairs(self) -> dict[bool, list[Stairs] | None]:
        xs = self.points[0]
        return {upper: edge_stairs(xs, self.points[2 if upper else 1]) for upper in (False, True)}


Stairs = tuple[int, Any, Any, float]
"""A monotone piece of a band's edge (``edge_stairs``): the index of its first point, the
times of its steps, their values made increasing, and their sign (1 rising, -1 falling)."""

EDGE_PIECES = 64
"""A band's edge that turns (an upper limit that rises again at the tail, where few are at
risk) is thinned in monotone pieces, up to this many; one that turns more often is drawn
from every step (``raster_thinning.band_polygon``)."""


def edge_stairs(xs: Any, values: Any) -> list[Stairs] | None:
    """A band's edge through (``xs``, ``values``) (post steps, finite points) cut where it
    turns into monotone pieces, as ``raster_thinning.step_cells`` reads each: a list of
    ``Stairs``, one for a monotone edge; None if it has more than ``EDGE_PIECES`` pieces.
    Consecutive pieces share the point where the edge turns."""
    last = xs.shape[0] - 1
    if _monotone(values[0], values[1:]):
        return [_piece(xs, values, 0, last)]
    moves = np.diff(values)
    moving = np.flatnonzero(moves)
    signs = np.sign(moves[moving])
    # a step moving the other way than the last one that moved starts a piece at its point
    turns = moving[1:][signs[1:] != signs[:-1]]
    if turns.shape[0] >= EDGE_PIECES:
        return None
    bounds = [0, *turns.tolist(), last]
    return [_piece(xs, values, a, b) for a, b in itertools.pairwise(bounds)]


def _piece(xs: Any, values: Any, first: int, last: int) -> Stairs:
    """``Stairs`` of the edge's points ``first`` to ``last`` (monotone)."""
    steps = np.ascontiguousarray(values[first + 1 : last + 1])
    sign = 1.0 if steps[-1] >= values[first] else -1.0
    times = np.ascontiguousarray(xs[first + 1 : last + 1])
    return first, times, steps if sign > 0 else -steps, sign


def _extremes(xs: Any, lo: Any, hi: Any) -> tuple[tuple[Any, Any, Any], Any]:
    """Three points whose (x, y) bounding box and smallest positive x and y are those of
    the band's finite points (fill_between's data limits), and the mask of its finite points,
    None if every point is finite: then each array's minimum and maximum are (a NaN or an
    infinity shows in them), and no mask is made (three passes over a million-row band's
    points and their masks, ~1.5 ms a band)."""
    arrays = [xs, lo, hi]
    ends = [(a.min(), a.max()) for a in arrays]
    finite = None
    if not np.isfinite(ends).all():
        finite = np.isfinite(xs) & np.isfinite(lo) & np.isfinite(hi)
        arrays = [a[finite] for a in arrays]
        if not arrays[0].shape[0]:
            return (arrays[0], arrays[1], arrays[2]), finite
        ends = [(a.min(), a.max()) for a in arrays]

    def low_high_positive(*which: int) -> list[float]:
        lows = [ends[i][0] for i in which]
        high = max(ends[i][1] for i in which)
        # an array's smallest positive value is its minimum when that is positive (a pass
        # with a mask otherwise)
        positive = min(
            low if low > 0 else np.min(arrays[i], where=arrays[i] > 0, initial=np.inf)
            for i, low in zip(which, lows, strict=True)
        )
        return [min(lows), high, positive if positive < np.inf else high]

    y = np.array(low_high_positive(1, 2))
    return (np.array(low_high_positive(0)), y, y), finite


def put_back(line: Line2D, data: tuple[Any, Any]) -> None:
    """``line.set_data(*data)`` for ``data`` the line's own arrays (``get_data()``), without
    copying them: what ``Line2D.set_xdata`` does but its copy (a million-row curve's arrays
    are 32 MB, copied at every raster otherwise)."""
    line._xorig, line._yorig = data  # type: ignore[attr-defined]
    line._invalidx = line._invalidy = True  # type: ignore[attr-defined]
    line.stale = True
