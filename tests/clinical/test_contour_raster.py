"""Scan-line coverage of polygons on a lattice: areas, holes, XOR, centroids."""

from __future__ import annotations

import numpy as np
import pytest

from rtoutcomes.clinical.contour_raster import Lattice, polygon_coverage
from rtoutcomes.io.dicom_rt_synthetic import circle

LATTICE = Lattice(-0.3, 0.1, 2.5, 2.5)
CELL = 2.5 * 2.5


def square(x0: float, y0: float, side: float) -> np.ndarray:
    return np.array([[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side]])


def area(polygons: list[np.ndarray], subrows: int = 8) -> float:
    return float(polygon_coverage(polygons, LATTICE, subrows).fraction.sum()) * CELL


def test_axis_aligned_square_is_exact_for_any_offset() -> None:
    for x0, y0 in ((0.0, 0.0), (0.37, -1.91), (12.3, 4.4)):
        assert area([square(x0, y0, 10.0)]) == pytest.approx(100.0, abs=1e-9)


def test_circle_area_and_both_orientations() -> None:
    disc = circle(20.0, (1.3, -0.7), 2000)
    expected = 0.5 * 2000 * 400 * np.sin(2 * np.pi / 2000)  # the polygon's own area
    assert area([disc]) == pytest.approx(expected, rel=1e-3)
    assert area([disc[::-1]]) == pytest.approx(area([disc]), rel=1e-12)


def test_hole_island_and_overlap_follow_the_even_odd_rule() -> None:
    outer, hole, island = square(0, 0, 30), square(10, 10, 10), square(13, 13, 4)
    assert area([outer, hole]) == pytest.approx(900 - 100, abs=1e-9)
    # x is exact, y is sampled by scan lines 2.5/8 mm apart: the island's 4 mm may gain a line
    assert area([outer, hole, island]) == pytest.approx(900 - 100 + 16, abs=4 * 2.5 / 8)
    # two overlapping squares: XOR, the overlap (5 x 10) is out
    assert area([square(0, 0, 10), square(5, 0, 10)]) == pytest.approx(200 - 100, abs=1e-9)


def test_fractions_stay_within_zero_and_one() -> None:
    coverage = polygon_coverage([circle(7.0, (0.4, 0.2), 97)], LATTICE, 4)
    assert coverage.fraction.min() >= 0.0 and coverage.fraction.max() <= 1.0
    assert coverage.fraction.max() == 1.0


def test_centroid_of_partly_covered_cells() -> None:
    lattice = Lattice(0.0, 0.0, 1.0, 1.0)
    triangle = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # centroid (1/3, 1/3)
    coverage = polygon_coverage([triangle], lattice, 256)
    assert coverage.fraction[0, 0] == pytest.approx(0.5, abs=1e-3)
    assert (coverage.partial_rows.tolist(), coverage.partial_cols.tolist()) == ([0], [0])
    assert coverage.centroid_x[0] == pytest.approx(1 / 3, abs=1e-3)
    assert coverage.centroid_y[0] == pytest.approx(1 / 3, abs=1e-3)
    strip = np.array([[0.2, 0.1], [0.6, 0.1], [0.6, 0.9], [0.2, 0.9]])
    coverage = polygon_coverage([strip], lattice, 64)
    assert coverage.centroid_x[0] == pytest.approx(0.4, abs=1e-9)
    assert coverage.centroid_y[0] == pytest.approx(0.5, abs=1e-9)


def test_bad_subrows() -> None:
    with pytest.raises(ValueError, match="subrows"):
        polygon_coverage([square(0, 0, 1)], LATTICE, 0)
