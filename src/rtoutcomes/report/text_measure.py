"""Text measured once per process while the report's figures are drawn, not once per file.

matplotlib keeps a text's measurement (width, height, descent) per *renderer*, and each figure
and each format of a figure gets a renderer of its own: the tick labels, numbers at risk and
legend entries that recur in the report's figures are measured again for every file (~2,000
FreeType layouts for the demo's 29 figures). Each measurement, each drawn text and each text's
line height first looks its font file up by its properties (~10,000 look-ups, each re-reading
eleven rcParams). Together that is ~10-15 % of drawing the figures.

Within ``measured_once()`` (entered by ``figures.rc_context``, so around every figure the report
draws) these are kept for the process:

- a measurement, keyed as matplotlib keys its own per-renderer cache (the text, its font
  properties, math or not, the figure's dpi) plus the renderer's class and resolution and those
  of the renderer it draws through, which are all it depends on;
- a font look-up, keyed by the font properties and the look-up's arguments;
- a text's layout (``Text._get_layout``: its lines' sizes and offsets from its anchor, ~4,700
  per demo, each reading the font's tables again), keyed by the measurement's key and the
  text's string, font, rotation, alignments and spacing (``layout_key``);
- a string's glyphs as the SVG backend draws them (``TextToPath.get_glyphs_with_font``: the
  text shaper's layout and each glyph's outline, at the one size it uses), keyed by the font
  object and the string (``svg_glyphs_key``); each call still gives only the glyphs that the
  file has not defined yet, in order;
- a string's glyph positions as Agg draws them (``RendererAgg.draw_text``: the shaper's
  layout, ~0.25 ms a string), keyed by the font, its size, the raster's dpi and the hinting
  (``raster_glyphs_key``);
- a glyph's bitmap as FreeType renders it for Agg (~7,200 glyphs drawn for the demo's rasters,
  ~3,300 of them different), keyed by the font, its size, the raster's dpi, the rotation, the
  glyph and where in its pixel the glyph's origin falls (``glyph_bitmap_key``,
  ``glyph_place_key``): FreeType
  renders a glyph in the whole-pixel box around it, so a glyph whole pixels away is the same
  bitmap that many pixels away (tests/test_report_text_measure.py checks this on 2,000 random
  glyphs and positions). Each bitmap is still blended into the image by the renderer's own
  ``draw_text_image``, glyph by glyph, as matplotlib does;
- a glyph outline's SVG path data (each SVG file defines the glyphs it uses as ``<path>``
  elements: ~1,500 definitions for the demo, of a few hundred outlines), keyed by the outline
  (``svg_path_key``);
- a glyph's Type 3 procedure for PDF (its outline and metrics as PDF operators, made for each
  PDF that uses the glyph), keyed by the font file and the glyph (``pdf_charproc_key``).

All but the SVG path data (a function of the outline alone) are also keyed by the rcParams
they read (fonts, hinting, kerning), taken when the block is entered. The values are
matplotlib's own, computed the first time, so every figure is the same bytes as without the
cache (tests/test_report_text_measure.py, with negative controls: a
measurement key without the inner renderer's class, which once slipped in, gives the PDF files
the SVG's measurements; a layout key without the renderer, a raster key without the dpi and an
SVG key without the font each change files, and so do a glyph bitmap key without the
origin's place in its pixel, a glyph transform kept without the text's angle, an SVG path key
without the outline's vertices and a PDF procedure key without the font file).

matplotlib's hooks for this are partly private (``matplotlib.text._get_text_metrics_with_cache``,
the font manager's ``_find_fonts_by_props``, ``Text._get_layout``; for Agg the renderer's
``_prepare_font`` and ``_draw_text_glyphs_and_boxes`` and ``FT2Font._layout``, and for the
bitmaps ``FT2Font._set_transform`` and ``_render_glyph``, matplotlib 3.11's; for SVG and PDF
``RendererSVG._update_glyph_map_defs`` and ``backend_pdf._get_pdf_charprocs``): each is wrapped
once, the wrappers pass straight through outside the block (and in
other threads), and where a matplotlib version lacks a hook that hook is not wrapped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# the rcParams that a measurement or a font look-up reads
RC_READ = (
    "font.family",
    "font.style",
    "font.variant",
    "font.weight",
    "font.stretch",
    "font.size",
    "font.serif",
    "font.sans-serif",
    "font.cursive",
    "font.fantasy",
    "font.monospace",
    "text.hinting",
    "text.hinting_factor",
    "text.kerning_factor",
    "text.antialiased",
    "text.usetex",
    "mathtext.fontset",
    "pdf.use14corefonts",
)
MAX_ENTRIES = 100_000  # a long-running process (the web app) starts afresh beyond this

_state = threading.local()  # .rc: the active block's rcParams' number, in this thread
_rc_numbers: dict[tuple[Any, ...], int] = {}  # the rcParams' values seen -> their number
_lock = threading.Lock()
_wrapped = False
_metrics: dict[tuple[Any, ...], Any] = {}
_fonts: dict[tuple[Any, ...], Any] = {}
_layouts: dict[tuple[Any, ...], Any] = {}  # a text's lines placed (Text._get_layout)
_glyphs: dict[tuple[Any, ...], Any] = {}  # a string's glyphs and outlines, for SVG
_raster_glyphs: dict[tuple[Any, ...], Any] = {}  # a string's glyphs placed, for Agg
_glyph_bitmaps: dict[tuple[Any, ...], Any] = {}  # a glyph rendered by FreeType, for Agg
_pdf_layouts: dict[tuple[Any, ...], Any] = {}  # a string's glyphs placed, for PDF
_svg_paths: dict[tuple[Any, ...], str] = {}  # a glyph outline's SVG path data
_pdf_charprocs: dict[tuple[Any, ...], tuple[str, bytes]] = {}  # a glyph's PDF Type 3 procedure
# whether Agg's glyphs are drawn by ``_draw_glyphs`` (each bitmap rendered once) or, where this
# matplotlib lacks the private parts it draws through, by the renderer's own method
_glyphs_drawn_here = False


def _rc_key() -> tuple[Any, ...]:
    import matplotlib as mpl

    params: Any = mpl.rcParams  # keys as strings (its stubs list the literal names)
    values = (params[name] for name in RC_READ)
    rc = tuple(tuple(v) if isinstance(v, list) else v for v in values)
    return (*rc, os.environ.get("MPL_IGNORE_SYSTEM_FONTS"))


def metrics_key(rc: int, renderer: Any, *args: Any) -> tuple[Any, ...]:
    """What a measurement depends on: the rcParams, the renderer's class and resolution (and
    those of the renderer it hands the drawing to: SVG and PDF are both drawn through a
    ``MixedModeRenderer``, whose measurements are its SVG or PDF renderer's), and matplotlib's own
    key (text, font properties, math or not, dpi)."""
    inner = getattr(renderer, "_renderer", None)
    return (
        rc,
        type(renderer),
        getattr(renderer, "dpi", None),
        type(inner),
        getattr(inner, "dpi", None),
        *args,
    )


def layout_key(rc: int, text: Any, renderer: Any) -> tuple[Any, ...] | None:
    """What a text's layout (its lines' sizes and offsets from its anchor) depends on: the
    measurements' key (``metrics_key``: rcParams, renderers, dpi) and the text's own string,
    font, rotation, alignments, line spacing, math parsing, font features and language; not its
    position (the layout is relative to it). None (not kept) for a wrapped text (its lines
    depend on where it is) or one set with TeX."""
    spacing = getattr(text, "_linespacing", None)
    if spacing is None or text.get_wrap() or text.get_usetex():
        return None
    figure = text.get_figure(root=True)
    return (
        *metrics_key(rc, renderer),
        getattr(figure, "dpi", None),
        type(text),
        text.get_text(),
        _font_key(text.get_fontproperties()),
        text.get_rotation(),
        text.get_rotation_mode(),
        text.get_horizontalalignment(),
        text.get_verticalalignment(),
        getattr(text, "_multialignment", None),
        spacing,
        text.get_parse_math(),
        _hashable(getattr(text, "get_fontfeatures", lambda: None)()),
        _hashable(getattr(text, "get_language", lambda: None)()),
    )


def svg_glyphs_key(rc: int, font: Any, s: str, features: Any, language: Any) -> tuple[Any, ...]:
    """What a string's glyphs for SVG depend on: the font (its file, fallbacks and kerning:
    one ``FT2Font`` object each; the SVG backend sets it to one size), the string, its font
    features and language."""
    return (rc, font, s, _hashable(features), _hashable(language))


def raster_glyphs_key(
    rc: int,
    font: Any,
    size: float,
    dpi: float,
    s: str,
    flags: Any,
    features: Any,
    language: Any,
) -> tuple[Any, ...]:
    """What a string's glyph positions in a raster depend on: the font, its size (points) and
    the raster's dpi (hinting snaps to its pixels), the hinting flags, the string, its font
    features and language."""
    return (rc, font, size, dpi, s, flags, _hashable(features), _hashable(language))


def _hashable(value: Any) -> Any:
    """Font features or a language (a string, or a sequence of tuples) as a key."""
    return tuple(value) if isinstance(value, list) else value


def _kept(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = value


def _font_key(prop: Any) -> int:
    """Font properties in a key: their hash, which is what matplotlib compares them by
    (``FontProperties.__eq__`` compares hashes; a key holding the object would compute its hash
    three times a look-up, and would have to copy it, as the caller's may change after)."""
    return hash(prop)


def _wrap() -> None:
    global _wrapped
    with _lock:
        if _wrapped:
            return
        _wrapped = True
        import matplotlib.font_manager as font_manager
        import matplotlib.text as mtext

        measure: Callable[..., Any] | None = getattr(mtext, "_get_text_metrics_with_cache", None)
        manager = font_manager.fontManager
        find: Callable[..., Any] | None = getattr(manager, "_find_fonts_by_props", None)
        if measure is not None:
            original_measure = measure

            def measured(renderer: Any, text: str, fontprop: Any, ismath: Any, dpi: float) -> Any:
                rc = getattr(_state, "rc", None)
                if rc is None:
                    return original_measure(renderer, text, fontprop, ismath, dpi)
                key = metrics_key(rc, renderer, text, _font_key(fontprop), ismath, dpi)
                found = _metrics.get(key)
                if found is None:
                    found = original_measure(renderer, text, fontprop, ismath, dpi)
                    if len(_metrics) >= MAX_ENTRIES:
                        _metrics.clear()
                    _metrics[key] = found
                return found

            setattr(mtext, "_get_text_metrics_with_cache", measured)  # noqa: B010 (private)
        if find is not None:
            original_find = find

            def found_fonts(prop: Any, *args: Any, **kwargs: Any) -> Any:
                rc = getattr(_state, "rc", None)
                if rc is None:
                    return original_find(prop, *args, **kwargs)
                key = (rc, _font_key(prop), args, tuple(sorted(kwargs.items())))
                found = _fonts.get(key)
                if found is None:
                    found = original_find(prop, *args, **kwargs)
                    if len(_fonts) >= MAX_ENTRIES:
                        _fonts.clear()
                    _fonts[key] = found
                return list(found)  # a list of its own, as each look-up gives

            manager._find_fonts_by_props = found_fonts  # type: ignore[method-assign]
        _wrap_layout()
        _wrap_svg_glyphs()
        _wrap_svg_glyph_defs()
        _wrap_pdf_charprocs()
        _wrap_raster_glyphs()
        _wrap_pdf_layout()


def _wrap_layout() -> None:
    """``Text._get_layout`` (private; where a matplotlib version lacks it, nothing is wrapped):
    within the block, a text laid out as one laid out before is given that layout (a copy of
    its box and line list)."""
    import matplotlib.text as mtext

    original: Callable[..., Any] | None = getattr(mtext.Text, "_get_layout", None)
    if original is None:
        return
    layout = original

    def laid_out(text: Any, renderer: Any) -> Any:
        rc = getattr(_state, "rc", None)
        key = None if rc is None else layout_key(rc, text, renderer)
        if key is None:
            return layout(text, renderer)
        found = _layouts.get(key)
        if found is None:
            found = layout(text, renderer)
            _kept(_layouts, key, found)
        box, lines, corner = found
        return box.frozen(), list(lines), corner

    setattr(mtext.Text, "_get_layout", laid_out)  # noqa: B010 (private)


def _wrap_svg_glyphs() -> None:
    """``TextToPath.get_glyphs_with_font`` (what the SVG backend draws a string's glyphs with,
    its font at a fixed size): within the block, a string's glyphs, their offsets and outlines
    are found once; each call gives the glyphs its ``glyph_map`` lacks, in order, as the
    method does."""
    from collections import OrderedDict

    from matplotlib.textpath import TextToPath

    original = TextToPath.get_glyphs_with_font

    def glyphs_with_font(
        self: Any,
        font: Any,
        s: str,
        glyph_map: Any = None,
        return_new_glyphs_only: bool = False,
        *,
        features: Any = None,
        language: Any = None,
    ) -> Any:
        rc = getattr(_state, "rc", None)
        if rc is None:
            return original(
                self,
                font,
                s,
                glyph_map,
                return_new_glyphs_only,
                features=features,
                language=language,
            )
        key = svg_glyphs_key(rc, font, s, features, language)
        every = _glyphs.get(key)
        if every is None:
            found, outlines, _ = original(self, font, s, features=features, language=language)
            every = (tuple(found), outlines)
            _kept(_glyphs, key, every)
        info, outlines = every
        known = OrderedDict() if glyph_map is None else glyph_map
        new = OrderedDict() if return_new_glyphs_only else known
        for glyph in info:
            if glyph[0] not in known:
                new[glyph[0]] = outlines[glyph[0]]
        return list(info), new, []

    TextToPath.get_glyphs_with_font = glyphs_with_font  # type: ignore[method-assign]


def svg_path_key(vertices: Any, codes: Any) -> tuple[Any, ...]:
    """What a glyph outline's SVG path data depends on: its vertices and codes (their values,
    types and shapes; the path is converted unclipped, unsimplified, untransformed)."""
    return (
        vertices.dtype.str,
        vertices.shape,
        vertices.tobytes(),
        None if codes is None else (codes.dtype.str, codes.tobytes()),
    )


def _wrap_svg_glyph_defs() -> None:
    """``RendererSVG._update_glyph_map_defs`` (private: the glyphs a file has not defined yet
    written as ``<path>`` definitions, each outline converted to path data): within the block,
    an outline's path data is converted once per process (``svg_path_key``) and written as the
    method writes it. Where this matplotlib's SVG backend lacks the parts it writes through,
    nothing is wrapped."""
    from matplotlib.backends import backend_svg
    from matplotlib.path import Path

    renderer_class: Any = backend_svg.RendererSVG
    original = getattr(renderer_class, "_update_glyph_map_defs", None)
    transform_of = getattr(backend_svg, "_generate_transform", None)
    needed = ("_adjust_glyph_repr", "_convert_path")
    if (
        original is None
        or transform_of is None
        or not all(hasattr(renderer_class, name) for name in needed)
    ):
        return
    scale = transform_of([("scale", (1 / 64,))])  # back from FreeType's units, every glyph

    def update_glyph_map_defs(self: Any, glyph_map_new: Any) -> None:
        if getattr(_state, "rc", None) is None:
            return original(self, glyph_map_new)
        writer = self.writer
        if glyph_map_new:
            writer.start("defs")
            for glyph_repr, (vertices, codes) in glyph_map_new.items():
                key = svg_path_key(vertices, codes)
                path_data = _svg_paths.get(key)
                if path_data is None:
                    # x64 to go back to FreeType's internal (integral) units, as the method
                    path_data = self._convert_path(Path(vertices * 64, codes), simplify=False)
                    _kept(_svg_paths, key, path_data)
                writer.element(
                    "path", id=self._adjust_glyph_repr(glyph_repr), d=path_data, transform=scale
                )
            writer.end("defs")
            self._glyph_map.update(glyph_map_new)
        return None

    renderer_class._update_glyph_map_defs = update_glyph_map_defs


def _wrap_raster_glyphs() -> None:
    """``RendererAgg.draw_text`` for plain text: within the block, a string's glyph positions
    (FreeType's and the text shaper's layout at the font's size and the raster's resolution)
    are found once and handed to the renderer's own glyph drawing, as ``draw_text`` hands
    them. Where the matplotlib version lacks the private parts this uses
    (``_prepare_font``, ``_draw_text_glyphs_and_boxes``, ``FT2Font._layout``), nothing is
    wrapped."""
    from matplotlib.backends import backend_agg
    from matplotlib.ft2font import FT2Font

    renderer_class: Any = backend_agg.RendererAgg
    hinting = getattr(backend_agg, "get_hinting_flag", None)
    needed = ("_prepare_font", "_draw_text_glyphs_and_boxes")
    if (
        hinting is None
        or not hasattr(FT2Font, "_layout")
        or not all(hasattr(renderer_class, name) for name in needed)
    ):
        return
    original = renderer_class.draw_text
    global _glyphs_drawn_here
    _glyphs_drawn_here = _glyph_drawing_available()

    def draw_text(
        self: Any,
        gc: Any,
        x: float,
        y: float,
        s: str,
        prop: Any,
        angle: float,
        ismath: Any = False,
        mtext: Any = None,
    ) -> Any:
        rc = getattr(_state, "rc", None)
        if rc is None or ismath:
            return original(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        font = self._prepare_font(prop)
        flags = hinting()
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        size = prop.get_size_in_points()
        key = raster_glyphs_key(rc, font, size, self.dpi, s, flags, features, language)
        glyphs = _raster_glyphs.get(key)
        if glyphs is None:
            items = font._layout(s, flags=flags, features=features, language=language)
            glyphs = tuple(
                (item.ft_object, size, item.glyph_index, 0, 1, item.x, item.y) for item in items
            )
            _kept(_raster_glyphs, key, glyphs)
        if _glyphs_drawn_here:
            _draw_glyphs(self, gc, x, y, angle, glyphs, rc, flags)
        else:
            self._draw_text_glyphs_and_boxes(gc, x, y, angle, glyphs, [])
        return None

    renderer_class.draw_text = draw_text


def glyph_bitmap_key(
    rc: int,
    font: Any,
    size: float,
    dpi: float,
    matrix: tuple[int, ...],
    flags: Any,
    antialiased: bool,
) -> tuple[Any, ...]:
    """What the bitmaps of a font's glyphs depend on (beyond ``glyph_place_key``): the font,
    its size and the raster's dpi, the rotation (``matrix``), the hinting flags and
    anti-aliasing."""
    return (rc, font, size, dpi, matrix, flags, antialiased)


def glyph_place_key(x: int, y: int, glyph_index: int) -> tuple[int, int, int]:
    """What a glyph's bitmap depends on among those of one ``glyph_bitmap_key``, where ``x``
    and ``y`` are its origin in FreeType's 26.6 fixed point (1/64 px): the glyph and where in
    its pixel the origin falls (``x % 64``, ``y % 64``: FreeType renders a glyph in the pixel
    box around it, so an origin whole pixels away gives the same bitmap that many pixels
    away)."""
    return (x & 63, y & 63, glyph_index)


def _glyph_drawing_available() -> bool:
    """Whether this matplotlib has the private parts ``_draw_glyphs`` draws through (those of
    ``RendererAgg._draw_text_glyphs_and_boxes``, matplotlib 3.11's)."""
    from matplotlib import ft2font

    return all(hasattr(ft2font.FT2Font, name) for name in ("_set_transform", "_render_glyph"))


def _draw_glyphs(
    renderer: Any,
    gc: Any,
    x: float,
    y: float,
    angle: float,
    glyphs: tuple[tuple[Any, ...], ...],
    rc: int,
    flags: Any,
) -> None:
    """A string's glyphs drawn as ``RendererAgg._draw_text_glyphs_and_boxes`` draws them (no
    boxes): each glyph's bitmap rendered by FreeType at its position and blended into the
    image, the same calls with the same numbers, but a bitmap rendered once per process for
    each ``glyph_bitmap_key`` and ``glyph_place_key`` (a demo draws ~7,200 glyphs, ~3,300 of
    them different) and the rotation's matrix computed once per process for each angle, slant
    and extension (``_rotation``). Each font is left set as the method leaves it (its last
    glyph's size and transform)."""
    cos, sin = _cos_sin(angle)
    antialiased = bool(gc.get_antialiased())
    mode = _render_mode(antialiased)
    height = renderer.height
    bottom = int(height)
    dpi = renderer.dpi
    draw = renderer._renderer.draw_text_image
    runs: dict[tuple[Any, ...], tuple[dict[Any, Any], Any]] = {}  # a font's bitmaps, matrix
    last: dict[Any, tuple[float, Any, int, int]] = {}
    place = glyph_place_key
    for font, size, glyph_index, slant, extend, dx, dy in glyphs:  # dy is upwards
        run = runs.get((font, size, slant, extend))
        if run is None:
            matrix, entries = _rotation(angle, slant, extend)
            key = glyph_bitmap_key(rc, font, size, dpi, entries, flags, antialiased)
            bitmaps = _glyph_bitmaps.get(key)
            if bitmaps is None:
                if len(_glyph_bitmaps) >= MAX_ENTRIES:
                    _glyph_bitmaps.clear()
                bitmaps = _glyph_bitmaps[key] = {}
            run = runs[(font, size, slant, extend)] = (bitmaps, matrix)
        bitmaps, matrix = run
        ox = round(0x40 * (x + dx * cos - dy * sin))
        oy = round(0x40 * (height - y + dx * sin + dy * cos))  # FreeType's y is upwards
        at = place(ox, oy, glyph_index)
        bitmap = bitmaps.get(at)
        if bitmap is None:
            font.set_size(size, dpi)
            font._set_transform(matrix, [ox, oy])
            rendered = font._render_glyph(glyph_index, flags, mode)
            buffer = rendered.buffer
            if not antialiased:
                buffer *= 0xFF
            # (bitmap, its left and lower side from the origin's pixel, or where FreeType puts a
            # glyph with no pixels, such as a space: 0, 0 wherever it is)
            moves = bool(buffer.size)
            left, top = rendered.left, rendered.top
            if moves:
                left, top = left - (ox >> 6), top - (oy >> 6)
            bitmap = (buffer, left, top - buffer.shape[0], moves)
            if len(bitmaps) >= MAX_ENTRIES:
                bitmaps.clear()
            bitmaps[at] = bitmap
        last[font] = (size, matrix, ox, oy)
        buffer, left, lower, moves = bitmap
        # draw_text_image's y is downwards and the bitmap's lower side
        if moves:
            draw(buffer, left + (ox >> 6), bottom - lower - (oy >> 6), 0, gc)
        else:
            draw(buffer, left, bottom - lower, 0, gc)
    for font, (size, matrix, ox, oy) in last.items():
        font.set_size(size, dpi)
        font._set_transform(matrix, [ox, oy])


_rotations: dict[tuple[float, float, float], tuple[Any, tuple[int, ...]]] = {}
_render_modes: dict[bool, Any] = {}


def _cos_sin(angle: float) -> tuple[float, float]:
    """The cosine and sine of ``angle`` (degrees)."""
    import math

    radians = math.radians(angle)
    return math.cos(radians), math.sin(radians)


def _rotation(angle: float, slant: float, extend: float) -> tuple[Any, tuple[int, ...]]:
    """The glyph transform FreeType is given (16.16 fixed point, as the renderer works it out)
    for a text's ``angle`` (degrees) and a font's ``slant`` and ``extend``, and its entries as
    a key: worked out once per process for each (it was ~10 us of numpy a string, ~0.01 s of
    the demo's rasters; the matrix is only read)."""
    found = _rotations.get((angle, slant, extend))
    if found is None:
        import numpy as np

        cos, sin = _cos_sin(angle)
        matrix = (
            (0x10000 * np.array([[cos, -sin], [sin, cos]]) @ [[extend, extend * slant], [0, 1]])
            .round()
            .astype(int)
        )
        matrix.setflags(write=False)  # shared by every string drawn at this angle
        found = (matrix, tuple(matrix.ravel().tolist()))
        if len(_rotations) >= MAX_ENTRIES:
            _rotations.clear()
        _rotations[(angle, slant, extend)] = found
    return found


def _render_mode(antialiased: bool) -> Any:
    """FreeType's render mode for anti-aliased glyphs or not (``RenderMode``)."""
    mode = _render_modes.get(antialiased)
    if mode is None:
        from matplotlib.ft2font import RenderMode

        mode = _render_modes[antialiased] = RenderMode.NORMAL if antialiased else RenderMode.MONO
    return mode


def pdf_layout_key(
    rc: int, font: Any, size: float, s: str, features: Any, language: Any
) -> tuple[Any, ...]:
    """What a string's glyph positions in a PDF depend on: the font (its file, fallbacks and
    kerning: one ``FT2Font`` object each), its size (points; the PDF backend sets it at 72
    dpi, unhinted), the string, its font features and language."""
    return (rc, font, size, s, _hashable(features), _hashable(language))


def _wrap_pdf_layout() -> None:
    """The PDF backend's text layout (``RendererPdf.draw_text`` places a string's glyphs
    through ``_text_helpers.layout``: the text shaper's layout and each glyph loaded, ~0.2 ms
    a string, for every text of every PDF): within the block, a string's layout at a font and
    size is found once and given again (each glyph's font, character, index, position and
    kerning, as the shaper gave them); the font is left with the string's last glyph loaded,
    as the layout leaves it. Where this matplotlib's PDF backend lacks these private parts,
    nothing is wrapped."""
    import types

    from matplotlib.backends import backend_pdf
    from matplotlib.ft2font import LoadFlags

    helpers = getattr(backend_pdf, "_text_helpers", None)
    renderer_class: Any = getattr(backend_pdf, "RendererPdf", None)
    if helpers is None or not hasattr(helpers, "layout") or renderer_class is None:
        return
    original_layout = helpers.layout
    original_draw = renderer_class.draw_text

    def draw_text(
        self: Any,
        gc: Any,
        x: float,
        y: float,
        s: str,
        prop: Any,
        angle: float,
        ismath: Any = False,
        mtext: Any = None,
    ) -> Any:
        # the size the backend sets the string's font to (``_get_font_ttf``), for the key
        outer = getattr(_state, "pdf_text", None)
        _state.pdf_text = None if ismath else (s, prop.get_size_in_points())
        try:
            return original_draw(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        finally:
            _state.pdf_text = outer

    def layout(string: str, font: Any, *, features: Any = None, language: Any = None) -> Any:
        rc = getattr(_state, "rc", None)
        text = getattr(_state, "pdf_text", None)
        if rc is None or text is None or text[0] != string:
            return original_layout(string, font, features=features, language=language)
        key = pdf_layout_key(rc, font, text[1], string, features, language)
        items = _pdf_layouts.get(key)
        if items is None:
            items = tuple(original_layout(string, font, features=features, language=language))
            _kept(_pdf_layouts, key, items)
        elif items:
            last = items[-1]
            last.ft_object.load_glyph(last.glyph_index, flags=LoadFlags.NO_HINTING)
        return iter(items)

    backend_pdf._text_helpers = types.SimpleNamespace(  # type: ignore[assignment]
        **{**vars(helpers), "layout": layout}
    )
    renderer_class.draw_text = draw_text


def pdf_charproc_key(rc: int, font_path: Any, glyph_index: int) -> tuple[Any, ...]:
    """What a glyph's Type 3 procedure in a PDF depends on: the font file and the glyph (its
    outline and metrics in the font's own units) and the rcParams the font is opened with."""
    return (rc, font_path, glyph_index)


def _wrap_pdf_charprocs() -> None:
    """The PDF backend's Type 3 glyph procedures (``backend_pdf._get_pdf_charprocs``: each
    glyph of a font that a PDF uses loaded unscaled and its outline written as PDF operators,
    glyph by glyph, for every PDF): within the block, a glyph's procedure is made once per
    process (``pdf_charproc_key``) and given again, the procedures in the order asked for, as
    the function gives them; the font is left with the last glyph asked for loaded, as the
    function leaves it. Where this matplotlib's PDF backend lacks it, nothing is wrapped."""
    from matplotlib.backends import backend_pdf
    from matplotlib.ft2font import LoadFlags

    original = getattr(backend_pdf, "_get_pdf_charprocs", None)
    get_font = getattr(backend_pdf, "get_font", None)
    if original is None or get_font is None:
        return

    def charprocs(font_path: Any, glyph_indices: Any) -> dict[str, bytes]:
        rc = getattr(_state, "rc", None)
        if rc is None:
            return original(font_path, glyph_indices)
        procs: dict[str, bytes] = {}
        last = None
        for glyph_index in glyph_indices:
            key = pdf_charproc_key(rc, font_path, glyph_index)
            found = _pdf_charprocs.get(key)
            if found is None:
                [found] = original(font_path, [glyph_index]).items()
                _kept(_pdf_charprocs, key, found)
                last = None  # the font holds this glyph now
            else:
                last = glyph_index
            name, proc = found
            procs[name] = proc
        if last is not None:
            get_font(font_path).load_glyph(last, LoadFlags.NO_SCALE)
        return procs

    backend_pdf._get_pdf_charprocs = charprocs


@contextmanager
def measured_once() -> Iterator[None]:
    """Within the block (in this thread), a text is measured and a font looked up once per
    process (see the module docstring); the rcParams are those in force when it is entered."""
    _wrap()
    outer = getattr(_state, "rc", None)
    rc = _rc_key()
    # the keys hold a small number standing for the rcParams' values (a tuple of 19 values,
    # font lists among them, hashed at every look-up otherwise)
    _state.rc = _rc_numbers.setdefault(rc, len(_rc_numbers))
    try:
        yield
    finally:
        _state.rc = outer
