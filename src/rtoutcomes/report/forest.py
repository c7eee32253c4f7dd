"""Forest plot of a Cox model: hazard ratio with its limits on a log axis, one row per term,
reference levels shown (HR 1, no interval), events per level when the study grouped by the
covariate. Text columns left (variable, level, n / events) and right (HR (95% CI), p) of the
plot, in inches so that nothing depends on the labels' lengths."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rtoutcomes.report import fmt
from rtoutcomes.report.figures import MM_PER_INCH, SMALL_PT, new_figure, rc_context

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ROW_IN = 0.17


@dataclass(frozen=True)
class ForestRow:
    """One row: a covariate heading (``heading``), a reference level or a term with its HR."""

    label: str
    counts: str = ""
    hr: float | None = None
    lower: float | None = None
    upper: float | None = None
    p: float | None = None
    heading: bool = False
    reference: bool = False


def _text_width_in(fig: Figure, texts: Sequence[str], bold: bool = False) -> float:
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    probe = fig.text(0, 0, "", fontsize=SMALL_PT, fontweight="bold" if bold else "normal")
    widest = 0.0
    for text in texts:
        probe.set_text(text)
        widest = max(widest, probe.get_window_extent(renderer).width / fig.dpi)
    probe.remove()
    return widest


def forest_figure(
    rows: Sequence[ForestRow],
    *,
    title: str,
    width_mm: float = 174,
    counts_header: str = "n / events",
) -> Figure:
    """The forest plot as a matplotlib figure (``figures.render`` writes it)."""
    with rc_context():
        width = width_mm / MM_PER_INCH
        height = 0.55 + ROW_IN * (len(rows) + 1) + 0.35
        fig = new_figure(width, height)
        label_w = max(
            _text_width_in(fig, [r.label for r in rows if not r.heading]) + 0.12,
            _text_width_in(fig, [r.label for r in rows if r.heading], True),
        )
        counts_w = _text_width_in(fig, [counts_header, *(r.counts for r in rows)]) + 0.15
        right_texts = [_hr_text(r) for r in rows]
        hr_w = _text_width_in(fig, ["HR (95% CI)", *right_texts]) + 0.15
        p_w = _text_width_in(fig, ["p", "<0.001"]) + 0.1
        left = 0.08 + label_w + 0.1 + counts_w
        plot_w = width - left - hr_w - p_w - 0.15
        bottom, top = 0.4, height - 0.45
        ax = fig.add_axes((left / width, bottom / height, plot_w / width, (top - bottom) / height))
        n = len(rows)
        ax.set_ylim(n - 0.5, -0.5)
        finite = [
            v
            for r in rows
            for v in (r.lower, r.upper, r.hr)
            if v is not None and math.isfinite(v) and v > 0
        ]
        lo, hi = min([*finite, 1.0]), max([*finite, 1.0])
        ax.set_xscale("log")
        ax.set_xlim(lo / 1.25, hi * 1.25)
        ax.axvline(1.0, color="0.5", linewidth=0.6, linestyle=(0, (3, 2)))
        for i, r in enumerate(rows):
            if r.reference:
                ax.plot(
                    [1.0],
                    [i],
                    marker="D",
                    markersize=3,
                    markerfacecolor="white",
                    markeredgecolor="black",
                    markeredgewidth=0.7,
                    linestyle="none",
                )
            elif r.hr is not None and math.isfinite(r.hr) and r.hr > 0:
                if r.lower is not None and r.upper is not None:
                    ax.plot(
                        [max(r.lower, lo / 1.25), min(r.upper, hi * 1.25)],
                        [i, i],
                        color="black",
                        linewidth=0.9,
                        solid_capstyle="butt",
                    )
                ax.plot([r.hr], [i], marker="s", markersize=3.5, color="black", linestyle="none")
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("Hazard ratio (log scale)", labelpad=2)
        ticks = [
            t
            for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
            if lo / 1.25 <= t <= hi * 1.25
        ]
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.minorticks_off()

        def y_of(i: float) -> float:
            return (top - (i + 0.5) * (top - bottom) / n) / height

        header_y = (top + 0.12) / height
        columns = (
            (0.08, "left", "Variable"),
            (left - 0.1, "right", counts_header),
            (left + plot_w + 0.1, "left", "HR (95% CI)"),
            (width - 0.08, "right", "p"),
        )
        for x, ha, text in columns:
            fig.text(
                x / width, header_y, text, ha=ha, va="bottom", fontsize=SMALL_PT, fontweight="bold"
            )
        for i, r in enumerate(rows):
            y = y_of(i)
            fig.text(
                (0.08 + (0 if r.heading else 0.12)) / width,
                y,
                r.label,
                ha="left",
                va="center",
                fontsize=SMALL_PT,
                fontweight="bold" if r.heading else "normal",
            )
            if r.counts:
                fig.text(
                    (left - 0.1) / width, y, r.counts, ha="right", va="center", fontsize=SMALL_PT
                )
            if right_texts[i]:
                fig.text(
                    (left + plot_w + 0.1) / width,
                    y,
                    right_texts[i],
                    ha="left",
                    va="center",
                    fontsize=SMALL_PT,
                )
            if r.p is not None and not r.reference:
                fig.text(
                    (width - 0.08) / width,
                    y,
                    fmt.p_value(r.p),
                    ha="right",
                    va="center",
                    fontsize=SMALL_PT,
                )
        fig.text(0.08 / width, (height - 0.08) / height, title, ha="left", va="top", fontsize=7.5)
        return fig


def _hr_text(row: ForestRow) -> str:
    if row.heading:
        return ""
    if row.reference:
        return "1 (reference)"
    if row.hr is None or not math.isfinite(row.hr):
        return "not estimable"
    return fmt.ratio_with_limits(row.hr, row.lower, row.upper, 2)
