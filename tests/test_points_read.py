"""``figure_layout.PointsRead``: a panel's legend and label read the data's points once, and
anew whenever what they read may differ (limits, skipped data). Placements are the same as
with a read each time (negative control: a read that never reads anew misplaces a label once
the limits change)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rtoutcomes.report import figure_layout, figures
from rtoutcomes.report.figures import Axis, Curve, Panel, Style, survival_figure
from rtoutcomes.study.spec import KMOptions
from rtoutcomes.study.summaries import km_summary

P_TEXT = "Log-rank p = 0.02"


def _figure(rows: int, scale: float, bands: bool = False) -> Any:
    curves = []
    for g in range(3):
        rng = np.random.default_rng(g + 1)
        event = rng.weibull(1.0, rows) * scale * (g + 1)
        censor = rng.uniform(0.0, 60.0, rows)
        km = km_summary(np.minimum(event, censor), (event <= censor).astype(float), KMOptions(), ())
        curves.append(Curve(f"Grade {g + 1}", dict(km["km"]), rows))
    panel = Panel(curves, "by grade", "Overall survival", P_TEXT, "Grade")
    return survival_figure([panel], Axis("months"), Style(bands=bands))


class Stale(figure_layout.PointsRead):
    """Negative control: never reads anew."""

    def __call__(self, ax: Any, skip: Any = ()) -> Any:
        if self._points is None:
            self._points = figure_layout.data_points(ax, skip)
        return self._points


def _placed(fig: Any) -> tuple[Any, ...]:
    ax = fig.axes[0]
    legend = ax.get_legend()
    label = next(t for t in ax.texts if t.get_text() == P_TEXT)
    return (legend._loc, legend.get_bbox_to_anchor().bounds, label.get_position(), ax.get_ylim())


def test_read_once_while_the_same() -> None:
    fig = _figure(3000, 20.0)
    ax = fig.axes[0]
    read = figure_layout.PointsRead()
    with figures.rc_context():
        first = read(ax, [ax.get_legend()])
        assert read(ax, [ax.texts[0]]) is first  # other boxes, not data: the same points
        assert np.array_equal(first, figure_layout.data_points(ax))
        curve = ax.get_lines()[0]
        skipped = read(ax, [curve])  # a curve skipped: read anew, without it
        assert skipped is not first and len(skipped) < len(first)
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top * 1.5)
        try:
            again = read(ax, [])  # new limits: read anew
            assert again is not first and not np.array_equal(again, first)
            assert np.array_equal(again, figure_layout.data_points(ax))
        finally:
            ax.set_ylim(bottom, top)


@pytest.mark.parametrize("rows,scale,bands", [(3000, 20.0, False), (30000, 400.0, True)])
def test_placed_as_with_a_read_each_time(
    rows: int, scale: float, bands: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = _placed(_figure(rows, scale, bands))
    monkeypatch.setattr(figure_layout, "PointsRead", lambda: figure_layout.data_points)
    assert shared == _placed(_figure(rows, scale, bands))


def _headroom_needed(read: Any) -> tuple[bool, tuple[float, float]]:
    """A label placed over lines that fill the axes: clear only once headroom is added above
    the data (the limits change between reads)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for y in np.linspace(0.0, 1.0, 41):
        ax.plot([0.0, 1.0], [y, y], color="black")
    ax.set_ylim(0.0, 1.0)
    label = ax.text(0.5, 0.5, P_TEXT, transform=ax.transAxes)

    def move(x: float, y: float) -> None:
        ha, va = figure_layout.alignment(x, y)
        label.set_position((x, y))
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)

    clear = figure_layout.place_clear(ax, label, move, read=read)
    return clear, ax.get_ylim()


def test_headroom_read_anew() -> None:
    """Negative control: a read that never reads anew does not see the data move down."""
    clear, limits = _headroom_needed(figure_layout.PointsRead())
    assert clear and limits == _headroom_needed(figure_layout.data_points)[1]
    assert limits[1] > 1.0
    stale_clear, stale_limits = _headroom_needed(Stale())
    assert (stale_clear, stale_limits) != (clear, limits)
