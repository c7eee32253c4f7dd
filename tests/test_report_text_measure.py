"""Texts measured once per process (``report.text_measure``) leave every figure's bytes as they
are: the demo's composite and forest figures in PNG, SVG, TIFF and PDF, drawn without the cache,
then twice with it (the second time from measurements made for the first), are the same files.
A cache keyed too coarsely is caught: without the renderer that SVG and PDF are drawn through in
the key, the PDF gets the SVG's measurements and its bytes change."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

import rtoutcomes.report.text_measure as text_measure
from rtoutcomes.report.figures import render, survival_figure
from rtoutcomes.report.forest import forest_figure
from rtoutcomes.report.response_report import forest_rows
from rtoutcomes.report.survival_figures import all_panels, axis_and_style

FORMATS = ("png", "svg", "tiff", "pdf")


def _results() -> dict[str, Any]:
    path = Path(__file__).parent / "data" / "stored_outputs" / "demo" / "results.json"
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return results


def _files(tiff_dpi: int = 300) -> list[dict[str, bytes]]:
    """Figure 2 of the demo (three panels) and its LC forest plot, every format."""
    results = _results()
    panels = all_panels(results)  # type: ignore[arg-type]
    axis, style = axis_and_style(results, columns=2)  # type: ignore[arg-type]
    names = results["study"]["figures"]["panels"][0]
    composite = survival_figure([panels[n].panel for n in names], axis, style)
    e = results["endpoints"]["LC"]
    forest = forest_figure(forest_rows(e["multivariate"], e, results), title="LC")  # type: ignore[arg-type]
    return [render(fig, FORMATS, tiff_dpi=tiff_dpi).files for fig in (composite, forest)]


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_measure, "_metrics", {})
    monkeypatch.setattr(text_measure, "_fonts", {})
    monkeypatch.setattr(text_measure, "_layouts", {})
    monkeypatch.setattr(text_measure, "_glyphs", {})
    monkeypatch.setattr(text_measure, "_raster_glyphs", {})
    monkeypatch.setattr(text_measure, "_glyph_bitmaps", {})
    monkeypatch.setattr(text_measure, "_pdf_layouts", {})
    monkeypatch.setattr(text_measure, "_rotations", {})
    monkeypatch.setattr(text_measure, "_svg_paths", {})
    monkeypatch.setattr(text_measure, "_pdf_charprocs", {})


@pytest.fixture(scope="module")
def reference() -> list[dict[str, bytes]]:
    """The files drawn with matplotlib's own per-renderer measurements only."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text_measure, "measured_once", contextlib.nullcontext)
        return _files()


def test_measured_once_changes_no_byte(
    reference: list[dict[str, bytes]], fresh_cache: None
) -> None:
    assert [sorted(f) for f in reference] == [sorted(FORMATS)] * 2
    first = _files()
    assert len(text_measure._metrics) > 50 and text_measure._fonts  # the caches were used
    assert len(text_measure._layouts) > 50
    assert len(text_measure._glyphs) > 20 and len(text_measure._raster_glyphs) > 20
    assert text_measure._glyphs_drawn_here
    assert sum(len(bitmaps) for bitmaps in text_measure._glyph_bitmaps.values()) > 200
    assert len(text_measure._pdf_layouts) > 20
    second = _files()  # measured for the first drawing: every measurement from the cache
    assert first == reference
    assert second == reference


def test_a_key_without_the_inner_renderer_changes_the_pdf(
    reference: list[dict[str, bytes]], fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def coarse(rc: tuple[Any, ...], renderer: Any, *args: Any) -> tuple[Any, ...]:
        return (rc, type(renderer), getattr(renderer, "dpi", None), *args)

    monkeypatch.setattr(text_measure, "metrics_key", coarse)
    drawn = _files()
    changed = [
        k for files, ref in zip(drawn, reference, strict=True) for k in ref if files[k] != ref[k]
    ]
    assert "pdf" in changed and "png" not in changed


def _changed(drawn: list[dict[str, bytes]], reference: list[dict[str, bytes]]) -> set[str]:
    return {
        k for files, ref in zip(drawn, reference, strict=True) for k in ref if files[k] != ref[k]
    }


def test_a_layout_key_without_the_renderer_changes_the_vector_files(
    reference: list[dict[str, bytes]], fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text's layout kept without its renderer and dpi: the rasters get the layouts made
    while the figure was built (at its own dpi), the SVG and PDF those of the raster."""

    def coarse(rc: tuple[Any, ...], text: Any, renderer: Any) -> tuple[Any, ...]:
        return (rc, text.get_text(), text.get_fontproperties(), text.get_rotation())

    monkeypatch.setattr(text_measure, "layout_key", coarse)
    changed = _changed(_files(), reference)
    assert {"png", "svg", "pdf"} <= changed


def test_a_raster_glyph_key_without_the_dpi_changes_the_600_dpi_tiff(
    fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Glyph positions kept without the raster's dpi: the 600 dpi TIFF gets the 300 dpi PNG's
    (and its hinting), and changes; with the dpi in the key it is the uncached TIFF."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text_measure, "measured_once", contextlib.nullcontext)
        uncached = _files(tiff_dpi=600)
    assert _files(tiff_dpi=600) == uncached

    def coarse(rc: tuple[Any, ...], font: Any, size: float, dpi: float, *args: Any) -> Any:
        return (rc, font, size, *args)

    monkeypatch.setattr(text_measure, "_raster_glyphs", {})
    monkeypatch.setattr(text_measure, "raster_glyphs_key", coarse)
    assert _changed(_files(tiff_dpi=600), uncached) == {"tiff"}


def test_an_svg_glyph_key_without_the_font_changes_the_svg(
    reference: list[dict[str, bytes]], fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A string's SVG glyphs kept without the font: a string set in two fonts (bold and
    regular) is drawn with the first one's glyphs."""

    def coarse(rc: tuple[Any, ...], font: Any, *args: Any) -> tuple[Any, ...]:
        return (rc, *args)

    monkeypatch.setattr(text_measure, "svg_glyphs_key", coarse)
    changed = _changed(_files(), reference)
    assert "svg" in changed and "png" not in changed


def test_a_glyph_bitmap_key_without_the_place_in_the_pixel_changes_the_rasters(
    reference: list[dict[str, bytes]], fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A glyph's bitmap kept without where in its pixel its origin falls: a glyph at another
    sub-pixel position is drawn with the first one's bitmap, and the PNG and TIFF change (the
    vector files do not use the bitmaps)."""

    def coarse(x: int, y: int, glyph_index: int) -> tuple[int, ...]:
        return (glyph_index,)

    monkeypatch.setattr(text_measure, "glyph_place_key", coarse)
    assert _changed(_files(), reference) == {"png", "tiff"}


def test_a_glyph_transform_kept_without_the_angle_changes_the_rasters(
    reference: list[dict[str, bytes]], fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The glyph transform is kept per angle, slant and extension (``_rotation``, read-only):
    kept by the font's slant and extension alone, the y axis' label (90 degrees) is drawn with
    the upright labels' transform, and the PNG and TIFF change."""
    rotation = text_measure._rotation
    kept: dict[tuple[float, float], Any] = {}

    def without_the_angle(angle: float, slant: float, extend: float) -> Any:
        return kept.setdefault((slant, extend), rotation(angle, slant, extend))

    monkeypatch.setattr(text_measure, "_rotation", without_the_angle)
    assert _changed(_files(), reference) == {"png", "tiff"}
    matrix, entries = rotation(90.0, 0.0, 1.0)
    assert entries == (0, -0x10000, 0x10000, 0) and not matrix.flags.writeable
    assert rotation(90.0, 0.0, 1.0)[0] is matrix  # worked out once


def test_an_svg_path_key_without_the_vertices_changes_the_svg(
    reference: list[dict[str, bytes]], fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A glyph outline's path data kept by its codes alone: glyphs with the same kinds of
    segments share one outline, and the SVG changes."""
    monkeypatch.setattr(text_measure, "svg_path_key", lambda vertices, codes: (codes.tobytes(),))
    assert _changed(_files(), reference) == {"svg"}


def test_a_pdf_glyph_procedure_key_without_the_font_changes_the_pdf(
    reference: list[dict[str, bytes]], fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A glyph's Type 3 procedure kept without its font file: the bold titles' glyphs are
    given the regular font's outlines, and the PDF changes."""
    monkeypatch.setattr(
        text_measure, "pdf_charproc_key", lambda rc, font_path, glyph_index: (rc, glyph_index)
    )
    assert _changed(_files(), reference) == {"pdf"}


def test_glyphs_drawn_by_the_renderers_own_method_where_the_hooks_are_missing(
    reference: list[dict[str, bytes]], fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where matplotlib lacks the private parts the bitmaps are drawn through, the renderer's
    own ``_draw_text_glyphs_and_boxes`` draws each string (the fallback), with the same bytes;
    none of the bitmaps is kept."""
    from matplotlib import ft2font

    assert text_measure._glyph_drawing_available()
    for hook in ("_render_glyph", "_set_transform"):
        with pytest.MonkeyPatch.context() as patch:
            patch.delattr(ft2font.FT2Font, hook)
            assert not text_measure._glyph_drawing_available()
    monkeypatch.setattr(text_measure, "_glyphs_drawn_here", False)
    assert _files() == reference
    assert not text_measure._glyph_bitmaps


def test_a_glyph_whole_pixels_away_is_the_same_bitmap_that_many_pixels_away() -> None:
    """What ``glyph_place_key`` rests on: FreeType renders a glyph at origin x + 64 k (26.6
    fixed point) as the bitmap at x, k pixels further (and a glyph with no pixels at 0, 0
    wherever it is), for random glyphs of the report's fonts, sizes, resolutions and
    rotations. The control: half a pixel further gives another bitmap for most glyphs."""
    import math
    import random

    import numpy as np
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import get_hinting_flag
    from matplotlib.ft2font import RenderMode

    fonts = [
        font_manager.get_font(
            font_manager.fontManager._find_fonts_by_props(
                font_manager.FontProperties(weight=weight)
            )
        )
        for weight in ("normal", "bold")
    ]
    flags = get_hinting_flag()
    rng = random.Random(11)

    def rendered(
        font: Any, glyph: int, size: float, dpi: int, matrix: Any, origin: list[int]
    ) -> tuple[Any, int, int]:
        font.set_size(size, dpi)
        font._set_transform(matrix, origin)
        bitmap = font._render_glyph(glyph, flags, RenderMode.NORMAL)
        return np.array(bitmap.buffer), bitmap.left, bitmap.top

    moved = compared = 0
    for _ in range(2000):
        font = rng.choice(fonts)
        glyph = rng.randrange(1, 300)
        size, dpi = rng.choice([(6.5, 300), (7.0, 300), (10.0, 300), (6.5, 600), (7.5, 600)])
        angle = math.radians(rng.choice([0, 0, 0, 90, 30]))
        cos, sin = math.cos(angle), math.sin(angle)
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        x, y = rng.randrange(64), rng.randrange(64)
        kx, ky = rng.randrange(-20, 4000), rng.randrange(-20, 4000)
        buffer, left, top = rendered(font, glyph, size, dpi, matrix, [x, y])
        far = rendered(font, glyph, size, dpi, matrix, [x + 64 * kx, y + 64 * ky])
        if buffer.size == 0:
            assert far[0].size == 0 and (left, top) == (0, 0) and far[1:] == (0, 0)
            continue
        compared += 1
        assert np.array_equal(far[0], buffer) and far[1:] == (left + kx, top + ky)
        half = rendered(font, glyph, size, dpi, matrix, [x + 32, y + 32])
        if half[0].shape != buffer.shape or not np.array_equal(half[0], buffer):
            moved += 1
    assert compared > 1500 and moved > 0.8 * compared


def _one_string_at_two_sizes() -> bytes:
    """A PDF of one string set at two sizes (and the number at risk's size again)."""
    from rtoutcomes.report.figures import new_figure, rc_context

    with rc_context():
        fig = new_figure(2.0, 1.0)
        for i, size in enumerate((6.5, 10.0, 6.5)):
            fig.text(0.1, 0.2 + 0.25 * i, "No. at risk 128", fontsize=size)
    return render(fig, ("pdf",)).files["pdf"]


def test_a_pdf_layout_key_without_the_size_changes_the_pdf(
    fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A string's PDF layout kept without the font's size: the string at 10 pt is placed as
    at 6.5 pt, and the PDF changes; with the size in the key it is the uncached PDF."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text_measure, "measured_once", contextlib.nullcontext)
        uncached = _one_string_at_two_sizes()
    assert _one_string_at_two_sizes() == uncached
    assert len(text_measure._pdf_layouts) == 2

    def coarse(rc: int, font: Any, size: float, *args: Any) -> tuple[Any, ...]:
        return (rc, font, *args)

    monkeypatch.setattr(text_measure, "_pdf_layouts", {})
    monkeypatch.setattr(text_measure, "pdf_layout_key", coarse)
    assert _one_string_at_two_sizes() != uncached
