"""Figure layout: legends and p labels placed clear of the curves, no clipped or overlapping text,
aligned numbers at risk, time axis options, composites, flow chart, deterministic files.

Curves are generated deterministically (quantiles of Weibull distributions, no random seeds):
crossing groups, 2 to 6 groups, very short and very long follow-up.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest

from rtoutcomes.report.figure_layout import data_points, hits, layout_problems
from rtoutcomes.report.figures import (
    RISK_COUNT,
    RISK_LABEL,
    Axis,
    Curve,
    Panel,
    Style,
    render,
    survival_figure,
    ticks,
)
from rtoutcomes.report.flow_chart import Analysed, flow_chart_figure, flow_problems
from rtoutcomes.report.step_curves import at_risk
from rtoutcomes.study.spec import KMOptions
from rtoutcomes.study.summaries import at_risk_steps, incidence_summary, km_summary


def _times(n: int, scale: float, shape: float, follow_up: float) -> tuple[np.ndarray, np.ndarray]:
    """Weibull quantiles as event times; every third row censored at 60 % of its time; all
    censored at ``follow_up``."""
    q = (np.arange(n) + 0.5) / n
    time = scale * (-np.log1p(-q)) ** (1 / shape)
    event = np.ones(n, dtype=int)
    event[::3] = 0
    time[::3] *= 0.6
    late = time > follow_up
    time[late], event[late] = follow_up, 0
    return time, event


def _km(n: int, scale: float, shape: float, follow_up: float) -> dict[str, Any]:
    time, event = _times(n, scale, shape, follow_up)
    return km_summary(time, event, KMOptions(), ())["km"]


# (scale, shape) per group: Weibull shapes below and above 1 make the curves cross
SHAPES = [(20, 0.6), (14, 2.5), (40, 1.0), (8, 0.8), (25, 3.0), (60, 0.5)]


def _panel(groups: int, follow_up: float, crossing: bool = True, p: bool = True) -> Panel:
    curves = []
    for i in range(groups):
        scale, shape = SHAPES[i] if crossing else (10 * (i + 1), 1.0)
        curves.append(
            Curve(
                f"Group {chr(65 + i)}",
                _km(30 + 5 * i, scale * follow_up / 60, shape, follow_up),
                30 + 5 * i,
            )
        )
    return Panel(
        curves,
        f"{groups} groups, follow-up {follow_up:g}",
        "Overall survival",
        "Log-rank p < 0.001" if p else None,
        "Group",
    )


CASES = [(g, f, c) for g in (2, 3, 4, 5, 6) for f, c in ((60, True), (6, False), (300, True))]


@pytest.mark.parametrize(("groups", "follow_up", "crossing"), CASES)
def test_generated_curves_leave_legend_and_p_clear(
    groups: int, follow_up: float, crossing: bool
) -> None:
    fig = survival_figure([_panel(groups, follow_up, crossing)], Axis("months"))
    assert layout_problems(fig) == []
    plot = fig.axes[0]
    legend = plot.get_legend()
    assert legend is not None and len(legend.get_texts()) == groups
    assert any(t.get_text() == "Log-rank p < 0.001" for t in plot.texts)


def test_the_check_sees_a_legend_on_the_curves() -> None:
    """Negative control: a legend forced onto the curves, and overlapping or clipped text, are
    reported."""
    fig = survival_figure([_panel(3, 60)], Axis("months"))
    plot = fig.axes[0]
    legend = plot.get_legend()
    legend.set_loc("upper left")  # the curves all start at 100 % at time 0
    legend.set_bbox_to_anchor((0.0, 1.0), transform=plot.transAxes)
    problems = layout_problems(fig)
    assert any("legend covers drawn data" in p for p in problems), problems
    fig.text(0.999, 0.5, "off the edge")
    fig.text(0.5, 0.999, "Group A")
    fig.text(0.5, 0.999, "Group A again")
    problems = layout_problems(fig)
    assert any("clipped text 'off the edge'" in p for p in problems)
    assert any("overlaps" in p for p in problems)


def test_placement_uses_headroom_when_no_corner_is_free() -> None:
    """Six curves spread over the whole plot: the legend goes above 100 %, the ticks stay."""
    fig = survival_figure([_panel(6, 60)], Axis("months"))
    plot = fig.axes[0]
    assert layout_problems(fig) == []
    assert [t.get_position()[1] for t in _named(fig, "ytick")] == [0, 0.25, 0.5, 0.75, 1.0]
    assert [t.get_text() for t in _named(fig, "ytick")] == ["0", "25", "50", "75", "100"]
    renderer = fig.canvas.get_renderer()
    assert (
        hits(plot.get_legend().get_window_extent(renderer), data_points(plot, [plot.get_legend()]))
        == 0
    )


def _named(fig: Any, name: str) -> list[Any]:
    """The figure's texts of that artist name (tick labels, numbers at risk)."""
    return [t for t in fig.texts if t.get_label() == name]


def test_risk_table_sits_under_the_ticks_with_labels_apart() -> None:
    fig = survival_figure([_panel(2, 60)], Axis("months", break_time=12))
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    tick_x = {
        t.get_text(): t.get_window_extent(renderer).x0 + t.get_window_extent(renderer).width / 2
        for t in _named(fig, "xtick")
    }
    assert list(tick_x) == ["0", "12", "24", "36", "48", "60"]
    counts = _named(fig, RISK_COUNT)
    labels = _named(fig, RISK_LABEL)
    assert [t.get_text() for t in labels] == ["Group A", "Group B"]
    xs = sorted(
        {
            round(t.get_window_extent(renderer).x0 + t.get_window_extent(renderer).width / 2, 1)
            for t in counts
        }
    )
    assert xs == pytest.approx(sorted(tick_x.values()), abs=0.6)
    first = min(t.get_window_extent(renderer).x0 for t in counts)
    gap_pt = (first - max(t.get_window_extent(renderer).x1 for t in labels)) * 72 / fig.dpi
    assert gap_pt >= 6


def test_risk_table_labels_clear_of_a_wide_count_at_time_0(monkeypatch: Any) -> None:
    """A group of 200,000 rows: its count at time 0 (centred there) is wider than twice the
    usual gap, so the row labels move left to stay clear of it, and the margin with them.
    Negative control: the fixed gap lets the count run into the labels."""
    from rtoutcomes.report import figures

    big = Curve("Group A", _km(200_000, 20.0, 1.0, 60.0), 200_000)
    panel = Panel([big, _panel(2, 60).curves[1]], "wide", "Overall survival", None, None)

    def gap_pt(fig: Any) -> float:
        renderer = fig.canvas.get_renderer()
        fig.draw_without_rendering()
        counts = _named(fig, RISK_COUNT)
        assert "200000" in [t.get_text() for t in counts]
        first = min(t.get_window_extent(renderer).x0 for t in counts)
        labels = _named(fig, RISK_LABEL)
        assert min(t.get_window_extent(renderer).x0 for t in labels) >= 0  # not clipped
        return float((first - max(t.get_window_extent(renderer).x1 for t in labels)) * 72 / fig.dpi)

    assert gap_pt(survival_figure([panel], Axis("months", break_time=12))) >= 3
    monkeypatch.setattr(figures, "risk_label_gap_pt", lambda fig, panels: figures.LABEL_GAP_PT)
    assert gap_pt(survival_figure([panel], Axis("months", break_time=12))) < 0


def test_numbers_at_risk_of_generated_curves_count_rows_still_followed() -> None:
    time, event = _times(40, 20, 1.0, 60)
    km = km_summary(time, event, KMOptions(), ())["km"]
    curve = Curve("a", km, 40)
    ticks_ = [0.0, 6.0, 12.0, 24.0, 48.0, 60.0, 72.0]
    assert at_risk(curve, ticks_) == [int((time >= t).sum()) for t in ticks_]
    steps = Curve("b", {"time": [], "estimate": []}, 40, True, at_risk_steps(time))
    assert at_risk(steps, ticks_) == at_risk(curve, ticks_)


def test_time_axis_options() -> None:
    assert ticks(Axis("months"), 125) == [0, 24, 48, 72, 96, 120, 144]
    assert ticks(Axis("months", max_time=60), 125) == [0, 12, 24, 36, 48, 60]
    assert ticks(Axis("months", max_time=60, break_time=6), 125)[-2:] == [54, 60]
    assert ticks(Axis("months", break_time=10), 25) == [0, 10, 20, 30]
    assert ticks(Axis("days"), 400) == [0, 90, 180, 270, 360, 450]
    fig = survival_figure([_panel(2, 300)], Axis("months", max_time=60, break_time=12))
    assert fig.axes[0].get_xlim() == (0, 60)
    assert [t.get_position()[0] for t in _named(fig, RISK_COUNT)][-1] == 60  # counts up to 60
    assert [t.get_text() for t in _named(fig, "xtick")][-1] == "60"
    assert layout_problems(fig) == []


def test_confidence_bands_are_drawn_and_avoided() -> None:
    fig = survival_figure([_panel(2, 60)], Axis("months"), Style(bands=True))
    assert len(fig.axes[0].collections) == 2
    assert layout_problems(fig) == []


def test_incidence_panel_has_numbers_at_risk() -> None:
    time, event = _times(50, 30, 1.2, 48)
    status = np.where(event == 1, np.where(np.arange(50) % 2 == 0, 1, 2), 0)
    summary = incidence_summary(time, status.astype(float), (12.0,), 0.95)
    risk = summary["at_risk"]
    curves = [
        Curve("Local failure", summary["local_failure"]["curve"], None, True, risk),
        Curve("Death without local failure", summary["death"]["curve"], None, True, risk),
    ]
    fig = survival_figure(
        [Panel(curves, "Competing risks", "Cumulative incidence")], Axis("months")
    )
    assert layout_problems(fig) == []
    counts = [t.get_text() for t in _named(fig, RISK_COUNT)]
    assert counts[0] == "50"


def test_composite_letters_and_aligned_rows() -> None:
    panels = [_panel(1, 60, p=False), _panel(2, 60), _panel(3, 60), _panel(4, 60)]
    fig = survival_figure(panels, Axis("months"), Style(width_mm=174, columns=2))
    assert layout_problems(fig) == []
    letters = [t.get_text() for t in fig.texts if t.get_text().isalpha() and len(t.get_text()) == 1]
    assert letters == ["a", "b", "c", "d"]
    plots = fig.axes  # the plots only: ticks and numbers at risk are figure artists
    assert len(plots) == 4
    assert plots[0].get_position().y0 == pytest.approx(plots[1].get_position().y0)
    assert plots[0].get_position().height == pytest.approx(plots[1].get_position().height)


def test_files_are_deterministic_and_journal_formats() -> None:
    from PIL import Image

    first = render(survival_figure([_panel(3, 60)], Axis("months")), ("png", "svg", "tiff", "pdf"))
    second = render(survival_figure([_panel(3, 60)], Axis("months")), ("png", "svg", "tiff", "pdf"))
    assert first == second
    tiff = Image.open(io.BytesIO(first.files["tiff"]))
    assert tiff.info["compression"] == "tiff_lzw"
    assert round(tiff.info["dpi"][0]) == 300
    assert math.isclose(tiff.size[0], 85 / 25.4 * 300, abs_tol=1)
    assert first.files["pdf"].startswith(b"%PDF") and b"CreationDate" not in first.files["pdf"]


def test_the_svg_written_as_text_is_the_svg_matplotlib_writes_as_bytes() -> None:
    """``render`` has the SVG backend write to a text file and encodes the whole at once: the
    bytes of matplotlib writing to a bytes file (each piece encoded as it is written), for a
    figure with non-ASCII labels. The control: another figure's SVG differs."""
    panel = _panel(2, 60)
    curves = [
        Curve("\u2265 65 a\u00f1os \u00b7 \u03bc", c.km, c.n) for c in panel.curves[:1]
    ] + list(panel.curves[1:])
    fig = survival_figure(
        [Panel(curves, "Tumour \u2264 5 cm \u2013 \u00e9t\u00e9", "Survival")], Axis("months")
    )
    as_bytes = []
    savefig = fig.savefig

    def also_as_bytes(file: Any, **kwargs: Any) -> None:  # the same drawing, to a bytes file
        savefig(file, **kwargs)
        assert isinstance(file, io.StringIO)
        written = io.BytesIO()
        savefig(written, **kwargs)
        as_bytes.append(written.getvalue())

    fig.savefig = also_as_bytes  # type: ignore[method-assign]
    written = render(fig, ("svg",)).svg
    assert [written] == as_bytes
    assert "a\u00f1os".encode() in written
    assert render(survival_figure([_panel(2, 60)], Axis("months")), ("svg",)).svg != written


def _untickable_files(monkeypatch: pytest.MonkeyPatch, axes_class: Any = None) -> list[Any]:
    """A two-panel survival figure and a flow chart in every format, their axes made by
    ``untickable_axes`` (or, given ``axes_class``, of that class)."""
    from rtoutcomes.report import figures

    if axes_class is not None:
        monkeypatch.setattr(figures, "_UNTICKABLE", [axes_class])
    panels = survival_figure(
        [_panel(3, 60), _panel(2, 48, p=False)], Axis("months"), Style(174, columns=2)
    )
    flow = flow_chart_figure(120, {"no follow-up": 3, "benign": 2}, 115, 140)
    drawn = [render(fig, ("png", "svg", "tiff", "pdf")).files for fig in (panels, flow)]
    ticks = [
        len(axis.majorTicks) + len(axis.minorTicks)
        for fig in (panels, flow)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
    ]
    return [drawn, ticks]


def test_axes_without_tick_objects_change_no_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """The survival panels' and the flow chart's axes make no Tick objects (matplotlib's make
    two per axis at once, never drawn there), and every file is the bytes of plain Axes'."""
    from matplotlib.axes import Axes

    drawn, ticks = _untickable_files(monkeypatch)
    plain, plain_ticks = _untickable_files(monkeypatch, Axes)
    assert ticks == [0] * 6 and plain_ticks == [2] * 6
    assert drawn == plain


def test_axes_that_make_no_ticks_where_ticks_are_drawn_are_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The comparison catches an Axes shortcut that loses what is drawn: axes that make no
    ticks even when asked for them, given to the forest plot (which draws matplotlib's ticks),
    change its files; ``untickable_axes``' own class, given to it, does not (it makes ticks when
    asked: matplotlib's)."""
    import json
    from pathlib import Path

    import matplotlib.axis as maxis
    import matplotlib.figure as mfigure

    from rtoutcomes.report import figures
    from rtoutcomes.report.forest import forest_figure
    from rtoutcomes.report.response_report import forest_rows

    path = Path(__file__).parent / "data" / "stored_outputs" / "demo" / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    e = results["endpoints"]["LC"]

    def forest() -> dict[str, bytes]:
        fig = forest_figure(forest_rows(e["multivariate"], e, results), title="LC")
        return render(fig, ("png", "svg", "pdf")).files

    reference = forest()
    add_axes = mfigure.Figure.add_axes

    def with_class(axes_class: Any) -> Any:
        def added(self: Any, rect: Any, **kwargs: Any) -> Any:
            return add_axes(self, rect, axes_class=axes_class, **kwargs)

        return added

    monkeypatch.setattr(mfigure.Figure, "add_axes", with_class(figures._untickable_class()))
    assert forest() == reference
    monkeypatch.setattr(maxis.Axis, "get_major_ticks", lambda self, numticks=None: [])
    assert set(reference) == {k for k, v in forest().items() if v != reference[k]}


def test_plain_axes_where_matplotlib_lacks_the_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.axis as maxis
    from matplotlib.axes import Axes

    from rtoutcomes.report import figures

    monkeypatch.setattr(figures, "_UNTICKABLE", [])
    monkeypatch.delattr(maxis, "_LazyTickList")
    assert figures._untickable_class() is Axes


def _legend_files() -> list[dict[str, bytes]]:
    """Two panels with legends (one with a title) in every format."""
    panels = [
        _panel(3, 60),
        Panel(_panel(2, 48).curves, "Overall survival", "Survival", None, "Grade"),
    ]
    fig = survival_figure(panels, Axis("months"), Style(174, columns=2))
    return [render(fig, ("png", "svg", "tiff", "pdf")).files]


def test_legends_sized_once_per_drawing_change_no_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """A legend's boxes sized once per drawing (``legend_layout``) give the files of
    matplotlib sizing them at every level; the control: sizes kept by the box alone (every box
    of a legend given the first one's size) change every file."""
    import contextlib

    from rtoutcomes.report import legend_layout

    drawn = _legend_files()
    with monkeypatch.context() as patch:
        patch.setattr(legend_layout, "laid_out_once", contextlib.nullcontext)
        plain = _legend_files()
    assert drawn == plain
    monkeypatch.setattr(legend_layout, "size_key", lambda get_bbox, box, renderer: (renderer,))
    coarse = _legend_files()[0]
    assert {k for k, v in coarse.items() if v != plain[0][k]} == {"png", "svg", "tiff", "pdf"}


def test_tiff_at_600_dpi_beside_the_300_dpi_png() -> None:
    from PIL import Image

    fig = survival_figure([_panel(2, 60)], Axis("months"))
    files = render(fig, ("png", "tiff"), tiff_dpi=600).files
    png, tiff = (Image.open(io.BytesIO(files[k])) for k in ("png", "tiff"))
    assert round(tiff.info["dpi"][0]) == 600 and round(png.info["dpi"][0]) == 300
    assert tiff.info["compression"] == "tiff_lzw"
    # the same figure, twice the pixels (each side rounded down to whole pixels)
    assert all(abs(t - 2 * p) <= 1 for t, p in zip(tiff.size, png.size, strict=True))
    # the same picture: the 600 dpi raster halved is the 300 dpi one, up to anti-aliasing
    halved = np.asarray(tiff.convert("L").resize(png.size, Image.Resampling.BOX), dtype=float)
    assert np.mean(np.abs(halved - np.asarray(png.convert("L"), dtype=float))) < 4.0
    assert fig.dpi == 300  # the figure keeps its resolution
    again = render(
        survival_figure([_panel(2, 60)], Axis("months")), ("png", "tiff"), tiff_dpi=600
    ).files
    assert again == files


def test_a_long_title_stays_in_its_panel() -> None:
    long = "Progression-free survival by number of lesions at the first SBRT course"
    panels = [
        _panel(2, 60),
        _panel(2, 60),
        Panel(_panel(3, 60).curves, long, "PFS", "Log-rank p = 0.01"),
        _panel(2, 60),
    ]
    fig = survival_figure(panels, Axis("months"), Style(width_mm=174, columns=2))
    assert layout_problems(fig) == []
    title = fig.axes[2]._left_title  # panel c
    assert title.get_text().endswith("\u2026") and long.startswith(title.get_text()[:-1])
    renderer = fig.canvas.get_renderer()
    letter_d = next(t for t in fig.texts if t.get_text() == "d")
    assert title.get_window_extent(renderer).x1 < letter_d.get_window_extent(renderer).x0
    short = survival_figure([_panel(2, 60)], Axis("months"))
    assert short.axes[0]._left_title.get_text() == _panel(2, 60).title  # fits: untouched


@pytest.mark.parametrize(
    "reasons",
    [
        {"multiple metastases (more than 3 lesions)": 14, "unclear pathological type": 7},
        {f"a rather long exclusion reason number {i} with words": i for i in range(1, 7)},
        {},
    ],
)
def test_flow_chart_boxes_hold_their_text(reasons: dict[str, int]) -> None:
    fig = flow_chart_figure(
        68,
        reasons,
        37,
        58,
        [
            Analysed("LC", 58, "lesion"),
            Analysed("OS", 37, "patient"),
            Analysed("PFS", 37, "patient"),
        ],
    )
    assert layout_problems(fig) == []
    assert flow_problems(fig) == []
    shown = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "Analysed for PFS" in shown and "(n\u00a0=\u00a068)" in shown


def test_flow_check_sees_text_leaving_its_box() -> None:
    fig = flow_chart_figure(68, {"x": 1}, 37, 58)
    fig.axes[0].texts[0].set_text("a very long line that cannot fit in the box at all, surely")
    assert any("leaves its box" in p for p in flow_problems(fig))


def _demo_results() -> dict[str, Any]:
    """The demo study's results as stored for this version (scripts/store_outputs.py)."""
    import json
    from pathlib import Path

    path = Path(__file__).parent / "data" / "stored_outputs" / "demo" / "results.json"
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return results


def test_every_demo_figure_is_clear() -> None:
    """The paper's Figures 1-4 (flow chart and composites), the forest, swimmer and waterfall
    plots and every single panel of the demo report: no clipped, overlapping or tiny text, no
    legend or label on the data."""
    from rtoutcomes.report.flow_chart import analysed_from_results
    from rtoutcomes.report.forest import forest_figure
    from rtoutcomes.report.response_plots import swimmer_figure, waterfall_figure
    from rtoutcomes.report.response_report import forest_rows
    from rtoutcomes.report.survival_figures import all_panels, axis_and_style

    results = _demo_results()
    panels = all_panels(results)  # type: ignore[arg-type]
    figures = {}
    for i, names in enumerate(results["study"]["figures"]["panels"], start=2):
        axis, style = axis_and_style(results, columns=2)  # type: ignore[arg-type]
        figures[f"figure{i}"] = survival_figure([panels[n].panel for n in names], axis, style)
    axis, style = axis_and_style(results)  # type: ignore[arg-type]
    for name, named in panels.items():
        figures[name] = survival_figure([named.panel], axis, style)
    flow = results["cohort"]["flow"]
    figures["flow"] = flow_chart_figure(
        flow["screened"],
        flow["excluded"],
        flow["enrolled"],
        flow["lesions"],
        analysed_from_results(results),
    )
    for name, e in results["endpoints"].items():
        rows = forest_rows(e["multivariate"], e, results)  # type: ignore[arg-type]
        figures[f"forest {name}"] = forest_figure(rows, title=name)
    figures["swimmer"] = swimmer_figure(results["cohort"]["swimmer"], time_unit="months")
    figures["waterfall"] = waterfall_figure(results["cohort"]["response"]["lesions"])
    assert len(figures) == 3 + 20 + 1 + 3 + 2
    problems = {name: layout_problems(fig) for name, fig in figures.items()}
    assert {name: p for name, p in problems.items() if p} == {}
    assert flow_problems(figures["flow"]) == []


def _ticks_panel(n: int) -> Panel:
    """One curve of ``n`` rows with continuous times: about n / 3 censoring ticks."""
    return Panel(
        [Curve("All", _km(n, 20.0, 1.0, 60.0), n)], "ticks", "Overall survival", None, None
    )


def _svg_ticks(svg: bytes) -> int:
    # matplotlib writes one <use> per marker
    return svg.count(b"<use ")


def test_censor_ticks_thinned_in_vector_files_only() -> None:
    from PIL import Image

    from rtoutcomes.report import figures

    fig = survival_figure([_ticks_panel(6000)], Axis("months"))
    marks = [line for line in fig.axes[0].get_lines() if line.get_label() == figures.CENSOR_MARKS]
    before = [np.array(v) for v in marks[0].get_data()]
    files = render(fig, ("png", "svg", "tiff", "pdf")).files
    after = marks[0].get_data()
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))  # restored
    # the raster is drawn from every tick: the same bytes as a figure never thinned
    saved = figures._thin_censor_marks
    try:
        figures._thin_censor_marks = lambda fig: []  # type: ignore[assignment]
        unthinned = render(
            survival_figure([_ticks_panel(6000)], Axis("months")), ("png", "svg", "tiff", "pdf")
        ).files
    finally:
        figures._thin_censor_marks = saved
    assert files["png"] == unthinned["png"] and files["tiff"] == unthinned["tiff"]
    # the vector files: one tick per 300 dpi pixel, far fewer than the 2,000 censoring times
    assert _svg_ticks(unthinned["svg"]) >= 2000 > 2 * _svg_ticks(files["svg"])
    assert len(files["pdf"]) < len(unthinned["pdf"])
    # what the thinned ticks and steps look like at 300 dpi: the same pixels inked (no tick
    # lost or moved, each step's drop in its pixel column) but for a few edge pixels; only
    # anti-aliased edges differ (overlapping ticks, steps within one pixel column)
    with figures.rc_context():
        figures._thin_censor_marks(fig)
    thinned = render(fig, ("png",)).files["png"]
    full, thin = (
        np.asarray(Image.open(io.BytesIO(b)).convert("L"), dtype=int)
        for b in (files["png"], thinned)
    )
    assert ((full < 255) != (thin < 255)).sum() <= 4
    assert (thin != full).mean() < 0.01
    # and the number of ticks drawn in a vector file no longer grows with the rows
    bigger = render(survival_figure([_ticks_panel(30000)], Axis("months")), ("svg",)).files
    assert _svg_ticks(bigger["svg"]) < 1.5 * _svg_ticks(files["svg"])


def test_grey_figures_are_written_as_greyscale_rasters_with_the_same_pixels() -> None:
    """A black-and-grey figure's PNG and TIFF are greyscale images holding exactly the RGB
    drawing's values; a figure with colour stays RGB (negative control)."""
    from PIL import Image

    from rtoutcomes.report.figures import rgb_image

    fig = survival_figure([_panel(3, 60)], Axis("months"))
    files = render(fig, ("png", "tiff")).files
    drawn = np.asarray(rgb_image(fig, 300))
    for kind in ("png", "tiff"):
        image = Image.open(io.BytesIO(files[kind]))
        assert image.mode == "L"
        assert np.array_equal(np.asarray(image.convert("RGB")), drawn)
    fig.axes[0].plot([0, 30], [0.5, 0.5], color="tab:red")
    coloured = Image.open(io.BytesIO(render(fig, ("png",)).png))
    assert coloured.mode == "RGB"
    assert np.array_equal(np.asarray(coloured), np.asarray(rgb_image(fig, 300)))


def _grey_cases() -> list[tuple[str, np.ndarray]]:
    """Images of 2.3 blocks of ``GREY_CHUNK`` pixels (the last one partial): grey ones (any
    grey, any alpha) and grey ones with one pixel off grey, in each channel pair, by 1 or by
    128, at the first and last pixel and at the blocks' edges."""
    from rtoutcomes.report.figures import GREY_CHUNK

    height, width = 3, (GREY_CHUNK * 23) // 30  # 2.3 blocks
    level = np.arange(height * width, dtype=np.int64) % 256
    grey = np.repeat(level.astype(np.uint8).reshape(height, width, 1), 4, axis=2)
    grey[..., 3] = (level * 7 % 256).astype(np.uint8).reshape(height, width)  # alpha: no part
    cases = [("grey", grey), ("white", np.full((height, width, 4), 255, np.uint8))]
    places = [0, GREY_CHUNK - 1, GREY_CHUNK, 2 * GREY_CHUNK, height * width - 1]
    for place in places:
        for channels in ((0,), (1,), (2,), (0, 1), (1, 2), (0, 2)):
            for step in (1, 128):
                image = grey.copy()
                pixel = image.reshape(-1, 4)[place]
                for channel in channels:
                    pixel[channel] = (int(pixel[channel]) + step) % 256
                cases.append((f"pixel {place}, channels {channels} + {step}", image))
    return cases


def _grey_by_channels(rgba: np.ndarray) -> bool:
    return bool(
        np.array_equal(rgba[..., 0], rgba[..., 1]) and np.array_equal(rgba[..., 0], rgba[..., 2])
    )


def test_the_grey_check_on_32_bit_words_is_the_channels_compared() -> None:
    """``is_grey`` (each pixel as one 32-bit word, a block at a time) says what comparing the
    channels says, on every case; a check of R = G alone (one byte of the word) gets some
    wrong (negative control: the cases tell them apart)."""
    from rtoutcomes.report.figures import is_grey

    def red_is_green(rgba: np.ndarray) -> bool:
        words = rgba.view("<u4").reshape(-1)
        return not ((words ^ (words >> 8)) & 0xFF).any()

    cases = _grey_cases()
    assert sum(_grey_by_channels(image) for _, image in cases) == 2
    for name, image in cases:
        assert is_grey(image) == _grey_by_channels(image), name
    assert any(red_is_green(image) != _grey_by_channels(image) for _, image in cases)
    assert is_grey(np.zeros((0, 5, 4), np.uint8))  # no pixel: nothing off grey


def test_censor_tick_runs_cut_for_the_raster_leave_its_bytes() -> None:
    """Ticks stamped many times on one pixel are cut to ``censor_stamps_at(dpi)`` per run for
    PNG and TIFF (9 at 300 dpi, 3 at 600; fewer for some greys): the same bytes as drawing
    every tick, with far fewer stamps (a black curve alone, and beside a grey one)."""
    from rtoutcomes.report import figures

    one = _ticks_panel(60000)
    grey = Curve("G2", _km(30000, 30.0, 1.0, 60.0), 30000)  # the second curve's grey, 0.5
    grouped = Panel([one.curves[0], grey], "ticks", "Overall survival", None, None)
    fig = survival_figure([one, grouped], Axis("months"))
    marks = next(
        line for line in fig.axes[0].get_lines() if line.get_label() == figures.CENSOR_MARKS
    )
    every = len(marks.get_xdata())
    cut = figures._cap_censor_runs(fig, 300)
    assert cut and len(marks.get_xdata()) < 0.6 * every  # the cut does something
    for line, data in cut:
        line.set_data(*data)
    assert len(marks.get_xdata()) == every  # and is undone
    files = render(fig, ("png", "tiff"), tiff_dpi=600).files
    saved = figures.CENSOR_STAMPS, figures.CENSOR_STAMPS_600, figures.FEWER_STAMPS
    try:
        figures.CENSOR_STAMPS = figures.CENSOR_STAMPS_600 = 10**9  # every tick stamped
        figures.FEWER_STAMPS = {}
        full = render(fig, ("png", "tiff"), tiff_dpi=600).files
    finally:
        figures.CENSOR_STAMPS, figures.CENSOR_STAMPS_600, figures.FEWER_STAMPS = saved
    assert files == full


def test_censor_ticks_of_another_style_are_not_cut() -> None:
    """The stamp numbers hold for ``CENSOR_TICK``'s style only (the fixed-point test below
    stamps that style): a tick line of another size or width is drawn from every tick.
    Control: the same line in the figures' style is cut."""
    from rtoutcomes.report import figures

    for style in ({"markersize": 5.0}, {"markeredgewidth": 1.2}):
        fig = survival_figure([_ticks_panel(60000)], Axis("months"))
        marks = next(
            line for line in fig.axes[0].get_lines() if line.get_label() == figures.CENSOR_MARKS
        )
        every = len(marks.get_xdata())
        marks.set(**style)
        assert figures._cap_censor_runs(fig, 300) == []
        assert len(marks.get_xdata()) == every
        marks.set(**{key: figures.CENSOR_TICK[key] for key in style})  # control
        assert figures._cap_censor_runs(fig, 300)
        assert len(marks.get_xdata()) < every


@pytest.mark.parametrize("dpi", [300, 600])
def test_a_run_of_tick_stamps_reaches_a_fixed_point_on_every_background(dpi: int) -> None:
    """Why the cut keeps the bytes: stamped on one pixel, a tick of each grey the figures use
    changes no pixel after CENSOR_STAMPS stamps, on each of the 256 grey backgrounds (each
    pixel's value depends only on its own background and the tick's coverage there, the same
    for every stamp: once one more stamp changes nothing, no later one does). The number is
    ``censor_stamps_at(dpi, grey)``: 9 at 300 dpi (8 for the greys but black), 3 at 600 (2
    for 0.5). Negative controls: one stamp fewer changes pixels for every grey (each number
    is the least that holds), and so does a second stamp after one."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import IdentityTransform

    from rtoutcomes.report import figures

    column, height = 24, 48  # pixels per background value; a tick is ~3 x 15 px at 300 dpi

    def stamped(grey: str, times: int) -> np.ndarray:
        with figures.rc_context():
            fig = figures.new_figure(256 * column / dpi, height / dpi)
            fig.set_dpi(dpi)
            fig.set_size_inches(256 * column / dpi, height / dpi)
            for value in range(256):
                fig.add_artist(
                    Rectangle(
                        (value * column, 0),
                        column,
                        height,
                        transform=IdentityTransform(),
                        facecolor=(value / 255,) * 3,
                        edgecolor="none",
                        antialiased=False,
                    )
                )
            xs = np.repeat(np.arange(256) * column + column / 2 + 0.25, times)
            fig.add_artist(
                Line2D(
                    xs,
                    np.full(xs.shape, height / 2 + 0.25),
                    transform=IdentityTransform(),
                    linestyle="none",
                    **figures.CENSOR_TICK,  # the style the figures draw and the cut expects
                    color=grey,
                )
            )
            fig.canvas.draw()
            return np.array(fig.canvas.buffer_rgba())[..., :3]

    for grey in figures.GREYS:
        stamps = figures.censor_stamps_at(dpi, grey)
        cap = stamped(grey, stamps)
        assert len(np.unique(cap[0, :, 0])) == 256  # every background value, above the ticks
        assert np.array_equal(cap, stamped(grey, stamps + 1)), grey
        # negative control: one stamp fewer is not a fixed point (the number is the least)
        assert not np.array_equal(stamped(grey, stamps - 1), cap), grey
    assert not np.array_equal(stamped("0.0", 1), stamped("0.0", 2))


def test_step_curves_in_vector_files_do_not_grow_with_the_rows() -> None:
    small, large = (
        render(survival_figure([_ticks_panel(n)], Axis("months")), ("svg", "pdf")).files
        for n in (30000, 300000)
    )
    assert len(large["svg"]) < 1.3 * len(small["svg"]) and len(large["svg"]) < 400_000
    assert len(large["pdf"]) < 1.3 * len(small["pdf"])
