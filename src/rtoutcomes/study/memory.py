"""glibc's allocator set for one batch command on a large table: freed memory kept for reuse.

By default glibc hands each allocation above a (self-adjusting) threshold its own ``mmap`` and
gives freed memory at the top of the heap back to the system. ``analyze`` on a million rows
allocates and frees arrays of a few to tens of MB by the hundred (numpy temporaries), so every
one of them was faulted in page by page again: ~1.8 of its ~8 CPU s were the kernel's (system
time), most of it zeroing those pages. With arrays up to
32 MB (where glibc's own sliding threshold stops) taken
from the heap and the heap never trimmed, the freed pages are reused: system time ~1.0 s, the
same peak memory (docs/performance.md). The numbers are the same bits either way.

Only for a command's short-lived process (``rtoutcomes analyze``), not the web app: a
long-running process should give memory back.

``imported_uncollected``: the libraries' imports with Python's cycle collector paused.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
from collections.abc import Iterable

from rtoutcomes.collector import collector_paused

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # the most glibc's own sliding threshold reaches (64-bit)
TRIM_THRESHOLD = 2**31 - 1  # never trim


def keep_freed_memory() -> bool:
    """Set glibc's thresholds as above; ``False`` where there is no glibc (nothing changed)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import os

    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False  # e.g. musl, whose mallopt does nothing
    except (ValueError, OSError):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def imported_uncollected(names: Iterable[str], *, freeze: bool = False) -> None:
    """Import the modules ``names`` (those missing are left to the code that needs them) with
    Python's cycle collector paused, then switched back on if it was on.

    An import makes tens of thousands of objects that live as long as the process (functions,
    classes, their dicts), and while it runs the collector traverses them again and again:
    ~10-15 % of the CPU of importing pandas (~0.05 s) and of the report's matplotlib, backends
    and python-docx (~0.1 s). Reference counting still frees what is dropped; cycles made
    meanwhile wait for the next collection. ``freeze``: the objects alive afterwards are
    moved out of the collector's reach for good (``gc.freeze``), for a short-lived process
    (the report process, whose forked figure workers then never traverse them either)."""
    with collector_paused():
        try:
            for name in names:
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)
        finally:
            if freeze:
                gc.freeze()
