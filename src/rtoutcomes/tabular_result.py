"""The base of every result object (statistics and clinical rules): tabular view, text, HTML.

Every view is bounded: ``repr()`` is one line, ``str()`` and the Jupyter HTML show at most
``MAX_ROWS`` rows of the table (head and tail, as pandas truncates), so a curve with 1e5 times
prints a screenful and renders a few kB of HTML, not megabytes.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

MAX_ROWS = 20


class TabularResult:
    """Base for results: subclasses implement ``to_frame``; text and HTML render from it.

    ``_headline()`` gives the one-line facts (n, events...) shown by ``repr`` and above the
    table. pandas is imported only when a frame is asked for, so ``import rtoutcomes.stats``
    stays as light as numpy and scipy.
    """

    def to_frame(self) -> pd.DataFrame:
        raise NotImplementedError(f"{type(self).__name__} must implement to_frame()")

    def _headline(self) -> str:
        return ""

    def __repr__(self) -> str:
        headline = self._headline()
        return f"<{type(self).__name__}{': ' + headline if headline else ''}>"

    def summary(self) -> str:
        """The headline facts and the (bounded) table as text; ``print(result)`` shows it."""
        headline = self._headline()
        table = self.to_frame().to_string(max_rows=MAX_ROWS, float_format=lambda v: f"{v:.6g}")
        return f"{type(self).__name__}{': ' + headline if headline else ''}\n{table}"

    def _repr_html_(self) -> str:
        table: str = self.to_frame().to_html(max_rows=MAX_ROWS, float_format=lambda v: f"{v:.6g}")
        headline = html.escape(self._headline())
        return (
            f"<div><strong>{type(self).__name__}</strong>"
            f"{' ' + headline if headline else ''}{table}</div>"
        )

    def __str__(self) -> str:
        return self.summary()
