"""Figures with matplotlib (Agg): Kaplan-Meier curves with numbers at risk, cumulative
incidence curves (competing risks) and the flow chart.

Every figure is drawn from plain result dicts and returned as SVG and 300 dpi PNG bytes. Output
is byte-for-byte reproducible: a fixed ``svg.hashsalt``, no creation date in the metadata (and
``SOURCE_DATE_EPOCH`` honoured by matplotlib), fonts as paths. Lines differ by style as well as
grey level, so curves stay distinguishable when printed in black and white.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from rtoutcomes.results.model import IncidenceCurve as IncidenceSteps
    from rtoutcomes.results.model import KMCurve

MM_PER_INCH = 25.4
DPI = 300
LINE_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
GREYS = ("0.0", "0.45", "0.0", "0.3", "0.55", "0.2")
LEFT = 0.24  # left margin (figure fraction): room for the risk table's row labels
RC: dict[Any, Any] = {
    "svg.hashsalt": "rtoutcomes",
    "svg.fonttype": "path",
    "font.size": 7,
    "axes.titlesize": 8,
    "axes.labelsize": 7,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}


@dataclass(frozen=True)
class Rendered:
    """A figure in both formats."""

    svg: bytes
    png: bytes


@dataclass(frozen=True)
class Curve:
    """One KM curve: its label and the ``km`` dict of results.json (steps at every time)."""

    label: str
    km: KMCurve
    n: int


def _pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported late: the CLI stays light)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _render(fig: Figure) -> Rendered:
    import matplotlib.pyplot as plt

    svg, png = io.BytesIO(), io.BytesIO()
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": "rtoutcomes"})
    fig.savefig(png, format="png", dpi=DPI, metadata={"Software": "rtoutcomes"})
    plt.close(fig)
    return Rendered(svg=svg.getvalue(), png=png.getvalue())


def _steps(curve: Curve) -> tuple[list[float], list[float]]:
    """Step-function vertices starting at (0, 1)."""
    xs, ys = [0.0], [1.0]
    for t, s in zip(curve.km["time"], curve.km["estimate"], strict=True):
        if s is None:
            continue
        xs += [t, t]
        ys += [ys[-1], s]
    return xs, ys


def at_risk(curve: Curve, times: Sequence[float]) -> list[int]:
    """Number at risk at each time: rows still followed (time >= t), as R's ``summary``."""
    steps = list(zip(curve.km["time"], curve.km["n_risk"], strict=True))
    counts = []
    for t in times:
        later = [n for (u, n) in steps if u >= t]
        counts.append(later[0] if later else 0)
    return counts


def _ticks(max_time: float, unit: str) -> list[float]:
    step_choices = (3, 6, 12, 24, 36, 60) if unit == "months" else (30, 90, 180, 365, 730)
    for step in step_choices:
        if max_time / step <= 8:
            break
    ticks = [0.0]
    while ticks[-1] < max_time:
        ticks.append(ticks[-1] + step)
    return ticks


def km_figure(
    curves: Sequence[Curve],
    *,
    title: str,
    time_unit: str,
    ylabel: str,
    p_text: str | None = None,
    width_mm: int = 85,
    legend_title: str | None = None,
) -> Rendered:
    """Kaplan-Meier curves with censor marks, a numbers-at-risk table and the log-rank p."""
    plt = _pyplot()
    with plt.rc_context(RC):
        width = width_mm / MM_PER_INCH
        risk_rows = len(curves)
        height = width * 0.72 + (0.16 * (risk_rows + 1) + 0.2)
        fig = plt.figure(figsize=(width, height))
        risk_share = (0.16 * (risk_rows + 1) + 0.2) / height
        ax = fig.add_axes((LEFT, risk_share + 0.11, 0.95 - LEFT, 0.84 - risk_share - 0.11 + 0.05))
        max_time = max([max(c.km["time"], default=0.0) for c in curves] + [1.0])
        ticks = _ticks(max_time, time_unit)
        for i, curve in enumerate(curves):
            _draw_curve(ax, curve, i, show_label=len(curves) > 1)
        _finish_axes(ax, ticks, time_unit=time_unit, ylabel=ylabel, title=title,
                     legend=len(curves) > 1, legend_title=legend_title, p_text=p_text,
                     corner="upper right")
        _risk_table(fig, curves, ticks, risk_share)
        return _render(fig)


def _finish_axes(
    ax: Axes,
    ticks: list[float],
    *,
    time_unit: str,
    ylabel: str,
    title: str,
    legend: bool,
    legend_title: str | None,
    p_text: str | None,
    corner: Literal["upper right", "upper left"],
) -> None:
    """Axes, percent scale, title, legend and the test's p: the same on every survival figure."""
    ax.set_xlim(0, ticks[-1])
    ax.set_ylim(0, 1.02)
    ax.set_xticks(ticks)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels(["0", "25", "50", "75", "100"])
    ax.set_xlabel(f"Time ({time_unit})")
    ax.set_ylabel(f"{ylabel} (%)")
    ax.set_title(title, loc="left")
    if legend:
        ax.legend(loc=corner, frameon=False, title=legend_title, handlelength=2.6)
    if p_text:
        # away from the legend and, mostly, from the curves: lower left under falling survival
        # curves, upper right above rising incidence curves (their legend is upper left)
        x, y, ha, va = (0.97, 0.97, "right", "top") if corner == "upper left" else (
            0.03, 0.04, "left", "bottom")
        ax.text(x, y, p_text, transform=ax.transAxes, ha=ha, va=va, zorder=5,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})


@dataclass(frozen=True)
class IncidenceCurve:
    """One cumulative incidence curve: label, n and the ``curve`` dict of results.json.

    ``curve`` holds the jumps (time, estimate); ``end`` is the last follow-up (the curve is drawn
    flat up to it).
    """

    label: str
    curve: IncidenceSteps
    n: int | None  # None: curves of one population (causes), the caption gives n


def incidence_figure(
    curves: Sequence[IncidenceCurve],
    *,
    title: str,
    time_unit: str,
    ylabel: str,
    p_text: str | None = None,
    width_mm: int = 85,
    legend_title: str | None = None,
) -> Rendered:
    """Cumulative incidence step curves rising from 0 (competing risks), in the KM style."""
    plt = _pyplot()
    with plt.rc_context(RC):
        width = width_mm / MM_PER_INCH
        fig = plt.figure(figsize=(width, width * 0.72 + 0.2))
        ax = fig.add_axes((LEFT, 0.16, 0.95 - LEFT, 0.74))
        ends = [c.curve.get("end") or max(c.curve["time"], default=0.0) for c in curves]
        ticks = _ticks(max([*ends, 1.0]), time_unit)
        for i, (curve, end) in enumerate(zip(curves, ends, strict=True)):
            xs, ys = [0.0], [0.0]
            for t, f in zip(curve.curve["time"], curve.curve["estimate"], strict=True):
                if f is not None:
                    xs += [t, t]
                    ys += [ys[-1], f]
            xs.append(max(end, xs[-1]))
            ys.append(ys[-1])
            ax.plot(xs, ys, linestyle=LINE_STYLES[i % len(LINE_STYLES)],
                    color=GREYS[i % len(GREYS)], linewidth=1.0,
                    label=curve.label if curve.n is None else f"{curve.label} (n={curve.n})",
                    solid_joinstyle="miter")
        _finish_axes(ax, ticks, time_unit=time_unit, ylabel=ylabel, title=title, legend=True,
                     legend_title=legend_title, p_text=p_text, corner="upper left")
        return _render(fig)


def _draw_curve(ax: Axes, curve: Curve, index: int, *, show_label: bool) -> None:
    style = LINE_STYLES[index % len(LINE_STYLES)]
    grey = GREYS[index % len(GREYS)]
    xs, ys = _steps(curve)
    label = f"{curve.label} (n={curve.n})" if show_label else None
    ax.plot(
        xs,
        ys,
        linestyle=style,
        color=grey,
        linewidth=1.0,
        label=label,
        drawstyle="default",
        solid_joinstyle="miter",
    )
    censor_t = [t for t, c in zip(curve.km["time"], curve.km["n_censor"], strict=True) if c > 0]
    censor_s = [s for s, c in zip(curve.km["estimate"], curve.km["n_censor"], strict=True) if c > 0]
    ax.plot(
        censor_t,
        censor_s,
        linestyle="none",
        marker="|",
        markersize=4,
        color=grey,
        markeredgewidth=0.8,
    )


def _risk_table(fig: Figure, curves: Sequence[Curve], ticks: list[float], share: float) -> None:
    ax = fig.add_axes((LEFT, 0.02, 0.95 - LEFT, share - 0.02))
    ax.set_xlim(0, ticks[-1])
    ax.set_ylim(-0.5, len(curves) + 0.5)
    ax.axis("off")
    ax.text(
        -0.03,
        len(curves),
        "No. at risk",
        transform=ax.get_yaxis_transform(),
        ha="right",
        va="center",
        fontweight="bold",
        fontsize=6.5,
    )
    for row, curve in enumerate(curves):
        y = len(curves) - 1 - row
        name = curve.label if len(curves) > 1 else "All"
        # labels right-aligned in the left margin, clear of the count at time 0
        ax.text(-0.03, y, name[:18], transform=ax.get_yaxis_transform(), ha="right",
                va="center", fontsize=5.5)
        for t, n in zip(ticks, at_risk(curve, ticks), strict=True):
            ax.text(t, y, str(n), ha="center", va="center", fontsize=6)


def flow_chart(
    screened: int, excluded: dict[str, int], enrolled: int, lesions: int, *, width_mm: int = 85
) -> Rendered:
    """Screened -> excluded (by reason) -> enrolled patients -> treated lesions."""
    plt = _pyplot()
    with plt.rc_context(RC):
        width = width_mm / MM_PER_INCH
        fig = plt.figure(figsize=(width, width * 1.05))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        box = {
            "boxstyle": "square,pad=0.4",
            "facecolor": "white",
            "edgecolor": "black",
            "linewidth": 0.8,
        }
        main_x = 0.24
        levels = [
            (0.9, f"Patients screened\n(n = {screened})"),
            (0.45, f"Patients enrolled\n(n = {enrolled})"),
            (0.12, f"Lesions treated with SBRT\n(n = {lesions})"),
        ]
        for y, text in levels:
            ax.text(main_x, y, text, ha="center", va="center", bbox=box, fontsize=6.5)
        arrow = {"arrowstyle": "-|>", "color": "black", "linewidth": 0.8}
        ax.annotate("", xy=(main_x, 0.52), xytext=(main_x, 0.83), arrowprops=arrow)
        ax.annotate("", xy=(main_x, 0.19), xytext=(main_x, 0.38), arrowprops=arrow)
        total = sum(excluded.values())
        reasons = "\n".join(
            textwrap.fill(f"{reason}: {n}", 30, subsequent_indent="  ")
            for reason, n in excluded.items()
        )
        ax.annotate("", xy=(0.47, 0.675), xytext=(main_x, 0.675), arrowprops=arrow)
        ax.text(
            0.49,
            0.675,
            f"Excluded (n = {total})\n{reasons}",
            ha="left",
            va="center",
            bbox=box,
            fontsize=5.5,
        )
        return _render(fig)
