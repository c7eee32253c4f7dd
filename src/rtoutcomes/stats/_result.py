"""The small result objects every estimator returns: tabular view, text and HTML repr."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class TabularResult:
    """Base for results: subclasses implement ``to_frame``; text and HTML render from it.

    pandas is imported only when a frame is asked for, so ``import rtoutcomes.stats`` stays
    as light as numpy and scipy.
    """

    def to_frame(self) -> pd.DataFrame:
        raise NotImplementedError(f"{type(self).__name__} must implement to_frame()")

    def _repr_html_(self) -> str:
        html: str = self.to_frame().to_html(float_format=lambda v: f"{v:.6g}")
        return f"<div><strong>{type(self).__name__}</strong>{html}</div>"

    def __str__(self) -> str:
        return f"{type(self).__name__}\n{self.to_frame().to_string()}"
