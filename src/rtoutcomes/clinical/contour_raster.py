"""Fraction of each cell of a regular 2-D lattice that lies inside a set of planar polygons.

Inside means the even-odd rule over all polygons of the plane together, so a contour drawn
inside another is a hole, a third one inside the hole is an island again, and overlapping
contours are combined by XOR (how DICOM RT structure sets encode holes).

Method (scan lines, exact along x): each lattice row is cut by ``subrows`` horizontal scan
lines at the centres of equal sub-rows. For every scan line the crossings with all polygon
edges are computed at once (vectorised over edges, lines and planes), sorted along the line,
and alternately open (+1) and close (-1) an inside interval. A crossing at x inside cell c, at
a fraction f of the cell width, covers (1 - f) of cell c when it opens (and uncovers it when
it closes); cells without a crossing are covered by the number of the row's scan lines that
are inside there (the running sum of the signs). So a row's cells come out of its crossings
alone: runs of fully covered cells between the cells that hold crossings (every scan line
inside), partly covered runs (some lines inside: fraction = lines inside / subrows), and the
cells with crossings, whose covered length is the running sum before them plus their own
crossings' (1 - f). Along x this is exact; averaging the scan lines of a row integrates over
y by the midpoint rule (error O(h^2) for h = cell height/subrows). The work is proportional to
the crossings, not to the area: no pass over the cells of the bounding box.

The centroid of the covered part of a partly covered cell comes along: along a scan line, a
cell's first moment in x is half its covered length plus, for every crossing inside it at
fraction f, sign x f(1-f)/2; in y, the heights of the scan lines weight their covered lengths.
Edges are taken half-open in y ([y_low, y_high)), so a scan line through a vertex counts it
once and horizontal edges never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Coverage",
    "CoveredCells",
    "Lattice",
    "polygon_coverage",
    "rasterise_planes",
    "run_cells",
]

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
class CoveredCells:
    """The covered lattice cells of a stack of planes (lattice indices, absolute).

    Fully covered cells as runs: on plane ``run_plane[i]``, lattice row ``run_row[i]``,
    columns ``run_start[i]`` (included) to ``run_stop[i]`` (excluded); runs are ordered by
    plane, row and column. The other covered cells one by one (``cell_plane``, ``cell_row``,
    ``cell_col``), with their inside fraction ``cell_fraction`` (0..1] and the centroid of the
    covered part, ``centroid_x`` and ``centroid_y``, in cell units from the cell's lower
    corner (0..1); these are the cells that a contour crosses (a few of them may be covered
    to within rounding) and those that only some scan lines of the row cover. ``boxes[p]`` is
    plane p's bounding box (first row, first column, rows, columns).
    """

    run_plane: NDArray[np.int64]
    run_row: NDArray[np.int64]
    run_start: NDArray[np.int64]
    run_stop: NDArray[np.int64]
    cell_plane: NDArray[np.int64]
    cell_row: NDArray[np.int64]
    cell_col: NDArray[np.int64]
    cell_fraction: NDArray[np.float64]
    centroid_x: NDArray[np.float64]
    centroid_y: NDArray[np.float64]
    boxes: NDArray[np.int64]


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


def _edges(
    planes: Sequence[Sequence[NDArray[np.float64]]],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """All edges (x1, y1, x2, y2) of the closed polygons of every plane, the closing edge
    included, and the plane of each edge (edges ordered by plane)."""
    polygons = [polygon for plane in planes for polygon in plane]
    sizes = np.array([len(polygon) for polygon in polygons], dtype=np.int64)
    plane_of = np.repeat(np.arange(len(planes)), [len(plane) for plane in planes])
    starts = np.concatenate(polygons)
    following = np.arange(1, starts.shape[0] + 1)
    ends_at = np.cumsum(sizes)
    following[ends_at - 1] = ends_at - sizes  # the last point closes on the first
    return np.hstack([starts, starts[following]]), np.repeat(plane_of, sizes)


def _group_starts(*keys: NDArray[np.int64]) -> NDArray[np.bool_]:
    """True where any of ``keys`` (sorted together) differs from the element before."""
    first = np.zeros(keys[0].size, dtype=bool)
    first[:1] = True
    for key in keys:
        first[1:] |= key[1:] != key[:-1]
    return first


def run_cells(starts: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """The flat indices of runs of consecutive cells: ``starts[i]`` up to ``starts[i] +
    lengths[i]`` (excluded), run after run."""
    total = int(lengths.sum())
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


def _line_order(
    plane: NDArray[np.int64],
    line: NDArray[np.int64],
    u: NDArray[np.float64],
    boxes: NDArray[np.int64],
    subrows: int,
) -> NDArray[np.int64]:
    """The order of crossings by plane, scan line and position along the line.

    One sort of a float key (scan line x a power of two above the widest box, plus the
    position in cells) instead of a three-key lexsort: several times faster. The key is exact
    but for rounding in its last bits, so the result is checked and, where two crossings of a
    line lie closer than that rounding, the exact lexsort is taken instead.
    """
    lines_per_plane = boxes[:, 2] * subrows
    scan_line = (np.cumsum(lines_per_plane) - lines_per_plane)[plane] + line
    width = float(1 << int(max(int(boxes[:, 3].max()), 1) + 1).bit_length())
    order = np.argsort(scan_line * width + u)
    ordered_line, ordered_u = scan_line[order], u[order]
    same_line = ordered_line[1:] == ordered_line[:-1]
    if np.all(ordered_line[1:] >= ordered_line[:-1]) and np.all(
        ~same_line | (ordered_u[1:] >= ordered_u[:-1])
    ):
        return order
    return np.lexsort((u, scan_line))


def rasterise_planes(
    planes: Sequence[Sequence[NDArray[np.float64]]], lattice: Lattice, subrows: int = 8
) -> CoveredCells:
    """The covered cells of every plane (a sequence of planes, each a sequence of (N, 2)
    arrays of x, y in mm, implicitly closed), with ``subrows`` scan lines per cell row."""
    if subrows < 1:
        raise ValueError(f"subrows must be >= 1, got {subrows}")
    edges, plane = _edges(planes)
    w, h = lattice.width_mm, lattice.height_mm
    line_h = h / subrows
    # each plane's bounding box in lattice cells
    first_edge = np.flatnonzero(_group_starts(plane))
    x_min = np.minimum.reduceat(np.minimum(edges[:, 0], edges[:, 2]), first_edge)
    x_max = np.maximum.reduceat(np.maximum(edges[:, 0], edges[:, 2]), first_edge)
    y_min = np.minimum.reduceat(np.minimum(edges[:, 1], edges[:, 3]), first_edge)
    y_max = np.maximum.reduceat(np.maximum(edges[:, 1], edges[:, 3]), first_edge)
    col0 = np.floor((x_min - lattice.x0_mm) / w).astype(np.int64)
    ncols = np.floor((x_max - lattice.x0_mm) / w).astype(np.int64) + 1 - col0
    row0 = np.floor((y_min - lattice.y0_mm) / h).astype(np.int64)
    nrows = np.floor((y_max - lattice.y0_mm) / h).astype(np.int64) + 1 - row0
    planes_with_edges = plane[first_edge]
    boxes = np.zeros((len(planes), 4), dtype=np.int64)
    boxes[planes_with_edges] = np.stack([row0, col0, nrows, ncols], axis=1)
    row0, col0, ncols = (boxes[:, 0], boxes[:, 1], boxes[:, 3])

    # scan line l of a plane (local) sits at y = y0 + (row0 * subrows + l + 0.5) * line_h
    y_base = lattice.y0_mm + row0 * h
    edge_base = y_base[plane]
    y_low = np.minimum(edges[:, 1], edges[:, 3])
    y_high = np.maximum(edges[:, 1], edges[:, 3])
    first = np.ceil((y_low - edge_base) / line_h - 0.5).astype(np.int64)
    stop = np.ceil((y_high - edge_base) / line_h - 0.5).astype(np.int64)  # [y_low, y_high)
    counts = np.maximum(stop - first, 0)
    edge = np.repeat(np.arange(edges.shape[0]), counts)
    offsets = np.cumsum(counts) - counts
    line = first[edge] + (np.arange(edge.size) - offsets[edge])
    on = plane[edge]
    x1, y1, x2, y2 = edges[edge].T
    y_line = edge_base[edge] + (line + 0.5) * line_h
    x_cross = x1 + (y_line - y1) * (x2 - x1) / (y2 - y1)

    # open/close: the rank of each crossing along its scan line
    u = (x_cross - lattice.x0_mm) / w - col0[on]
    order = _line_order(on, line, u, boxes, subrows)
    on, line, u = on[order], line[order], u[order]
    index = np.arange(line.size)
    rank = index - np.maximum.accumulate(np.where(_group_starts(on, line), index, 0))
    sign = np.where(rank % 2 == 0, 1.0, -1.0)
    cell = np.clip(np.floor(u).astype(np.int64), 0, ncols[on] - 1)
    frac = np.clip(u - cell, 0.0, 1.0)
    row = line // subrows
    height = (line % subrows + 0.5) / subrows

    # the row's crossings in column order: each crossing cell, then the run up to the next
    first_row = np.cumsum(boxes[:, 2]) - boxes[:, 2]  # of each plane, counted over planes
    width = 1 << int(max(int(ncols.max()), 1)).bit_length()
    order = np.argsort((first_row[on] + row) * width + cell)
    on, row, cell = on[order], row[order], cell[order]
    sign, frac, height = sign[order], frac[order], height[order]
    cell_first = np.flatnonzero(_group_starts(on, row, cell))
    row_first = _group_starts(on, row)[cell_first]
    lines_in = np.cumsum(sign)  # exact: whole numbers, and every row's signs add up to 0
    height_in = np.cumsum(sign * height)
    # running sums before each crossing cell, counted from its row's start
    before = np.concatenate([[0.0], lines_in])[cell_first]
    height_before = np.concatenate([[0.0], height_in])[cell_first]
    row_height_start = np.maximum.accumulate(np.where(row_first, np.arange(cell_first.size), 0))
    height_before = height_before - height_before[row_height_start]
    opening = sign * (1.0 - frac)
    covered = before + np.add.reduceat(opening, cell_first)
    moment_y = height_before + np.add.reduceat(opening * height, cell_first)
    correction = np.add.reduceat(sign * frac * (1.0 - frac) / 2, cell_first)
    # after each crossing cell: lines inside up to the next crossing cell of the row
    cell_last = np.append(cell_first[1:], sign.size) - 1
    after = np.rint(lines_in[cell_last]).astype(np.int64)
    height_after = (
        height_in[cell_last] - (np.concatenate([[0.0], height_in])[cell_first][row_height_start])
    )
    c_plane, c_row, c_col = on[cell_first], row[cell_first], cell[cell_first]
    next_col = np.append(c_col[1:], 0)
    gap_start, gap_stop = c_col + 1, next_col
    has_next = np.append(~row_first[1:], False)
    gap = has_next & (gap_stop > gap_start) & (after > 0)
    full = gap & (after == subrows)
    some = gap & (after < subrows)

    # crossing cells
    keep = covered > _EPS * subrows
    fraction = np.minimum(covered[keep] / subrows, 1.0)
    cells_plane, cells_row, cells_col = c_plane[keep], c_row[keep], c_col[keep]
    cx = np.clip(0.5 + correction[keep] / covered[keep], 0.0, 1.0)
    cy = np.clip(moment_y[keep] / covered[keep], 0.0, 1.0)
    # partly covered runs, cell by cell (few: along nearly horizontal edges)
    if some.any():
        lengths = (gap_stop - gap_start)[some]
        runs = np.repeat(np.arange(lengths.size), lengths)
        step = np.arange(runs.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        lines = after[some][runs].astype(float)
        cells_plane = np.concatenate([cells_plane, c_plane[some][runs]])
        cells_row = np.concatenate([cells_row, c_row[some][runs]])
        cells_col = np.concatenate([cells_col, gap_start[some][runs] + step])
        fraction = np.concatenate([fraction, lines / subrows])
        cx = np.concatenate([cx, np.full(runs.size, 0.5)])
        cy = np.concatenate([cy, np.clip(height_after[some][runs] / lines, 0.0, 1.0)])
    return CoveredCells(
        c_plane[full],
        row0[c_plane[full]] + c_row[full],
        col0[c_plane[full]] + gap_start[full],
        col0[c_plane[full]] + gap_stop[full],
        cells_plane,
        row0[cells_plane] + cells_row,
        col0[cells_plane] + cells_col,
        fraction,
        cx,
        cy,
        boxes,
    )


def polygon_coverage(
    polygons: Sequence[NDArray[np.float64]], lattice: Lattice, subrows: int = 8
) -> Coverage:
    """Inside fraction (0..1) of every lattice cell in the polygons' bounding box.

    ``polygons`` are (N, 2) arrays of x, y (mm), implicitly closed; ``subrows`` scan lines
    per cell row (>= 1).
    """
    cells = rasterise_planes([polygons], lattice, subrows)
    row0, col0, rows, cols = (int(v) for v in cells.boxes[0])
    fraction = np.zeros((rows, cols))
    lengths = cells.run_stop - cells.run_start
    starts = (cells.run_row - row0) * cols + cells.run_start - col0
    fraction.ravel()[run_cells(starts, lengths)] = 1.0
    r, c = cells.cell_row - row0, cells.cell_col - col0
    fraction[r, c] = cells.cell_fraction
    partial = cells.cell_fraction < 1 - _EPS
    order = np.lexsort((c[partial], r[partial]))
    return Coverage(
        row0,
        col0,
        fraction,
        r[partial][order],
        c[partial][order],
        cells.centroid_x[partial][order],
        cells.centroid_y[partial][order],
    )
