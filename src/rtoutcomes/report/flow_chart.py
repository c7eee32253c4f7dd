"""CONSORT-style flow chart: screened, excluded by reason, enrolled, lesions treated, analysed
per endpoint. Boxes of one column share one width; text is wrapped to the box (measured, not
guessed) and every box is as tall as its text needs."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rtoutcomes.report.figures import (
    MM_PER_INCH,
    SMALL_PT,
    new_figure,
    rc_context,
    untickable_axes,
)
from rtoutcomes.results.model import Results

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PAD_IN = 0.06
LINE_IN = SMALL_PT * 1.25 / 72
GAP_IN = 0.2


@dataclass(frozen=True)
class Analysed:
    """One endpoint's analysed population: name, n and unit (``patient``/``lesion``)."""

    endpoint: str
    n: int
    unit: str
    note: str = ""


def _wrap(ax: Axes, text: str, width_in: float, indent: str = "") -> list[str]:
    """Lines of ``text`` that fit ``width_in`` at the chart's font (measured with the renderer;
    each distinct line once)."""
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    probe = ax.text(0, 0, "", fontsize=SMALL_PT)
    measured: dict[str, float] = {}

    def width(line: str) -> float:
        if line not in measured:
            probe.set_text(line)
            measured[line] = probe.get_window_extent(renderer).width / ax.figure.dpi
        return measured[line]

    lines: list[str] = []
    for paragraph in text.split("\n"):
        chars = max(8, len(paragraph))
        while chars > 8:
            candidate = textwrap.wrap(paragraph, chars, subsequent_indent=indent) or [""]
            if max(map(width, candidate)) <= width_in - 2 * PAD_IN:
                break
            chars -= 2
        lines += textwrap.wrap(paragraph, chars, subsequent_indent=indent) or [""]
    probe.remove()
    return lines


def _box(
    ax: Axes, x: float, top: float, width: float, lines: list[str], align: str = "center"
) -> tuple[float, float]:
    """A box of ``width`` whose top edge is at ``top`` (inches); returns (bottom, middle y)."""
    from matplotlib.patches import Rectangle

    height = len(lines) * LINE_IN + 2 * PAD_IN
    ax.add_patch(
        Rectangle(
            (x, top - height), width, height, facecolor="white", edgecolor="black", linewidth=0.7
        )
    )
    tx = x + width / 2 if align == "center" else x + PAD_IN
    ax.text(
        tx,
        top - height / 2,
        "\n".join(lines),
        ha=align,
        va="center",
        fontsize=SMALL_PT,
        linespacing=1.25,
        multialignment=align,
    )
    return top - height, top - height / 2


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": "-|>",
            "color": "black",
            "linewidth": 0.7,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 7,
        },
    )


def flow_chart_figure(
    screened: int,
    excluded: dict[str, int],
    enrolled: int,
    lesions: int,
    analysed: Sequence[Analysed] = (),
    *,
    width_mm: float = 85,
) -> Figure:
    """The flow chart as a matplotlib figure (``figures.render`` writes it)."""
    with rc_context():
        width = width_mm / MM_PER_INCH
        fig = new_figure(width, 10)
        ax = untickable_axes(fig, (0, 0, 1, 1))  # no axis drawn
        main_w = width * 0.4
        main_x = 0.08
        side_x = main_x + main_w + 0.2
        side_w = width - side_x - 0.06
        top = 10 - 0.08
        # the count stays on its reason's line (no break before it)
        reasons = [
            f"{reason[:1].upper()}{reason[1:]}:\u00a0{n}"
            for reason, n in sorted(excluded.items(), key=lambda item: (-item[1], item[0]))
        ]
        main = [
            _wrap(ax, text, main_w)
            for text in (
                f"Patients screened for eligibility (n\u00a0=\u00a0{screened})",
                f"Patients enrolled (n\u00a0=\u00a0{enrolled})",
                f"Lesions treated with SBRT (n\u00a0=\u00a0{lesions})",
            )
        ]
        rows = max(len(lines) for lines in main)
        main = [lines + [""] * (rows - len(lines)) for lines in main]  # one height for all
        bottom, _ = _box(ax, main_x, top, main_w, main[0])
        side_lines = _wrap(ax, f"Excluded (n\u00a0=\u00a0{sum(excluded.values())})", side_w)
        for reason in reasons:
            side_lines += _wrap(ax, reason, side_w, indent="  ")
        side_top = bottom - GAP_IN
        side_bottom, side_mid = _box(ax, side_x, side_top, side_w, side_lines, align="left")
        cx = main_x + main_w / 2
        _arrow(ax, (cx, side_mid), (side_x, side_mid))
        next_top = side_bottom - GAP_IN
        ax.plot([cx, cx], [bottom, next_top], color="black", linewidth=0.7)
        _arrow(ax, (cx, next_top + 0.01), (cx, next_top))
        bottom, _ = _box(ax, main_x, next_top, main_w, main[1])
        _arrow(ax, (cx, bottom), (cx, bottom - GAP_IN))
        bottom, _ = _box(ax, main_x, bottom - GAP_IN, main_w, main[2])
        if analysed:
            bottom = _analysed_row(ax, analysed, bottom, cx, width)
        height = 10 - bottom + 0.08
        fig.set_size_inches(width, height)
        ax.set_xlim(0, width)
        ax.set_ylim(10 - height, 10)
        ax.axis("off")
        return fig


def _analysed_row(
    ax: Axes, analysed: Sequence[Analysed], bottom: float, cx: float, width: float
) -> float:
    """Evenly sized boxes side by side, one per endpoint, under a bracket from the last box."""
    count = len(analysed)
    gap = 0.1
    box_w = (width - 0.16 - gap * (count - 1)) / count
    texts = [
        _wrap(
            ax,
            f"Analysed for {a.endpoint}: {a.n}\u00a0{a.unit}s" + (f"\n{a.note}" if a.note else ""),
            box_w,
        )
        for a in analysed
    ]
    rows = max(len(t) for t in texts)
    texts = [t + [""] * (rows - len(t)) for t in texts]  # even heights
    rail = bottom - GAP_IN / 2
    top = bottom - GAP_IN
    ax.plot([cx, cx], [bottom, rail], color="black", linewidth=0.7)
    centres = [0.08 + i * (box_w + gap) + box_w / 2 for i in range(count)]
    if count > 1:
        ax.plot([centres[0], centres[-1]], [rail, rail], color="black", linewidth=0.7)
    lowest = top
    for centre, lines in zip(centres, texts, strict=True):
        _arrow(ax, (centre, rail), (centre, top))
        box_bottom, _ = _box(ax, centre - box_w / 2, top, box_w, lines)
        lowest = min(lowest, box_bottom)
    return lowest


def flow_problems(fig: Figure) -> list[str]:
    """Boxes that overlap or text that leaves its box (besides ``layout_problems``)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    problems = []
    for ax in fig.axes:
        boxes = [p.get_window_extent(renderer) for p in ax.patches]
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if boxes[i].overlaps(boxes[j]):
                    problems.append(f"boxes {i} and {j} overlap")
        for text in ax.texts:
            if not text.get_text().strip():
                continue
            tb = text.get_window_extent(renderer)
            holder = [b for b in boxes if b.contains(*tb.get_points().mean(axis=0))]
            if not holder:
                problems.append(f"text {text.get_text()[:30]!r} outside every box")
            elif not (
                holder[0].x0 <= tb.x0
                and tb.x1 <= holder[0].x1
                and holder[0].y0 <= tb.y0
                and tb.y1 <= holder[0].y1
            ):
                problems.append(f"text {text.get_text()[:30]!r} leaves its box")
    return problems


def analysed_from_results(results: Results) -> list[Analysed]:
    """Per endpoint of the study: its name, analysed n and unit, and how many of them were
    lost to follow-up where the registry's data cut-off tells (``cohort.flow``)."""
    lost = results.get("cohort", {}).get("flow", {}).get("lost_to_follow_up", {})
    return [
        Analysed(
            name, e["n"], e["unit"], f"Lost to follow-up:\u00a0{lost[name]}" if name in lost else ""
        )
        for name, e in results["endpoints"].items()
    ]
