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

from rtoutcomes.clinical.contour_raster import Coverage, Lattice, polygon_coverage
from rtoutcomes.clinical.dose_sampling import INTERPOLATIONS, PlaneSampler
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


def _sample_plane(
    grid: DoseGrid,
    z_mm: float,
    coverage: Coverage,
    block: tuple[slice, slice],
    origin: tuple[int, int],
    oversample: int,
    interpolation: str,
) -> NDArray[np.float64]:
    """Dose (Gy) for the in-grid cells ``block`` of ``coverage``, whose first is ``origin``.

    Fully covered cells take the dose at their centre; partly covered cells at the centroid
    of their covered part, which makes the volume integral exact for a dose linear across
    the cell.
    """
    fraction = coverage.fraction[block]
    rows = origin[0] + np.arange(fraction.shape[0])
    cols = origin[1] + np.arange(fraction.shape[1])
    gy, gx = (rows + 0.5) / oversample - 0.5, (cols + 0.5) / oversample - 0.5
    span_y = (int(np.floor(gy[0])), int(np.ceil(gy[-1])))
    span_x = (int(np.floor(gx[0])), int(np.ceil(gx[-1])))
    sampler = PlaneSampler(grid, z_mm, span_y, span_x, interpolation)
    if oversample == 1:  # cell centres are the grid's points
        dose = sampler.grid_points(
            slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
        ).copy()
    else:
        dose = sampler.on_lattice(gy, gx)
    # partly covered cells inside the block, in block coordinates
    pr = coverage.partial_rows - block[0].start
    pc = coverage.partial_cols - block[1].start
    keep = (pr >= 0) & (pr < fraction.shape[0]) & (pc >= 0) & (pc < fraction.shape[1])
    if keep.any():
        pr, pc = pr[keep], pc[keep]
        py = (rows[pr] + coverage.centroid_y[keep]) / oversample - 0.5
        px = (cols[pc] + coverage.centroid_x[keep]) / oversample - 0.5
        dose[pr, pc] = sampler.at_points(py, px)
    return dose


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
    total_mm3 = outside_mm3 = 0.0
    doses: list[NDArray[np.float64]] = []
    weights: list[NDArray[np.float64]] = []
    for (_, polygons), low, high in zip(planes, lows, highs, strict=True):
        coverage = polygon_coverage(polygons, lattice, opts.subrows)
        plane_mm3 = float(coverage.fraction.sum()) * cell_mm2 * (high - low)
        total_mm3 += plane_mm3
        r0, c0 = coverage.row0, coverage.col0
        r_lo, r_hi = max(r0, 0), min(r0 + coverage.fraction.shape[0], ny * m)
        c_lo, c_hi = max(c0, 0), min(c0 + coverage.fraction.shape[1], nx * m)
        z_lo, z_hi = max(low, z_first), min(high, z_last)
        if r_hi <= r_lo or c_hi <= c_lo or z_hi <= z_lo:
            outside_mm3 += plane_mm3
            continue
        block = (slice(r_lo - r0, r_hi - r0), slice(c_lo - c0, c_hi - c0))
        inside = coverage.fraction[block]
        outside_mm3 += plane_mm3 - float(inside.sum()) * cell_mm2 * (z_hi - z_lo)
        mask = inside > 0
        covered = inside[mask]
        step = (z_hi - z_lo) / opts.z_samples
        for s in range(opts.z_samples):
            dose = _sample_plane(
                grid, z_lo + (s + 0.5) * step, coverage, block, (r_lo, c_lo), m, opts.interpolation
            )
            doses.append(dose[mask])
            weights.append(covered * (cell_mm2 * step / _MM3_PER_CC))
    dose_all = np.concatenate(doses) if doses else np.zeros(0)
    weight_all = np.concatenate(weights) if weights else np.zeros(0)
    return DVH.from_samples(
        structure.name,
        total_mm3 / _MM3_PER_CC,
        max(outside_mm3, 0.0) / _MM3_PER_CC,
        dose_all,
        weight_all,
    )
