"""Python's cycle collector paused for a block: the one way every layer does it.

The commands make objects by the hundred thousand that live until they end (imported modules,
a registry's cells and audit texts, matplotlib's artists) and form few cycles; while they are
made, the collector traverses them again and again (10-20 % of an import's or a figure's CPU).
Reference counting still frees whatever is dropped; cycles made meanwhile wait for the next
collection. Each caller says why it pauses, and what it does when the block ends (freeze,
collect), next to the call.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off in the block, and back on afterwards if it was on (a block
    inside another paused block leaves it paused)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
