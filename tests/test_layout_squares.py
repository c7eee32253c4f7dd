"""``raster_thinning.first_in_squares``: the first point of each run on one square, by binary
search, as reading every point finds it (points within rounding of a square's edge aside), for
rising and falling values; where it does not apply it says so (None)."""

from __future__ import annotations

import numpy as np
import pytest

from rtoutcomes.report.raster_thinning import first_in_squares


def _every_point(x: np.ndarray, y: np.ndarray, squares: tuple[float, ...]) -> np.ndarray:
    a, b, c, d = squares
    column, row = np.floor(x * a + b), np.floor(y * c + d)
    change = (np.diff(column) != 0) | (np.diff(row) != 0)
    return np.flatnonzero(np.concatenate(([True], change)))


@pytest.mark.parametrize("falling", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_first_in_squares_as_every_point_finds_them(falling: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 50_000
    x = np.sort(rng.uniform(0.0, 60.0, n))
    y = np.sort(rng.uniform(0.0, 1.0, n))[::-1] if falling else np.sort(rng.uniform(0, 1, n))
    y = np.ascontiguousarray(y)
    squares = (30.0, 12.5, 1400.0 * (-1 if seed == 3 else 1), 3.5)
    found = first_in_squares(x, y, squares)
    assert found is not None
    expected = _every_point(x, y, squares)
    assert 100 < expected.shape[0] < n  # runs of several points, and many runs
    # at most a few points lie within rounding of an edge: they may start a run or not
    differ = np.setxor1d(found, expected)
    assert differ.shape[0] <= 2
    assert np.array_equal(np.sort(found), found)


def test_first_in_squares_does_not_apply() -> None:
    x, y = np.linspace(0.0, 1.0, 100), np.linspace(1.0, 0.0, 100)
    assert first_in_squares(x, y, (-1.0, 0.0, 1.0, 0.0)) is None  # x would fall
    assert first_in_squares(x, y, (1.0, 0.0, 0.0, 0.0)) is None  # no rows
    assert first_in_squares(x, y, (1e9, 0.0, 1.0, 0.0)) is None  # more edges than points
    assert first_in_squares(x[:1], y[:1], (1.0, 0.0, 1.0, 0.0)) is None
