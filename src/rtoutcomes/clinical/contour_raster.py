"""Fraction of each cell of a regular 2-D lattice that lies inside a set of planar polygons.

Inside means the even-odd rule over all polygons of the plane together, so a contour drawn
inside another is a hole, a third one inside the hole is an island again, and overlapping
contours are combined by XOR (how DICOM RT structure sets encode holes).

Method (scan lines, exact along x): each lattice row is cut by ``subrows`` horizontal scan
lines at the centres of equal sub-rows. For every scan line the crossings with all polygon
edges are computed at once (vectorised over edges and lines), sorted along the line, and
alternately open (+1) and close (-1) an inside interval. A crossing at x inside cell c, at a
fraction f of the cell width, contributes (1 - f) to cell c and f to cell c + 1 of a
difference array; the cumulative sum along x then gives, for every cell, the exact length of
the scan line inside the polygons, as a fraction of the cell width. Averaging the scan lines
of a row integrates over y by the midpoint rule (error O(h^2) for h = cell height/subrows).
The centroid of the covered part comes along: along a scan line, a cell's first moment is
half its covered length plus, for every crossing inside it at fraction f, sign x f(1-f)/2.
Edges are taken half-open in y ([y_low, y_high)), so a scan line through a vertex counts it
once and horizontal edges never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Coverage", "Lattice", "polygon_coverage"]

#: inside fractions within this of 0 or 1 are rounding, not partial cover
_EPS = 1e-9


@dataclass(frozen=True)
class Lattice:
    """Cells ``[x0 + i w, x0 + (i+1) w) x [y0 + j h, y0 + (j+1) h)`` for all integers i, j (mm)."""

    x0_mm: float
    y0_mm: float
    width_mm: float
    height_mm: float


@dataclass(frozen=True)
class Coverage:
    """Inside fraction ``fraction[r, c]`` of lattice cell (row0 + r, col0 + c).

    The partly covered cells (0 < fraction < 1) are listed as ``partial_rows`` and
    ``partial_cols`` (indices into ``fraction``), with ``centroid_x`` and ``centroid_y``, the
    centroid of each one's covered part in cell units from its lower corner (0..1).
    """

    row0: int
    col0: int
    fraction: NDArray[np.float64]
    partial_rows: NDArray[np.int64]
    partial_cols: NDArray[np.int64]
    centroid_x: NDArray[np.float64]
    centroid_y: NDArray[np.float64]


def _edges(polygons: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """All edges (x1, y1, x2, y2) of the closed polygons, the closing edge included."""
    starts = np.concatenate(polygons)
    ends = np.concatenate([np.roll(p, -1, axis=0) for p in polygons])
    return np.hstack([starts, ends])


def polygon_coverage(
    polygons: Sequence[NDArray[np.float64]], lattice: Lattice, subrows: int = 8
) -> Coverage:
    """Inside fraction (0..1) of every lattice cell in the polygons' bounding box.

    ``polygons`` are (N, 2) arrays of x, y (mm), implicitly closed; ``subrows`` scan lines
    per cell row (>= 1).
    """
    if subrows < 1:
        raise ValueError(f"subrows must be >= 1, got {subrows}")
    edges = _edges(polygons)
    w, h = lattice.width_mm, lattice.height_mm
    line_h = h / subrows
    xs, ys = edges[:, [0, 2]], edges[:, [1, 3]]
    col0 = int(np.floor((xs.min() - lattice.x0_mm) / w))
    col1 = int(np.floor((xs.max() - lattice.x0_mm) / w)) + 1
    row0 = int(np.floor((ys.min() - lattice.y0_mm) / h))
    row1 = int(np.floor((ys.max() - lattice.y0_mm) / h)) + 1
    ncols, nlines = col1 - col0, (row1 - row0) * subrows

    # scan line l (local) sits at y = y0 + (row0 * subrows + l + 0.5) * line_h
    y_base = lattice.y0_mm + row0 * h
    y_low, y_high = ys.min(axis=1), ys.max(axis=1)
    first = np.ceil((y_low - y_base) / line_h - 0.5).astype(np.int64)
    stop = np.ceil((y_high - y_base) / line_h - 0.5).astype(np.int64)  # exclusive: [y_low, y_high)
    counts = np.maximum(stop - first, 0)
    edge = np.repeat(np.arange(edges.shape[0]), counts)
    offsets = np.cumsum(counts) - counts
    line = first[edge] + (np.arange(edge.size) - offsets[edge])
    x1, y1, x2, y2 = edges[edge].T
    y_line = y_base + (line + 0.5) * line_h
    x_cross = x1 + (y_line - y1) * (x2 - x1) / (y2 - y1)

    order = np.lexsort((x_cross, line))
    line, x_cross = line[order], x_cross[order]
    index = np.arange(line.size)
    new_line = np.ones(line.size, dtype=bool)
    new_line[1:] = line[1:] != line[:-1]
    rank = index - np.maximum.accumulate(np.where(new_line, index, 0))
    sign = np.where(rank % 2 == 0, 1.0, -1.0)

    u = (x_cross - lattice.x0_mm) / w - col0
    cell = np.clip(np.floor(u).astype(np.int64), 0, ncols - 1)
    frac = np.clip(u - cell, 0.0, 1.0)
    width = ncols + 1
    flat = line * width + cell
    delta = np.bincount(
        np.concatenate([flat, flat + 1]),
        weights=np.concatenate([sign * (1.0 - frac), sign * frac]),
        minlength=nlines * width,
    )
    per_line = np.cumsum(delta.reshape(nlines, width), axis=1)[:, :ncols]
    rows = row1 - row0
    by_row = per_line.reshape(rows, subrows, ncols)
    covered = by_row.sum(axis=1)  # in scan-line units: subrows x the inside fraction
    fraction = np.clip(covered / subrows, 0.0, 1.0)

    # centroids of the partly covered cells, from first moments in cell units
    partial_rows, partial_cols = np.nonzero((fraction > _EPS) & (fraction < 1 - _EPS))
    area = covered[partial_rows, partial_cols]
    heights = (np.arange(subrows) + 0.5) / subrows
    moment_y = by_row[partial_rows, :, partial_cols] @ heights
    correction = np.bincount(
        (line // subrows) * ncols + cell,
        weights=sign * frac * (1.0 - frac) / 2,
        minlength=rows * ncols,
    )[partial_rows * ncols + partial_cols]
    return Coverage(
        row0,
        col0,
        fraction,
        partial_rows,
        partial_cols,
        np.clip(0.5 + correction / area, 0.0, 1.0),
        np.clip(moment_y / area, 0.0, 1.0),
    )
