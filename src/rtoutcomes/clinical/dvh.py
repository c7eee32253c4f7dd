"""Dose-volume histograms of DICOM RT structures on a dose grid, with sub-voxel accuracy.

Geometry. A structure is a stack of axial contour planes; each plane stands for a slab
whose thickness comes from its neighbouring contour planes: half the distance to the plane
below plus half the distance to the plane above. A gap wider than 1.5 x the structure's median
plane spacing is a break between parts (e.g. two lobes). At a break and at the two ends the
slab reaches ``end_cap`` x half the median spacing beyond the plane. The default, 0.5, is the
expected value when the true surface lies anywhere (uniformly) between the last contoured
plane and the next, uncontoured one, and the structure tapers to nothing there: the extra
volume is then the end contour's area x spacing / 4. 0 ends the structure at its outermost
contours (the trapezoid rule over the planes' areas); 1 makes every plane a full slab of one
spacing (the CT-voxel model, as dicompyler-core does). On the breast-boost plan, 0.5 puts
every ROI above 10 cm3 within 1.2 % of Eclipse's volumes; 0 and 1 err by up to 0.8 % and
2.7 %. A one-plane structure is always one slab of the dose grid's frame spacing. On each
plane the contours are combined by the even-odd rule (holes, islands, several contours per
plane) and rasterised onto the dose grid's voxel lattice, refined ``oversample`` times in x and
y, as the exact inside fraction of every cell (:mod:`rtoutcomes.clinical.contour_raster`).

Dose. The grid is interpolated linearly in z to the middle of each slab (or to ``z_samples``
sub-planes of it) and in-plane to the cells of the lattice (``oversample`` = 2 by default, so
1.25 mm cells on a 2.5 mm grid): fully covered cells at their centre, partly covered cells at
the centroid of their covered part, which makes the integral exact for a dose that is linear
across a cell. In-plane interpolation is bilinear by default, as the planning system does (on
breast-boost it reproduces Eclipse's V14 Gy of Breast and Tumor Bed Block to 0.1 %, where
clamped cubic convolution overshoots the dose plateau by 3-4 %); the cubic option is closer to
the truth for curved isodoses of a smooth analytic field
(:mod:`rtoutcomes.clinical.dose_sampling`). Each (cell, sub-plane) is a dose sample weighted by
its covered volume, so the DVH is a weighted distribution of doses, not a histogram of whole
voxels.

Dose grid coverage. The grid covers the voxel cells around its sample points (half a voxel
beyond the outer centres in x, y and z). Structure volume outside it has no dose: it counts
in ``volume_cc`` and is reported as ``outside_grid_cc``; every dose statistic (Dmean, Dx,
Vx) refers to the part inside the grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from rtoutcomes.clinical.contour_raster import Lattice, rasterise_planes, run_cells
from rtoutcomes.clinical.dose_sampling import INTERPOLATIONS, LatticeSampler, point_doses
from rtoutcomes.errors import RtOutcomesError

if TYPE_CHECKING:
    from rtoutcomes.io.dicom_rt import DoseGrid, Structure

__all__ = ["DVH", "DvhError", "DvhOptions", "structure_dvh"]

_MM3_PER_CC = 1000.0
#: contour planes closer than this (mm) are one plane
_PLANE_ATOL_MM = 1e-3
#: a gap wider than this many median plane spacings separates two parts of a structure
_BREAK_FACTOR = 1.5


class DvhError(RtOutcomesError):
    """A DVH that cannot be computed or a statistic asked of an empty DVH."""


@dataclass(frozen=True)
class DvhOptions:
    """How finely a structure is sampled.

    ``oversample``: in-plane refinement of the dose lattice (dose interpolated bilinearly to
    the refined cells); ``subrows``: scan lines per cell row (the y integration);
    ``z_samples``: dose planes per slab; ``interpolation``: in-plane dose interpolation
    (``"linear"`` or ``"cubic"``, clamped; see :mod:`rtoutcomes.clinical.dose_sampling`);
    ``end_cap``: how far (0..1 of half a plane spacing)
    the end planes of a structure reach beyond themselves.
    """

    oversample: int = 2
    subrows: int = 2
    z_samples: int = 1
    end_cap: float = 0.5
    interpolation: str = "linear"

    def __post_init__(self) -> None:
        for name in ("oversample", "subrows", "z_samples"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise DvhError(f"DVH option {name} must be a whole number >= 1, got {value!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise DvhError(
                f"DVH option interpolation must be one of {INTERPOLATIONS}, "
                f"got {self.interpolation!r}"
            )
        if not 0.0 <= self.end_cap <= 1.0:
            raise DvhError(f"DVH option end_cap must be within 0..1, got {self.end_cap!r}")


#: the differential DVH keeps this many bins up to the structure's maximum dose
_BINS = 1 << 16


@dataclass(frozen=True)
class DVH:
    """Dose-volume histogram of a structure: volumes (cm3) per fine dose bin (Gy).

    ``volume_cc`` is the whole structure, ``outside_grid_cc`` its part without dose; dose
    statistics refer to ``in_grid_cc`` = volume_cc - outside_grid_cc. The samples are binned
    into 65 536 bins from 0 to the maximum dose (bin width ``bin_width_gy``); the mean,
    minimum and maximum are kept exactly, and Dx / Vx interpolate linearly inside a bin.
    """

    name: str
    volume_cc: float
    outside_grid_cc: float
    in_grid_cc: float
    bin_width_gy: float
    differential_cc: NDArray[np.float64]
    exact_min_gy: float | None
    exact_max_gy: float | None
    exact_mean_gy: float | None

    @classmethod
    def from_samples(
        cls,
        name: str,
        volume_cc: float,
        outside_grid_cc: float,
        dose_gy: NDArray[np.float64],
        weight_cc: NDArray[np.float64],
    ) -> DVH:
        """Bin dose samples (Gy) with their volumes (cm3)."""
        if dose_gy.size == 0 or not weight_cc.sum() > 0:
            return cls(name, volume_cc, outside_grid_cc, 0.0, 1.0, np.zeros(1), None, None, None)
        top = float(dose_gy.max())
        width = top / _BINS if top > 0 else 1.0
        index = np.minimum((dose_gy / width).astype(np.int64), _BINS)
        differential = np.bincount(index, weights=weight_cc, minlength=_BINS + 1).astype(float)
        in_grid = float(weight_cc.sum())
        return cls(
            name,
            volume_cc,
            outside_grid_cc,
            in_grid,
            width,
            differential,
            float(dose_gy.min()),
            top,
            float(np.dot(dose_gy, weight_cc) / in_grid),
        )

    def _require(self) -> None:
        if self.exact_max_gy is None:
            raise DvhError(f"structure {self.name!r} has no volume inside the dose grid")

    def _curve(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Bin edges (Gy) and the volume (cm3) at or above each edge (computed once: every
        Dx and Vx reads it)."""
        return self._cumulative_curve

    @cached_property
    def _cumulative_curve(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        above = np.cumsum(self.differential_cc[::-1])[::-1]
        edges = np.arange(above.size + 1, dtype=float) * self.bin_width_gy
        return edges, np.append(above, 0.0)

    @property
    def dmax_gy(self) -> float:
        self._require()
        return float(self.exact_max_gy)  # type: ignore[arg-type]

    @property
    def dmin_gy(self) -> float:
        self._require()
        return float(self.exact_min_gy)  # type: ignore[arg-type]

    @property
    def dmean_gy(self) -> float:
        self._require()
        return float(self.exact_mean_gy)  # type: ignore[arg-type]

    def d_cc(self, volume_cc: float) -> float:
        """Minimum dose (Gy) of the hottest ``volume_cc`` cm3."""
        self._require()
        edges, above = self._curve()
        dose = float(np.interp(-volume_cc, -above, edges))
        return min(max(dose, self.dmin_gy), self.dmax_gy)

    def d_percent(self, percent: float) -> float:
        """D_x: minimum dose (Gy) of the hottest ``percent`` % of the in-grid volume."""
        if not 0 <= percent <= 100:
            raise DvhError(f"D_x needs 0 <= x <= 100 %, got {percent!r}")
        return self.d_cc(percent / 100 * self.in_grid_cc)

    def v_cc(self, dose_gy: float) -> float:
        """Volume (cm3) receiving at least ``dose_gy``."""
        if self.exact_max_gy is None or dose_gy > self.exact_max_gy:
            return 0.0
        if dose_gy <= self.dmin_gy:
            return self.in_grid_cc
        edges, above = self._curve()
        return float(np.interp(dose_gy, edges, above))

    def v_percent(self, dose_gy: float) -> float:
        """Percentage of the in-grid volume receiving at least ``dose_gy``."""
        self._require()
        return 100.0 * self.v_cc(dose_gy) / self.in_grid_cc

    def cumulative(
        self, bin_width_gy: float = 0.01
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Cumulative DVH: doses (Gy) 0, w, 2w ... up to Dmax and the volume (cm3) at or above."""
        if not bin_width_gy > 0:
            raise DvhError(f"bin width must be > 0 Gy, got {bin_width_gy!r}")
        top = self.exact_max_gy or 0.0
        doses = np.arange(int(np.floor(top / bin_width_gy)) + 1, dtype=float) * bin_width_gy
        return doses, np.array([self.v_cc(float(d)) for d in doses])

    def summary(self) -> dict[str, float | None]:
        """volume_cc, outside_grid_cc and Dmax, Dmean, D2, D50, D95, D98 (Gy; None if no dose)."""
        stats: dict[str, float | None] = {
            "volume_cc": self.volume_cc,
            "outside_grid_cc": self.outside_grid_cc,
        }
        empty = self.exact_max_gy is None
        stats["dmax_gy"] = None if empty else self.dmax_gy
        stats["dmean_gy"] = None if empty else self.dmean_gy
        for percent in (2, 50, 95, 98):
            stats[f"d{percent}_gy"] = None if empty else self.d_percent(percent)
        return stats


def _planes(structure: Structure) -> list[tuple[float, list[NDArray[np.float64]]]]:
    """Contours grouped by plane, planes sorted by z."""
    ordered = sorted(structure.contours, key=lambda c: c[0])
    planes: list[tuple[float, list[NDArray[np.float64]]]] = []
    for z, points in ordered:
        if planes and abs(z - planes[-1][0]) <= _PLANE_ATOL_MM:
            planes[-1][1].append(points)
        else:
            planes.append((z, [points]))
    return planes


def _slabs(
    z: NDArray[np.float64], default_mm: float, end_cap: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper slab bounds (mm) of each plane (rule in the module docstring)."""
    if z.size == 1:
        half = np.array([default_mm / 2])
        return z - half, z + half
    gaps = np.diff(z)
    spacing = float(np.median(gaps))
    broken = gaps > _BREAK_FACTOR * spacing
    cap = end_cap * spacing / 2
    below = np.concatenate([[cap], np.where(broken, cap, gaps / 2)])
    above = np.concatenate([np.where(broken, cap, gaps / 2), [cap]])
    return z - below, z + above


def structure_dvh(structure: Structure, grid: DoseGrid, options: DvhOptions | None = None) -> DVH:
    """DVH of ``structure`` on ``grid`` (see the module docstring for the method)."""
    opts = options or DvhOptions()
    m = opts.oversample
    dx, dy, dz = grid.spacing_mm
    nz, ny, nx = grid.dose_gy.shape
    lattice = Lattice(grid.x_mm[0] - dx / 2, grid.y_mm[0] - dy / 2, dx / m, dy / m)
    cell_mm2 = (dx / m) * (dy / m)
    if nz < 2:
        raise DvhError(f"{grid.path}: a dose grid of one frame has no thickness to sample")
    z_first = grid.z_mm[0] - (grid.z_mm[1] - grid.z_mm[0]) / 2
    z_last = grid.z_mm[-1] + (grid.z_mm[-1] - grid.z_mm[-2]) / 2

    planes = _planes(structure)
    if not planes:
        raise DvhError(f"structure {structure.name!r} has no closed planar contours")
    z_planes = np.array([z for z, _ in planes])
    lows, highs = _slabs(z_planes, dz, opts.end_cap)
    cover = rasterise_planes([polygons for _, polygons in planes], lattice, opts.subrows)
    count = len(planes)
    # covered cells of each plane, all of them and those inside the dose grid
    whole = np.bincount(
        cover.run_plane, weights=cover.run_stop - cover.run_start, minlength=count
    ) + np.bincount(cover.cell_plane, weights=cover.cell_fraction, minlength=count)
    z_lo, z_hi = np.maximum(lows, z_first), np.minimum(highs, z_last)
    sampled = z_hi > z_lo  # planes whose slab reaches into the grid
    start = np.maximum(cover.run_start, 0)
    stop = np.minimum(cover.run_stop, nx * m)
    in_runs = (
        sampled[cover.run_plane] & (cover.run_row >= 0) & (cover.run_row < ny * m) & (stop > start)
    )
    run_plane, run_row = cover.run_plane[in_runs], cover.run_row[in_runs]
    start, stop = start[in_runs], stop[in_runs]
    in_cells = (
        sampled[cover.cell_plane]
        & (cover.cell_row >= 0)
        & (cover.cell_row < ny * m)
        & (cover.cell_col >= 0)
        & (cover.cell_col < nx * m)
    )
    cell_plane = cover.cell_plane[in_cells]
    cell_fraction = cover.cell_fraction[in_cells]
    inside = np.bincount(run_plane, weights=stop - start, minlength=count) + np.bincount(
        cell_plane, weights=cell_fraction, minlength=count
    )
    thickness = np.where(sampled, z_hi - z_lo, 0.0)
    total_mm3 = float(np.sum(whole * cell_mm2 * (highs - lows)))
    outside_mm3 = total_mm3 - float(np.sum(inside * cell_mm2 * thickness))

    # the fully covered cells: each plane's dose on the block around its runs, picked
    full_planes = np.flatnonzero(np.bincount(run_plane, minlength=count))
    first = np.searchsorted(run_plane, full_planes, side="left")
    last = np.searchsorted(run_plane, full_planes, side="right")
    row_lo = np.minimum.reduceat(run_row, first) if first.size else first
    row_hi = np.maximum.reduceat(run_row, first) if first.size else first
    col_lo = np.minimum.reduceat(start, first) if first.size else first
    col_hi = np.maximum.reduceat(stop, first) - 1 if first.size else first
    width = np.zeros(count, dtype=np.int64)
    width[full_planes] = col_hi - col_lo + 1
    origin_row, origin_col = np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
    origin_row[full_planes], origin_col[full_planes] = row_lo, col_lo
    lengths = stop - start
    cells = run_cells(
        (run_row - origin_row[run_plane]) * width[run_plane] + start - origin_col[run_plane],
        lengths,
    )
    ends = np.concatenate([[0], np.cumsum(lengths)])
    bounds = ends[np.append(first, last[-1:])] if first.size else ends[:1]
    step = thickness / opts.z_samples
    cell_cc = cell_mm2 * step / _MM3_PER_CC  # volume (cm3) of one whole cell of each plane
    cell_y = (cover.cell_row[in_cells] + cover.centroid_y[in_cells]) / m - 0.5
    cell_x = (cover.cell_col[in_cells] + cover.centroid_x[in_cells]) / m - 0.5
    # one dose sample per cell and sub-plane: the fully covered cells of each sub-plane, plane
    # after plane, then the partly covered ones
    per_sample = cells.size + cell_plane.size
    doses = np.empty(opts.z_samples * per_sample)
    weights = np.empty(opts.z_samples * per_sample)
    sampler = LatticeSampler(grid, m, opts.interpolation)
    for s in range(opts.z_samples):
        z_sample = z_lo + (s + 0.5) * step
        frame, toward_next = sampler.frames(z_sample)
        base = s * per_sample
        for i, p in enumerate(full_planes):
            first_cell, stop_cell = int(bounds[i]), int(bounds[i + 1])
            block = sampler.block(
                int(frame[p]),
                float(toward_next[p]),
                (int(row_lo[i]), int(row_hi[i])),
                (int(col_lo[i]), int(col_hi[i])),
            )
            out = slice(base + first_cell, base + stop_cell)
            np.take(block.ravel(), cells[first_cell:stop_cell], out=doses[out])
            weights[out] = cell_cc[p]
        partly = slice(base + cells.size, base + per_sample)
        doses[partly] = point_doses(grid, z_sample[cell_plane], cell_y, cell_x, opts.interpolation)
        weights[partly] = cell_fraction * cell_cc[cell_plane]
    return DVH.from_samples(
        structure.name,
        total_mm3 / _MM3_PER_CC,
        max(outside_mm3, 0.0) / _MM3_PER_CC,
        doses,
        weights,
    )
