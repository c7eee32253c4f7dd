"""Where a legend or the test's p may go is found from thinned points for dense curves
(``figure_layout.data_points`` with ``raster_thinning.for_layout`` and ``band_for_layout``),
and the thinning is bounded:

- the bound: on dense grouped panels (falling and rising curves, censor ticks, bands), every
  point the full curves give (their vertices read every 0.05 px along, 5 points a tick, the
  band's outline and interior) is within ``LAYOUT_PX`` (0.5 px at 300 dpi, in x and in y) of a
  thinned point, and every thinned point within ``LAYOUT_PX`` of the full curves' points;
- labels land where they land from every point: the grouped panel of
  benchmarks/figure_scale.py (3 groups, legend and p) and panels whose curves cover other
  corners (high and low survival, rising incidence, bands), at 36,000 rows;
- below the thinning's sizes (every demo figure) the points are the full points, unchanged;
- a band's interior, at any size, is found by binary search (``band_inside``), not by
  ``contains_points`` of its polygon: the answers differ only on the polygon's boundary, and
  the labels land where ``contains_points`` put them (small and dense panels).

- the thinnings kept on a curve or band between files (the layout's band polygon is the 300
  dpi files'; PNG and TIFF at one dpi share the curve's) give the bytes found anew.

Negative controls: points read every 3 px instead of 0.5, and steps merged over 4 px cells
instead of 1/8 px, break the bound; thinnings kept whatever the pixels give other bytes; a
band's interior read one step off ("pre" steps) differs off its boundary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.spatial import cKDTree

from rtoutcomes.report import figure_layout, raster_thinning
from rtoutcomes.report.figures import Axis, Curve, Panel, Style, survival_figure
from rtoutcomes.study.spec import KMOptions
from rtoutcomes.study.summaries import km_summary

P_TEXT = "Log-rank p = 0.02"
ROWS = 12_000  # a curve: > 4,096 distinct times and > 4,096 ticks, so both are thinned


def _km(n: int, seed: int, scale: float) -> dict[str, Any]:
    """As benchmarks/figure_scale.py's curves: Weibull(1) event times x ``scale``, uniform
    censoring to 60 months."""
    rng = np.random.default_rng(n + seed)
    event = rng.weibull(1.0, n) * scale
    censor = rng.uniform(0.0, 60.0, n)
    status = (event <= censor).astype(float)
    return dict(km_summary(np.minimum(event, censor), status, KMOptions(), ())["km"])


def _rising(km: dict[str, Any]) -> dict[str, Any]:
    """A cumulative-incidence-like curve: 1 - the estimate and its limits, no ticks."""
    flip = [1.0 - v for v in km["estimate"]]
    lower = [None if v is None else 1.0 - v for v in km["upper"]]
    upper = [None if v is None else 1.0 - v for v in km["lower"]]
    return {"time": list(km["time"]), "estimate": flip, "lower": lower, "upper": upper}


CASES = {  # name: (scales of the 3 groups, rising, bands)
    "benchmark's grouped panel": ((20.0, 40.0, 60.0), False, False),
    "high survival": ((400.0, 800.0, 1600.0), False, False),
    "early deaths": ((1.0, 2.0, 4.0), False, False),
    "rising incidence": ((20.0, 40.0, 60.0), True, False),
    "with bands": ((20.0, 40.0, 60.0), False, True),
    "rising with bands": ((20.0, 40.0, 60.0), True, True),
}


def _figure(case: str, rows: int = ROWS) -> Any:
    scales, rising, bands = CASES[case]
    curves = []
    for g, scale in enumerate(scales):
        km = _km(rows, g + 1, scale)
        if rising:
            risk = {"time": list(km["time"]), "n_risk": list(km["n_risk"])}
            curves.append(Curve(f"Grade {g + 1}", _rising(km), rows, True, risk))
        else:
            curves.append(Curve(f"Grade {g + 1}", km, rows))
    panel = Panel(curves, "Overall survival by grade", "Overall survival", P_TEXT, "Grade")
    return survival_figure([panel], Axis("months"), Style(bands=bands))


def _placed(fig: Any) -> tuple[Any, ...]:
    ax = fig.axes[0]
    legend = ax.get_legend()
    label = next(t for t in ax.texts if t.get_text() == P_TEXT)
    return (legend._loc, legend.get_bbox_to_anchor().bounds, label.get_position(), ax.get_ylim())


def _full(monkeypatch: Any) -> None:
    """From here on, nothing thinned: every point read, as before (bands' interiors by
    ``contains_points`` of their polygons)."""
    monkeypatch.setattr(raster_thinning, "MIN_VERTICES", 2**62)
    monkeypatch.setattr(raster_thinning, "band_inside", lambda collection, path: None)


@pytest.mark.parametrize("case", list(CASES))
def test_labels_land_where_every_point_puts_them(case: str, monkeypatch: Any) -> None:
    thinned = _placed(_figure(case))
    _full(monkeypatch)
    assert _placed(_figure(case)) == thinned


def _distances(fig: Any, monkeypatch: Any) -> tuple[float, float]:
    """(farthest full point from the thinned points, farthest thinned point from the full
    points), in px (the larger of x and y)."""
    ax = fig.axes[0]
    thinned = figure_layout.data_points(ax)
    densify = figure_layout._densify
    with monkeypatch.context() as patch:
        _full(patch)  # the full curves, read every 0.05 px along
        patch.setattr(figure_layout, "_densify", lambda xy, step_px=1.0: densify(xy, 0.05))
        full = figure_layout.data_points(ax)
    assert thinned.shape[0] < full.shape[0] / 4  # thinned indeed
    far_full = cKDTree(thinned).query(full, p=np.inf)[0].max()
    far_thinned = cKDTree(full).query(thinned, p=np.inf)[0].max()
    return float(far_full), float(far_thinned)


@pytest.mark.parametrize("case", ["benchmark's grouped panel", "rising incidence", "with bands"])
def test_the_thinned_points_are_within_the_bound(case: str, monkeypatch: Any) -> None:
    assert max(_distances(_figure(case), monkeypatch)) <= raster_thinning.LAYOUT_PX


@pytest.mark.parametrize(
    "coarse",
    [
        ("LAYOUT_PX", 3.0),  # read every 3 px, ticks one per 3 px square
        ("CELLS_PER_INCH", 75),  # steps merged over 4 px cells
    ],
)
def test_negative_control_a_coarser_thinning_breaks_the_bound(
    coarse: tuple[str, float], monkeypatch: Any
) -> None:
    bound = raster_thinning.LAYOUT_PX
    name, value = coarse
    for case in ("benchmark's grouped panel", "with bands"):
        with monkeypatch.context() as patch:
            patch.setattr(raster_thinning, name, value)
            fig = _figure(case)
            assert max(_distances(fig, monkeypatch)) > bound


def test_small_figures_read_every_point_as_before(monkeypatch: Any) -> None:
    """3 groups of 1,500 rows (the demo's curves are smaller): nothing thinned (a band's
    interior is found by binary search at any size, see below)."""
    for case in ("benchmark's grouped panel", "with bands"):
        fig = _figure(case, rows=1_500)
        points = figure_layout.data_points(fig.axes[0])
        with monkeypatch.context() as patch:
            patch.setattr(raster_thinning, "MIN_VERTICES", 2**62)
            assert np.array_equal(points, figure_layout.data_points(fig.axes[0]))


def _kept_and_anew() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """A dense grouped panel with bands (rising: no ticks hide the curves' edges) drawn once,
    its axes' range changed, then drawn to PNG, 600 dpi TIFF and SVG with the thinnings kept
    on its curves and bands; and the same panel drawn with nothing kept."""
    from rtoutcomes.report.figures import render

    def artists(fig: Any) -> list[Any]:
        ax = fig.axes[0]
        return [*ax.lines, *(path for c in ax.collections for path in c.get_paths())]

    def files(fig: Any, forget: bool) -> dict[str, bytes]:
        out = {}
        for kind in ("png", "tiff", "svg"):
            if forget:
                for artist in artists(fig):
                    artist.__dict__.pop("_thinned", None)
            out[kind] = render(fig, (kind,), tiff_dpi=600).files[kind]
        return out

    kept, anew = _figure("rising with bands"), _figure("rising with bands")
    render(kept, ("png",))
    assert any("_thinned" in artist.__dict__ for artist in artists(kept))  # kept indeed
    for fig in (kept, anew):
        fig.axes[0].set_ylim(-0.05, 1.3)
    return files(kept, forget=False), files(anew, forget=True)


def test_thinnings_kept_between_files_give_the_bytes_found_anew() -> None:
    """The layout's and the files' thinnings are kept on each curve and band for the next
    file at the same dpi and pixels (``raster_thinning._kept``): the same bytes as found
    anew for each file."""
    kept, anew = _kept_and_anew()
    assert kept == anew


def test_negative_control_thinnings_kept_whatever_the_pixels_give_other_bytes(
    monkeypatch: Any,
) -> None:
    kept = raster_thinning._kept

    def blind(owner: Any, key: tuple[Any, ...], sources: Any, make: Any) -> Any:
        return kept(owner, key[:1], sources, make)  # the kind of thinning only

    monkeypatch.setattr(raster_thinning, "_kept", blind)
    with_blind, anew = _kept_and_anew()
    assert with_blind["png"] != anew["png"]


def _polygon_tests(monkeypatch: Any) -> list[int]:
    """Record the vertices of every polygon ``contains_points`` is asked about from here on."""
    from matplotlib.path import Path

    asked: list[int] = []
    contains = Path.contains_points

    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(len(self.vertices))
        return contains(self, *args, **kwargs)

    monkeypatch.setattr(Path, "contains_points", recorded)
    return asked


@pytest.mark.parametrize("why", ["an edge not thinned", "the band already made"])
def test_a_dense_band_not_thinned_is_still_read_by_binary_search(
    why: str, monkeypatch: Any
) -> None:
    """A dense band whose edges cannot be thinned (``band_polygon`` gives None: an edge not
    monotone) or whose polygon is already made is read from its full polygon, its interior
    found by binary search, not by ``contains_points`` (its vertices times the points: 1.3 s
    for a 3-group panel at 1e5 rows); the labels land where every point puts them."""
    from rtoutcomes.report.step_curves import BandPath

    if why == "an edge not thinned":
        monkeypatch.setattr(raster_thinning, "band_polygon", lambda *args: None)
    fig = _figure("with bands")
    ax = fig.axes[0]
    bands = [(c, p) for c in ax.collections for p in c.get_paths() if isinstance(p, BandPath)]
    assert len(bands) == 3
    if why == "the band already made":
        for _, path in bands:
            path.make()
    for collection, path in bands:
        found = raster_thinning.band_for_layout(collection, path, fig.dpi)
        assert found is not None
        assert found[0] is path.vertices
    asked = _polygon_tests(monkeypatch)
    figure_layout.data_points(ax)
    assert not [n for n in asked if n >= raster_thinning.MIN_VERTICES]
    placed = _placed(fig)
    _full(monkeypatch)
    assert _placed(_figure("with bands")) == placed


def test_negative_control_a_dense_band_read_as_a_small_one_asks_its_polygon(
    monkeypatch: Any,
) -> None:
    """The same record sees ``contains_points`` asked about a dense band's full polygon when
    the band is read as a small one."""
    fig = _figure("with bands")
    asked = _polygon_tests(monkeypatch)
    _full(monkeypatch)
    figure_layout.data_points(fig.axes[0])
    assert [n for n in asked if n >= 8192]


SMALL_BAND_CASES = [  # (case, rows a group): bands below the thinning's size, and dense ones
    ("with bands", 1_000),
    ("with bands", 300),
    ("with bands", 2_000),
    ("rising with bands", 1_000),
    ("rising with bands", 60),
    ("with bands", ROWS),
]


def _band_answers(fig: Any) -> list[tuple[Any, Any, Any, Any]]:
    """For each band of ``fig``'s panel: its interior grid (as ``data_points`` lays it),
    ``band_inside``'s answers and ``contains_points``' answers there, and its outline (px)."""
    from matplotlib.path import Path

    ax = fig.axes[0]
    scale = fig.dpi / figure_layout.TUNED_DPI
    found = []
    for collection in ax.collections:
        for path in collection.get_paths():
            inside = raster_thinning.band_inside(collection, path)
            assert inside is not None
            outline = collection.get_transform().transform(path.vertices)
            every = figure_layout._interior(
                outline, 3 * scale, lambda xs, ys: np.ones((len(ys), len(xs)), bool)
            )
            across, up = np.unique(every[:, 0]), np.unique(every[:, 1])
            grid = np.stack(np.meshgrid(across, up), axis=-1).reshape(-1, 2)
            assert np.array_equal(grid, every)
            searched = inside(across, up).ravel()
            found.append((grid, searched, Path(outline).contains_points(grid), outline))
    assert len(found) == 3
    return found


def _boundary_distance(points: Any, outline: Any) -> Any:
    """Each point's distance (px) to the closed outline's nearest segment."""
    start, end = outline, np.roll(outline, -1, axis=0)
    span = end - start
    length2 = np.maximum((span**2).sum(axis=1), 1e-300)
    far = np.empty(points.shape[0])
    for i, point in enumerate(points):
        along = np.clip(((point - start) * span).sum(axis=1) / length2, 0.0, 1.0)
        far[i] = np.hypot(*(start + along[:, None] * span - point).T).min()
    return far


@pytest.mark.parametrize(("case", "rows"), SMALL_BAND_CASES)
def test_a_band_s_interior_by_binary_search_differs_only_on_its_boundary(
    case: str, rows: int
) -> None:
    """``band_inside`` (every band, small ones too) answers what ``contains_points`` of its
    full polygon answers, but for grid points on the polygon's boundary (within 1e-6 px:
    the grid starts on the band's left and bottom edges)."""
    for grid, searched, contained, outline in _band_answers(_figure(case, rows)):
        differ = searched != contained
        assert differ.sum() < grid.shape[0] / 10
        assert np.all(_boundary_distance(grid[differ], outline) <= 1e-6)


@pytest.mark.parametrize(("case", "rows"), SMALL_BAND_CASES[:5])
def test_labels_land_as_with_contains_points(
    case: str, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small panel with bands reads its bands' interiors by binary search (a 3-group panel
    of 1,000 rows a group built in ~0.1 CPU s, most of it ``contains_points``): its legend
    and p land where ``contains_points`` put them."""
    asked = _polygon_tests(monkeypatch)
    searched = _placed(_figure(case, rows))
    assert asked == []  # no polygon asked
    monkeypatch.setattr(raster_thinning, "band_inside", lambda collection, path: None)
    assert _placed(_figure(case, rows)) == searched
    assert asked  # asked indeed


def test_negative_control_a_band_read_as_pre_steps_differs_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The boundary check catches an interior one step off: each time's limits read from the
    step after ("pre" steps instead of "post")."""
    from rtoutcomes.report.step_curves import BandPath

    band_inside = raster_thinning.band_inside

    def pre_steps(collection: Any, path: Any) -> Any:
        xs, lo, hi = path.points
        ahead = BandPath(xs, np.append(lo[1:], lo[-1]), np.append(hi[1:], hi[-1]))
        return band_inside(collection, ahead)

    monkeypatch.setattr(raster_thinning, "band_inside", pre_steps)
    worst = 0.0
    for grid, searched, contained, outline in _band_answers(_figure("with bands", 1_000)):
        differ = searched != contained
        if differ.any():
            worst = max(worst, float(_boundary_distance(grid[differ], outline).max()))
    assert worst > 1.0


def test_the_600_dpi_tiff_reuses_the_300_dpi_thinning(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib's pixels at 600 dpi are exactly twice those at 300, and a curve's cells a
    pixel half as many (a power of two): the thinned vertices are the same, so the TIFF reuses
    the PNG's curves and dashes (``_cells_key``) and thins only its bands itself (their cells
    are half a pixel at each dpi: ``BAND_CELLS_PER_PX``, one polygon a band); its bytes are
    those found anew (``test_thinnings_kept_between_files_give_the_bytes_found_anew``)."""
    from rtoutcomes.report.figures import render

    fig = _figure("rising with bands")
    render(fig, ("png",))
    made: list[str] = []
    for name in ("staircase_cells", "band_polygon", "dashed"):
        original = getattr(raster_thinning, name)

        def counted(*args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
            made.append(_name)
            return _original(*args, **kw)

        monkeypatch.setattr(raster_thinning, name, counted)
    render(fig, ("tiff",), tiff_dpi=600)
    assert made == ["band_polygon"] * 3
    made.clear()
    # a resolution whose cells a pixel are no power of two of the 300 dpi's thins anew
    render(fig, ("tiff",), tiff_dpi=450)
    assert {"staircase_cells", "band_polygon", "dashed"} <= set(made)


def test_a_tiff_at_the_png_s_dpi_reuses_its_tick_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """The censor ticks' cut for the raster (runs on one pixel, ``raster_stamps``) is kept on
    each tick line: a TIFF at 300 dpi drawn after the PNG cuts nothing anew, and has the
    bytes of the TIFF of a panel drawn afresh."""
    from rtoutcomes.report.figures import render

    fig = _figure("benchmark's grouped panel")
    render(fig, ("png",))
    calls: list[int] = []
    censor_stamps = raster_thinning.censor_stamps

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return censor_stamps(*args, **kwargs)

    monkeypatch.setattr(raster_thinning, "censor_stamps", counted)
    tiff = render(fig, ("tiff",)).files["tiff"]
    assert calls == []
    assert tiff == render(_figure("benchmark's grouped panel"), ("tiff",)).files["tiff"]
    assert len(calls) >= 3  # afresh: one cut per tick line (and the layout's)
