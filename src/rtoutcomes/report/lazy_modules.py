"""Modules that the plotting libraries import when imported but the report's figures never use,
registered so that they are executed only if used.

matplotlib's PDF backend imports fontTools' font subsetter (``fontTools.subset``, with its
OpenType tables: ~0.06 CPU s, a sixth of what a report process imports) when it is imported,
but uses it only to subset Type 42 fonts. The report's PDFs embed Type 3 fonts (``figures.RC``:
``pdf.fonttype`` 3), so the subsetter is never used there. ``defer_unused()``, called by a
process before it imports the backends, registers such modules with Python's
``importlib.util.LazyLoader``: ``import fontTools.subset`` and ``from fontTools import subset``
succeed at once, and the module's code runs at the first use of one of its attributes, as it
would have run at the import (a Type 42 PDF drawn after ``defer_unused()`` is the same bytes as
one drawn without it; tests/test_report_lazy_modules.py).
"""

from __future__ import annotations

import importlib.util
import sys

# imported by matplotlib's backends when imported, used by no figure of the report
UNUSED_BY_FIGURES = ("fontTools.subset",)  # (_backend_pdf_ps: Type 42 font subsetting only)


def defer(name: str) -> bool:
    """The module ``name`` registered to run its code at its first attribute use (its parent
    package is imported now); False, and nothing done, if it is imported already or is not
    installed."""
    if name in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:
        return False
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return False
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)  # (the lazy loader runs nothing until first use)
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system binds a submodule in its package
        setattr(sys.modules[parent], child, module)
    return True


def defer_unused() -> None:
    """Every module of ``UNUSED_BY_FIGURES`` not yet imported deferred (``defer``)."""
    for name in UNUSED_BY_FIGURES:
        defer(name)
