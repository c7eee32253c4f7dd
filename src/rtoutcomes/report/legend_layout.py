"""A legend's boxes laid out once per drawing, not once per level of its boxes.

matplotlib lays a legend out from nested boxes (``matplotlib.offsetbox``: a column of rows, each
a handle beside a text, under the title). Drawing it, each box works out its own size from its
children's sizes (``OffsetBox.get_bbox``) and then draws its children, each of which works its
children's sizes out again: a legend's leaves are measured once per level above them, for its
extent and again for drawing (~0.1-0.15 CPU s of the demo's 64 legend drawings). Within
``Legend.draw`` nothing changes a box's size (drawing only moves the boxes), so here each box's
size is worked out once per ``Legend.draw`` call and renderer, by matplotlib's own code, and
given again to the later asks of that call: the same numbers, the same files
(tests/test_report_figures.py; its negative control keeps the sizes across drawings, so that
the SVG and PDF get the PNG's, and the files change).

Only within ``laid_out_once()`` (entered by ``figures.rc_context``, around every figure the
report draws) and in the thread that entered it; elsewhere the wrappers pass straight through.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_state = threading.local()  # .active: inside the block; .sizes: the legend drawing's sizes
_lock = threading.Lock()
_wrapped: list[bool] = []  # [True] once the methods are wrapped


def size_key(get_bbox: Any, box: Any, renderer: Any) -> tuple[Any, ...]:
    """What a box's size is kept by within one ``Legend.draw``: the method that works it out
    (a subclass' may call its base class'), the box and the renderer."""
    return (get_bbox, id(box), id(renderer))


def _wrap() -> None:
    """matplotlib's methods wrapped, once per process."""
    with _lock:
        if not _wrapped:
            _wrap_legend()
            _wrapped.append(True)


def _wrap_legend() -> None:
    """``Legend.draw`` and each ``OffsetBox.get_bbox`` wrapped (see the module docstring)."""
    from matplotlib.legend import Legend
    from matplotlib.offsetbox import OffsetBox

    draw: Callable[..., Any] = Legend.draw

    @functools.wraps(draw)  # (with its marks, such as matplotlib's rasterization support)
    def drawn(legend: Any, renderer: Any) -> Any:
        if not getattr(_state, "active", False):
            return draw(legend, renderer)
        outer = getattr(_state, "sizes", None)
        _state.sizes = {}
        try:
            return draw(legend, renderer)
        finally:
            _state.sizes = outer

    # OffsetBox's get_bbox and each subclass' own (a text's, a handle's drawing area's)
    for cls in (OffsetBox, *_subclasses(OffsetBox)):
        own = cls.__dict__.get("get_bbox")
        if own is not None:
            setattr(cls, "get_bbox", _sized_with(own))  # noqa: B010
    setattr(Legend, "draw", drawn)  # noqa: B010


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def _sized_with(get_bbox: Callable[..., Any]) -> Callable[..., Any]:
    """``get_bbox``, its result kept within a ``Legend.draw`` (with the box and renderer, so
    that their ids stay theirs until the drawing ends)."""

    @functools.wraps(get_bbox)
    def sized(box: Any, renderer: Any) -> Any:
        sizes = getattr(_state, "sizes", None)
        if sizes is None:
            return get_bbox(box, renderer)
        key = size_key(get_bbox, box, renderer)
        found = sizes.get(key)
        if found is None:
            found = sizes[key] = (get_bbox(box, renderer), box, renderer)
        return found[0]

    return sized


@contextmanager
def laid_out_once() -> Iterator[None]:
    """Within the block (in this thread), a legend's boxes are sized once per drawing."""
    _wrap()
    outer = getattr(_state, "active", False)
    _state.active = True
    try:
        yield
    finally:
        _state.active = outer
