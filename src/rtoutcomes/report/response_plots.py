"""Waterfall plot of each lesion's best change of the longest diameter, and swimmer plot of each
lesion's course from SBRT start. Greyscale: response categories differ by fill and hatch, events
by marker shape; legends are placed where no bar or marker is (``figure_layout.place_clear``).

At registry scale (thousands of lesions) one lane per lesion would make the swimmer plot metres
tall and unreadable: it draws at most ``max_lanes`` lanes (the study file's
``figures.swimmer_lanes``, default ``SWIMMER_LANES``), chosen evenly through the lesions in order
of follow-up (``swimmer_selection``); results.json (``cohort.swimmer``) and
analysis/swimmer.csv keep every lane. The waterfall keeps every bar; beyond
``OUTLINED_BARS`` bars (narrower than their own outline) they are drawn without outlines as one
collection per response category instead of one patch each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rtoutcomes.report.figure_layout import alignment, place_clear
from rtoutcomes.report.figures import MM_PER_INCH, SMALL_PT, Axis, new_figure, rc_context, ticks
from rtoutcomes.results.model import LesionResponse, Results, SwimmerLane

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

# response category -> (fill grey, hatch)
RESPONSE_STYLE = {
    "CR": ("0.0", ""),
    "PR": ("0.35", ""),
    "SD": ("0.7", ""),
    "PD": ("white", "////"),
    "NE": ("white", ""),
}
PD_LINE_PCT = 20.0
PR_LINE_PCT = -30.0
OUTLINED_BARS = 200
"""Up to this many bars the waterfall draws each with a black outline; beyond it (bars under
~0.3 mm at 85 mm width, thinner than two outlines) bars are filled only, one collection per
response category."""


def _place_legend(ax: Axes, legend: Legend) -> None:
    def move(x: float, y: float) -> None:
        ha, va = alignment(x, y)
        vertical = {"top": "upper", "bottom": "lower", "center": "center"}[va]
        loc = "center" if (ha, va) == ("center", "center") else f"{vertical} {ha}"
        legend.set_loc(loc)  # type: ignore[arg-type]
        legend.set_bbox_to_anchor((x, y), transform=ax.transAxes)

    place_clear(ax, legend, move)


def waterfall_figure(lesions: Sequence[LesionResponse], *, width_mm: float = 85) -> Figure:
    """Bars of the best change from baseline (%), largest increase left, with the RECIST
    +20 % (progression) and -30 % (partial response) lines; lesions never measured after
    baseline are left out (the caption gives their number)."""
    from matplotlib.patches import Patch

    measured = sorted(
        (lesion for lesion in lesions if lesion["best_change_pct"] is not None),
        key=lambda lesion: (-(lesion["best_change_pct"] or 0.0), lesion["lesion_id"]),
    )
    with rc_context():
        width = width_mm / MM_PER_INCH
        fig = new_figure(width, width * 0.62)
        left, right = 0.75 / width, 0.4 / width  # y label and ticks; the +20 %/-30 % labels
        ax = fig.add_axes((left, 0.1, 1 - left - right, 0.8))
        values = [min(max(lesion["best_change_pct"] or 0.0, -100.0), 200.0) for lesion in measured]
        if len(measured) > OUTLINED_BARS:
            _bar_collections(ax, [lesion["best_response"] for lesion in measured], values)
        else:
            for i, (lesion, value) in enumerate(zip(measured, values, strict=True)):
                fill, hatch = RESPONSE_STYLE[lesion["best_response"]]
                ax.bar(
                    i, value, width=0.8, color=fill, edgecolor="black", linewidth=0.4, hatch=hatch
                )
        ax.axhline(0, color="black", linewidth=0.6)
        for level in (PD_LINE_PCT, PR_LINE_PCT):
            ax.axhline(level, color="0.3", linewidth=0.6, linestyle=(0, (3, 2)))
        low = min([*values, -100.0])
        high = max([*values, 40.0])
        ax.set_ylim(low - 5, high + 5)
        ax.set_xlim(-0.8, max(len(measured), 1) - 0.2)
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        ax.set_ylabel("Best change from\nbaseline (%)")
        ax.set_title("Best response per lesion", loc="left", pad=4, y=1.0)
        # the lines' labels in the right margin, where no bar can be
        for level, text in ((PD_LINE_PCT, "+20%"), (PR_LINE_PCT, "\u221230%")):
            ax.annotate(
                text,
                xy=(1.0, level),
                xycoords=ax.get_yaxis_transform(),
                xytext=(3, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=SMALL_PT,
                annotation_clip=False,
            )
        present = [c for c in RESPONSE_STYLE if any(r["best_response"] == c for r in measured)]
        handles = [
            Patch(
                facecolor=RESPONSE_STYLE[c][0],
                hatch=RESPONSE_STYLE[c][1],
                edgecolor="black",
                linewidth=0.4,
                label=c,
            )
            for c in present
        ]
        if handles:
            legend = ax.legend(
                handles=handles,
                frameon=False,
                title="Best response",
                ncols=min(len(handles), 5),
                handlelength=1.2,
                columnspacing=0.8,
                borderaxespad=0.2,
            )
            _place_legend(ax, legend)
        return fig


def _bar_collections(ax: Axes, categories: Sequence[str], values: Sequence[float]) -> None:
    """Bar i from 0 to ``values[i]`` over [i - 0.5, i + 0.5] (touching: no gap to alias into
    stripes), without outlines, each run of consecutive bars of one response category filled
    as one step-shaped polygon with the category's fill and hatch: thousands of bars drawn as
    a few polygons instead of one patch each."""
    import numpy as np
    from matplotlib.collections import PolyCollection

    heights = np.asarray(values, dtype=float)
    kinds = np.asarray(categories)
    # runs of one category: [starts[k], stops[k])
    breaks = np.flatnonzero(kinds[1:] != kinds[:-1]) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [kinds.size]])
    for category, (fill, hatch) in RESPONSE_STYLE.items():
        polygons = []
        for start, stop in zip(starts, stops, strict=True):
            if kinds[start] != category:
                continue
            edges = np.arange(start, stop + 1, dtype=float) - 0.5
            top = heights[start:stop]
            step = np.column_stack([np.repeat(edges, 2)[1:-1], np.repeat(top, 2)])
            polygons.append(np.vstack([[edges[0], 0.0], step, [edges[-1], 0.0]]))
        if polygons:
            ax.add_collection(
                PolyCollection(
                    polygons,
                    facecolors=fill,
                    edgecolors="black" if hatch else "none",  # the hatch takes the edge colour
                    linewidths=0.0,
                    hatch=hatch or None,
                ),
                autolim=False,  # the limits are set from the values
            )


SWIMMER_LANES = 100
"""Default of the study file's ``figures.swimmer_lanes``: the most lanes the swimmer plot draws
(100 lanes of 0.085 inch: a figure of about 9.8 inches, one journal page)."""


def swimmer_selection(lanes: Sequence[SwimmerLane], max_lanes: int) -> list[SwimmerLane]:
    """The lanes drawn, in the plot's order (longest follow-up first, then lesion id): all of
    them, or with more than ``max_lanes``, ``max_lanes`` of them evenly spaced in that order
    (rank round(i * (n - 1) / (max_lanes - 1)), i = 0, 1, ...: the longest and the shortest
    follow-up included), so that the lanes shown span the cohort's whole range of follow-up
    rather than its longest survivors only."""
    ordered = sorted(lanes, key=lambda lane: (-lane["end"], lane["lesion_id"]))
    n = len(ordered)
    if n <= max_lanes:
        return ordered
    if max_lanes == 1:
        return ordered[:1]
    step = max_lanes - 1
    # integer rounding of i * (n - 1) / step; strictly increasing since n - 1 > step
    return [ordered[(2 * i * (n - 1) + step) // (2 * step)] for i in range(max_lanes)]


def swimmer_lanes_setting(results: Results) -> int:
    """The most lanes the swimmer plot draws (``figures.swimmer_lanes``; results.json records
    it only when the study file gives it)."""
    return results["study"]["figures"].get("swimmer_lanes", SWIMMER_LANES)


def swimmer_selection_sentence(lanes: int, max_lanes: int) -> str:
    """How the swimmer plot's lanes were chosen when there are more lesions than lanes (the
    caption's and the methods' words: ``response_plots.swimmer_selection``)."""
    return (
        f"With {lanes} lesions, the swimmer plot shows {max_lanes} lanes (study file "
        "figures.swimmer_lanes) evenly spaced through the lesions ordered by follow-up, from "
        "the longest to the shortest, so that they span the whole range of follow-up; every "
        "lesion's course is in results.json (cohort.swimmer) and analysis/swimmer.csv."
    )


SWIMMER_MARKERS = {
    "courses": ("SBRT course", "|", 6, "black"),
    "scans": ("Scan", ".", 3, "0.4"),
    "local_failure": ("Local failure", "X", 4.5, "black"),
    "progression": ("Progression", "^", 4, "0.35"),
    "death": ("Death", "s", 3.5, "black"),
}
LANE_IN = 0.085


def swimmer_figure(
    lanes: Sequence[SwimmerLane],
    *,
    time_unit: str,
    width_mm: float = 85,
    max_time: float | None = None,
    break_time: float | None = None,
    max_lanes: int = SWIMMER_LANES,
) -> Figure:
    """One bar per lesion from SBRT start to the last follow-up (death or last contact), longest
    first; markers for courses, scans, local failure, progression and death, an arrow for
    lesions of patients alive at the last follow-up. With more than ``max_lanes`` lesions,
    ``max_lanes`` of them (``swimmer_selection``), and the y label says how many of how many."""
    from matplotlib.lines import Line2D

    ordered = swimmer_selection(lanes, max_lanes)
    with rc_context():
        width = width_mm / MM_PER_INCH
        plot_h = max(1.2, LANE_IN * len(ordered))
        height = plot_h + 1.25  # title, x axis and the legend below it
        fig = new_figure(width, height)
        ax = fig.add_axes((0.1, 0.85 / height, 0.86, plot_h / height))
        end = max([lane["end"] for lane in ordered] + [1.0])
        tick_times = ticks(Axis(time_unit, max_time, break_time), end)
        limit = tick_times[-1]
        for i, lane in enumerate(ordered):
            ax.barh(i, min(lane["end"], limit), height=0.6, color="0.85", edgecolor="none")
            if lane["alive"] and lane["end"] < limit:
                ax.annotate(
                    "",
                    xy=(min(lane["end"] + limit * 0.03, limit), i),
                    xytext=(lane["end"], i),
                    arrowprops={
                        "arrowstyle": "-|>",
                        "color": "0.3",
                        "linewidth": 0.6,
                        "mutation_scale": 5,
                        "shrinkA": 0,
                        "shrinkB": 0,
                    },
                )
        for key, (label, marker, size, colour) in SWIMMER_MARKERS.items():
            xs: list[float] = []
            ys: list[float] = []
            for i, lane in enumerate(ordered):
                value: Any = lane[key]  # type: ignore[literal-required]
                times = value if isinstance(value, list) else ([] if value is None else [value])
                for t in times:
                    if t <= limit:
                        xs.append(t)
                        ys.append(i)
            if xs:
                ax.plot(
                    xs,
                    ys,
                    linestyle="none",
                    marker=marker,
                    markersize=size,
                    color=colour,
                    markeredgewidth=0.6 if marker == "|" else 0.3,
                    label=label,
                )
        ax.set_ylim(len(ordered) - 0.5, -0.5)
        ax.set_xlim(0, limit)
        ax.set_xticks(tick_times)
        ax.set_xticklabels([f"{t:g}" for t in tick_times])
        ax.set_yticks([])
        ax.set_ylabel(
            f"Lesions (n = {len(ordered)})"
            if len(ordered) == len(lanes)
            else f"Lesions ({len(ordered)} of {len(lanes)})"
        )
        ax.set_xlabel(f"Time from SBRT start ({time_unit})", labelpad=2)
        ax.set_title("Course of each treated lesion", loc="left", pad=4, y=1.0)
        handles = [h for h in ax.get_lines() if not str(h.get_label()).startswith("_")]
        handles.append(
            Line2D(
                [],
                [],
                color="0.3",
                marker=">",
                markersize=3,
                linewidth=0.6,
                label="Alive at last follow-up",
            )
        )
        # below the x axis, outside the lanes: the legend can never hide a marker
        fig.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.02 / height),
            ncols=3,
            frameon=False,
            fontsize=SMALL_PT,
            handlelength=1.2,
            columnspacing=1.0,
            labelspacing=0.25,
        )
        return fig
