"""Text measured once per process while the report's figures are drawn, not once per file.

matplotlib keeps a text's measurement (width, height, descent) per *renderer*, and each figure
and each format of a figure gets a renderer of its own: the tick labels, numbers at risk and
legend entries that recur in the report's figures are measured again for every file (~2,000
FreeType layouts for the demo's 29 figures). Each measurement, each drawn text and each text's
line height first looks its font file up by its properties (~10,000 look-ups, each re-reading
eleven rcParams). Together that is ~10-15 % of drawing the figures.

Within ``measured_once()`` (entered by ``figures.rc_context``, so around every figure the report
draws) both are kept for the process:

- a measurement, keyed as matplotlib keys its own per-renderer cache (the text, its font
  properties, math or not, the figure's dpi) plus the renderer's class and resolution and those
  of the renderer it draws through, which are all it depends on;
- a font look-up, keyed by the font properties and the look-up's arguments.

Both are also keyed by the rcParams they read (fonts, hinting, kerning), taken when the block is
entered. The values are the renderer's own, computed the first time, so every figure is the same
bytes as without the cache (tests/test_report_figures.py, with a negative control: a key without
the inner renderer's class, which once slipped in, gives the PDF files the SVG's measurements).

matplotlib's hooks for this are private (``matplotlib.text._get_text_metrics_with_cache``, the
font manager's ``_find_fonts_by_props``, both looked up at each call): they are wrapped once, the
wrappers pass straight through outside the block (and in other threads), and where a matplotlib
version lacks them nothing is wrapped.
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

_state = threading.local()  # .rc: the active block's rcParams, in this thread
_lock = threading.Lock()
_wrapped = False
_metrics: dict[tuple[Any, ...], Any] = {}
_fonts: dict[tuple[Any, ...], Any] = {}


def _rc_key() -> tuple[Any, ...]:
    import matplotlib as mpl

    params: Any = mpl.rcParams  # keys as strings (its stubs list the literal names)
    values = (params[name] for name in RC_READ)
    rc = tuple(tuple(v) if isinstance(v, list) else v for v in values)
    return (*rc, os.environ.get("MPL_IGNORE_SYSTEM_FONTS"))


def metrics_key(rc: tuple[Any, ...], renderer: Any, *args: Any) -> tuple[Any, ...]:
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


def _frozen(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """``key`` with its font properties copied (the caller's may change after)."""
    return tuple(k.copy() if hasattr(k, "get_size_in_points") else k for k in key)


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
                key = metrics_key(rc, renderer, text, fontprop, ismath, dpi)
                found = _metrics.get(key)
                if found is None:
                    found = original_measure(renderer, text, fontprop, ismath, dpi)
                    if len(_metrics) >= MAX_ENTRIES:
                        _metrics.clear()
                    _metrics[_frozen(key)] = found
                return found

            setattr(mtext, "_get_text_metrics_with_cache", measured)  # noqa: B010 (private)
        if find is not None:
            original_find = find

            def found_fonts(prop: Any, *args: Any, **kwargs: Any) -> Any:
                rc = getattr(_state, "rc", None)
                if rc is None:
                    return original_find(prop, *args, **kwargs)
                key = (rc, prop, args, tuple(sorted(kwargs.items())))
                found = _fonts.get(key)
                if found is None:
                    found = original_find(prop, *args, **kwargs)
                    if len(_fonts) >= MAX_ENTRIES:
                        _fonts.clear()
                    _fonts[_frozen(key)] = found
                return list(found)  # a list of its own, as each look-up gives

            manager._find_fonts_by_props = found_fonts  # type: ignore[method-assign]


@contextmanager
def measured_once() -> Iterator[None]:
    """Within the block (in this thread), a text is measured and a font looked up once per
    process (see the module docstring); the rcParams are those in force when it is entered."""
    _wrap()
    outer = getattr(_state, "rc", None)
    _state.rc = _rc_key()
    try:
        yield
    finally:
        _state.rc = outer
