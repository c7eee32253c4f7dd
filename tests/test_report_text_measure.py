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
