"""Survival figures with matplotlib (Agg): Kaplan-Meier and cumulative incidence curves with
numbers at risk, alone or as lettered multi-panel figures (the paper's Figures 2-4).

The drawing functions are plain and reusable: ``draw_curves`` draws curves on an Axes,
``draw_risk_table`` the numbers at risk under it, ``place_legend_and_label`` puts the legend
and the test's p where no curve is (``figure_layout.place_clear``), ``survival_panel`` does all
of it in a rectangle of a figure and ``survival_figure`` arranges panels. ``render`` turns a
figure into bytes. Output is byte-for-byte reproducible: a fixed ``svg.hashsalt``, no creation
date (``SOURCE_DATE_EPOCH`` honoured), fonts as paths. Lines differ by dash pattern as well as
grey level, so up to six curves stay distinguishable in black and white.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

    from rtoutcomes.report.step_curves import CurveArrays
    from rtoutcomes.results.model import FigureSettings

MM_PER_INCH = 25.4
DPI = 300
# six curves distinguishable in greyscale: dash pattern and grey level both differ
LINE_STYLES: tuple[Any, ...] = (
    "-",
    (0, (4, 1.5)),
    (0, (1, 1.2)),
    (0, (5, 1.5, 1, 1.5)),
    (0, (2.5, 1.5)),
    (0, (6, 1.5, 1, 1.5, 1, 1.5)),
)
GREYS = ("0.0", "0.5", "0.0", "0.3", "0.6", "0.15")
CURVE_LINE: dict[str, Any] = {
    "linewidth": 1.0,
    "solid_joinstyle": "miter",
    "dash_joinstyle": "miter",
    "dash_capstyle": "butt",
}
"""How every survival and incidence curve is stroked (points): square corners at each step,
dashed or not, and dashes cut square. (Dashes had matplotlib's round joins, a corner rounded
by half a line width where the solid curves' is square; Agg strokes a join at every step of
a dense thinned curve, and a round one draws about half again as much as a miter: 0.011 s of
a 3-group PNG at 1e6 rows, 0.010 s of its 600 dpi TIFF.) tests/test_raster_thinning.py checks
the thinning's bound in this style."""
FONT_PT = 7.0
SMALL_PT = 6.5
LETTER_PT = 10.0
RC: dict[Any, Any] = {
    # Labels come from registries and study files: a "$" is text, not mathtext (a lone "$"
    # would be a parse error).
    "text.parse_math": False,
    "svg.hashsalt": "rtoutcomes",
    "svg.fonttype": "path",
    "pdf.fonttype": 3,  # embedded Type 3 subsets: Type 42 subsetting costs ~0.25 s a figure
    "font.size": FONT_PT,
    "axes.titlesize": 7.5,
    "axes.labelsize": FONT_PT,
    "legend.fontsize": SMALL_PT,
    "legend.title_fontsize": SMALL_PT,
    "xtick.labelsize": SMALL_PT,
    "ytick.labelsize": SMALL_PT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "path.simplify": False,
}
FORMATS = ("png", "svg", "tiff", "pdf")


@dataclass(frozen=True)
class Rendered:
    """A figure's files: format -> bytes (``png`` and ``svg`` always)."""

    files: dict[str, bytes]

    @property
    def svg(self) -> bytes:
        return self.files["svg"]

    @property
    def png(self) -> bytes:
        return self.files["png"]


@dataclass(frozen=True)
class Curve:
    """One step curve: its label, the curve dict of results.json and n.

    Kaplan-Meier: ``km`` is the endpoint's ``km`` dict (``time``, ``estimate``, ``lower``,
    ``upper``, ``n_risk``, ``n_censor``), falling from 1. Cumulative incidence (``rising``):
    ``km`` is a cause's ``curve`` dict (jumps; ``end`` = last follow-up, drawn flat to it) and
    ``risk`` the level's ``at_risk`` dict (``time``, ``n_risk``) for the numbers at risk.
    """

    label: str
    km: dict[str, Any]
    n: int | None
    rising: bool = False
    risk: dict[str, Any] | None = None

    @cached_property
    def arrays(self) -> CurveArrays:
        """``km``'s lists as arrays, each converted once (``step_curves.CurveArrays``)."""
        from rtoutcomes.report.step_curves import CurveArrays

        return CurveArrays(self.km)


@dataclass(frozen=True)
class Axis:
    """The time axis: unit, last time shown (``max_time``; default: the data's) and tick step
    (``break_time``; default: a step giving at most 8 intervals)."""

    unit: str = "months"
    max_time: float | None = None
    break_time: float | None = None


@dataclass(frozen=True)
class Panel:
    """One survival panel: curves, title, y label, the group test's p and the legend title."""

    curves: Sequence[Curve]
    title: str
    ylabel: str
    p_text: str | None = None
    legend_title: str | None = None
    risk_table: bool = True


@dataclass(frozen=True)
class Style:
    """Width (mm: 85 single column, 174 double), confidence bands, panel columns."""

    width_mm: float = 85
    bands: bool = False
    columns: int = 1
    letters: bool = True


@dataclass
class PanelAxes:
    """What ``survival_panel`` drew: the plot, the numbers at risk and the placed labels."""

    plot: Axes
    risk: list[Text] = field(default_factory=list)  # the numbers at risk and row labels
    lines: list[Line2D] = field(default_factory=list)
    legend: Legend | None = None
    label: Text | None = None


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure on its own Agg canvas at the PNG's 300 dpi: no pyplot, no global figure
    registry (matplotlib is imported late: the CLI stays light). Text measured for the layout
    is measured by the renderer that then draws the PNG, so it is measured once."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def untickable_axes(fig: Figure, rect: tuple[float, float, float, float]) -> Axes:
    """``fig.add_axes(rect)`` for a plot whose axes never draw matplotlib's ticks (the survival
    panels' ticks are plain artists, ``finish_axes(static_ticks=True)``; the flow chart has no
    axis): an Axes whose axes make no ``Tick`` objects until ticks are asked for by number.

    matplotlib gives each axis a major and a minor tick at once (two lines, two texts and a
    grid line each; the axes' ``clear`` applies the grid and clip settings to them), which such
    axes never draw: ~20 artists of an Axes' ~30, ~0.1 CPU s of the demo's 37 axes. Nothing
    drawn changes (tests/test_report_figures.py compares every format with a plain Axes'). The
    axes' classes replace matplotlib's in ``Axes._init_axis`` (private); where a matplotlib
    version lacks it, or its tick lists are not the lazy lists this relies on, a plain Axes."""
    return fig.add_axes(rect, axes_class=_untickable_class())


_UNTICKABLE: list[type] = []  # the Axes class, made once (matplotlib is imported late)


def _untickable_class() -> type:
    if _UNTICKABLE:
        return _UNTICKABLE[0]
    import matplotlib.axis as maxis
    from matplotlib.axes import Axes

    lazy = getattr(maxis, "_LazyTickList", None)
    if not (
        hasattr(Axes, "_init_axis")
        and lazy is not None
        and isinstance(maxis.Axis.__dict__.get("majorTicks"), lazy)
        and isinstance(maxis.Axis.__dict__.get("minorTicks"), lazy)
    ):
        _UNTICKABLE.append(Axes)
        return Axes

    class NoTicksYet:
        """An axis' tick list: empty until ticks are asked for by number (``get_major_ticks``
        makes them then, as for any axis), where matplotlib's lazy list makes one at once."""

        def __init__(self, name: str) -> None:
            self.name = name

        def __get__(self, axis: Any, owner: type) -> Any:
            if axis is None:
                return self
            ticks: list[Any] = []
            setattr(axis, self.name, ticks)
            return ticks

    class XAxis(maxis.XAxis):
        majorTicks = NoTicksYet("majorTicks")
        minorTicks = NoTicksYet("minorTicks")

    class YAxis(maxis.YAxis):
        majorTicks = NoTicksYet("majorTicks")
        minorTicks = NoTicksYet("minorTicks")

    class UntickableAxes(Axes):
        def _init_axis(self) -> None:  # Axes._init_axis with these axes' classes
            self.xaxis = XAxis(self, clear=False)
            self.spines.bottom.register_axis(self.xaxis)
            self.spines.top.register_axis(self.xaxis)
            self.yaxis = YAxis(self, clear=False)
            self.spines.left.register_axis(self.yaxis)
            self.spines.right.register_axis(self.yaxis)

    _UNTICKABLE.append(UntickableAxes)
    return UntickableAxes


@contextmanager
def rc_context() -> Iterator[None]:
    """The figures' style (``RC``) for the drawing inside the ``with`` block, each text measured
    once per process (``text_measure``), each legend's boxes sized once per drawing
    (``legend_layout``)."""
    import matplotlib

    from rtoutcomes.report.legend_layout import laid_out_once
    from rtoutcomes.report.text_measure import measured_once

    with matplotlib.rc_context(RC), measured_once(), laid_out_once():
        yield


def render(
    fig: Figure, formats: Sequence[str] = ("png", "svg"), *, tiff_dpi: int = DPI
) -> Rendered:
    """The figure's files, deterministic: PNG (300 dpi) and TIFF (LZW, ``tiff_dpi``: 300 or
    600) from one raster when their resolutions agree, SVG and PDF as vectors. Every format is
    drawn from the same figure, without re-layout."""
    from rtoutcomes.report import raster_thinning

    files: dict[str, bytes] = {}
    with rc_context():
        raster = {"png", "tiff"} & set(formats)
        if raster:
            _raster(fig, raster, files, tiff_dpi)
        vector = {"svg", "pdf"} & set(formats)
        restore = _thin_censor_marks(fig) if vector else []
        bands = raster_thinning.thin_bands(fig, DPI) if vector else []  # as the 300 dpi PNG
        if "svg" in formats:
            # a text file: the SVG backend writes its ~80,000 pieces to it as they are, then
            # they are encoded at once (to a bytes file, each piece is encoded on its own)
            text = io.StringIO()
            fig.savefig(text, format="svg", metadata={"Date": None, "Creator": "rtoutcomes"})
            files["svg"] = text.getvalue().encode("utf-8")
        if "pdf" in formats:
            buffer = io.BytesIO()
            fig.savefig(
                buffer,
                format="pdf",
                metadata={
                    "Creator": "rtoutcomes",
                    "Producer": "rtoutcomes",
                    "CreationDate": None,
                    "ModDate": None,
                },
            )
            files["pdf"] = buffer.getvalue()
        for line, data in restore:
            raster_thinning.put_back(line, data)
        raster_thinning.restore(bands)
    return Rendered(files={k: files[k] for k in FORMATS if k in files})


CENSOR_MARKS = "_censor_marks"  # label of the censor-tick lines (an underscore: no legend)


def _thin_censor_marks(fig: Figure) -> list[tuple[Line2D, tuple[Any, Any]]]:
    """Censor ticks and step curves thinned for the vector files, to what the 300 dpi raster
    shows (the raster itself is drawn from every tick and step, see ``_cap_censor_runs``).

    Ticks: one per pixel of the 300 dpi raster (ticks that share a pixel are drawn over each
    other there; in an SVG or PDF each would be one more element: one per distinct censoring
    time). Step curves: the steps within one pixel column of the 300 dpi raster as one step
    from the first step's time, the same total drop and length (a curve of a million rows
    would otherwise be two million vertices: tens of MB of SVG). Returns each thinned line's
    full data."""
    import numpy as np

    from rtoutcomes.report.raster_thinning import is_staircase, stamp_pixels

    thinned = []
    original = fig.dpi
    fig.set_dpi(DPI)
    try:
        for ax in fig.axes:
            for line in ax.get_lines():
                x, y = (np.asarray(v, dtype=float) for v in line.get_data())
                if line.get_label() == CENSOR_MARKS:
                    keep = _first_tick_on_each_pixel(*stamp_pixels(line, x, y)[0].T)
                elif is_staircase(x, y):
                    keep, x = _staircase_vertices(line, x, y)
                else:
                    continue
                if keep.shape[0] < x.shape[0]:
                    thinned.append((line, line.get_data()))
                    line.set_data(x[keep], y[keep])
    finally:
        fig.set_dpi(original)
    return thinned


def _first_tick_on_each_pixel(column: Any, row: Any) -> Any:
    """Indices of the first tick stamped on each pixel (ticks at pixels ``column``, ``row``).
    Along a curve (columns not decreasing, rows monotone) a pixel's ticks are consecutive:
    each run's first; otherwise by sorting the pixels."""
    import numpy as np

    across, down = np.diff(column), np.diff(row)
    if np.all(across >= 0) and (np.all(down >= 0) or np.all(down <= 0)):
        return np.flatnonzero(np.concatenate(([True], (across != 0) | (down != 0))))
    _, first = np.unique(np.column_stack((column, row)), axis=0, return_index=True)
    return np.sort(first)


def _staircase_vertices(line: Line2D, x: Any, y: Any) -> tuple[Any, Any]:
    """Indices of the vertices to keep: per run of steps in one pixel column, the first step's
    time and the run's last value (the vertical segment at the first step, from the value
    before the run to the value after it), and the x values with each run's drop moved to its
    first step's time."""
    import numpy as np

    core = x.shape[0] if x.shape[0] % 2 == 1 else x.shape[0] - 1
    from rtoutcomes.report.raster_thinning import display_xy

    times = x[1:core:2]
    column = np.floor(display_xy(line, times, y[2:core:2])[0])
    first = np.concatenate(([True], column[1:] != column[:-1]))
    last = np.concatenate((column[1:] != column[:-1], [True]))
    step = np.arange(times.shape[0])
    # vertex 2j+1 is (t_j, value before j); vertex 2j+2 is (t_j, value after j): keep the
    # first step's "before" vertex and the last step's "after" vertex, moved to the first
    # step's time below
    before = 2 * step[first] + 1
    after = 2 * step[last] + 2
    keep = np.sort(np.concatenate(([0], before, after, np.arange(core, x.shape[0]))))
    moved = x.copy()
    moved[after] = x[before]
    return keep, moved


CENSOR_STAMPS = 9
"""A run of censor ticks stamped on one pixel: after this many stamps more change no pixel.
Agg stamps every tick of a line with the same coverage mask at whole pixels and blends each
stamp into the image before the next; repeated on one pixel, the blend of a grey reaches a
fixed point after at most 9 stamps for every background value, grey and resolution the report
uses (tests/test_report_figures.py checks all 256 background values), so a run longer than
this is drawn as this many stamps: the same bytes."""

CENSOR_STAMPS_600 = 3
"""``CENSOR_STAMPS`` for a raster at 600 dpi: there the tick's coverage mask (29 x 6 px) has no
partial cover small enough to need more blends, and 3 stamps reach the fixed point on every
background value for every grey the report uses, tested as ``CENSOR_STAMPS`` is: a third of
the stamps of a dense curve's ticks, the same bytes."""

FEWER_STAMPS: dict[tuple[int, str], int] = {
    (300, "0.5"): 8,
    (300, "0.3"): 8,
    (300, "0.6"): 8,
    (300, "0.15"): 8,
    (600, "0.5"): 2,
}
"""(dpi, grey) -> stamps where a grey's ticks reach the fixed point sooner than the dpi's
number (black needs 9 at 300 dpi, 3 at 600; tested grey by grey, each the least that holds)."""


CENSOR_TICK: dict[str, Any] = {"marker": "|", "markersize": 3.5, "markeredgewidth": 0.7}
"""The censor ticks' style (points): the style whose stamps the numbers above were found for
(tests/test_report_figures.py stamps ticks drawn with it). ``_cap_censor_runs`` cuts only tick
lines drawn in it: a tick of another size may need more stamps to reach its fixed point."""


def _in_censor_tick_style(line: Line2D) -> bool:
    return (line.get_marker(), line.get_markersize(), line.get_markeredgewidth()) == (
        CENSOR_TICK["marker"],
        CENSOR_TICK["markersize"],
        CENSOR_TICK["markeredgewidth"],
    )


def censor_stamps_at(dpi: int, color: Any = None) -> int:
    """Stamps per run of ticks of ``color`` (a grey of ``GREYS``) on one pixel after which more
    change no pixel at ``dpi``."""
    default = CENSOR_STAMPS_600 if dpi == 600 else CENSOR_STAMPS
    if not isinstance(color, str):
        return default
    return FEWER_STAMPS.get((dpi, color), default)


def _cap_censor_runs(fig: Figure, dpi: int) -> list[tuple[Line2D, tuple[Any, Any]]]:
    """Censor ticks for the raster at ``dpi``: each run of consecutive ticks on one pixel cut to
    ``censor_stamps_at(dpi, its grey)`` (ticks on a pixel edge kept), for tick lines drawn in
    ``CENSOR_TICK``'s style; returns each cut line's full data."""
    import numpy as np

    from rtoutcomes.report import raster_thinning

    cut = []
    original = fig.dpi
    fig.set_dpi(dpi)
    try:
        for ax in fig.axes:
            for line in ax.get_lines():
                if line.get_label() != CENSOR_MARKS or not _in_censor_tick_style(line):
                    continue
                x, y = (np.asarray(v, dtype=float) for v in line.get_data())
                stamps = censor_stamps_at(dpi, line.get_color())
                if x.shape[0] <= stamps:
                    continue
                keep = raster_thinning.raster_stamps(line, x, y, stamps)  # by search
                if keep is None:
                    pixel, sure = raster_thinning.stamp_pixels(line, x, y)
                    column, row = pixel[:, 0], pixel[:, 1]
                    same = (column[1:] == column[:-1]) & (row[1:] == row[:-1])
                    same &= sure[1:] & sure[:-1]
                    starts = np.flatnonzero(np.concatenate(([True], ~same)))
                    run = np.cumsum(np.concatenate(([True], ~same))) - 1
                    keep = np.flatnonzero(np.arange(x.shape[0]) - starts[run] < stamps)
                if keep.shape[0] < x.shape[0]:
                    cut.append((line, line.get_data()))
                    line.set_data(x[keep], y[keep])
    finally:
        fig.set_dpi(original)
    return cut


def _raster(fig: Figure, formats: set[str], files: dict[str, bytes], tiff_dpi: int) -> None:
    from PIL import PngImagePlugin

    from rtoutcomes.report import hidden_strokes, raster_thinning

    wanted = {dpi for dpi, kind in ((DPI, "png"), (tiff_dpi, "tiff")) if kind in formats}
    for dpi in sorted(wanted):
        cut = _cap_censor_runs(fig, dpi)
        thinned = raster_thinning.thin_for_raster(fig, dpi)  # dense step curves, at this dpi
        hidden = hidden_strokes.hide_covered(fig, dpi)  # their stretches under censor ticks
        try:
            image = raster_image(fig, dpi)
        finally:
            hidden_strokes.restore(hidden)
            raster_thinning.restore(thinned)
            for line, data in cut:
                raster_thinning.put_back(line, data)
        if "png" in formats and dpi == DPI:
            buffer = io.BytesIO()
            info = PngImagePlugin.PngInfo()
            info.add_text("Software", "rtoutcomes")
            image.save(buffer, format="png", dpi=(dpi, dpi), pnginfo=info, optimize=False)
            files["png"] = buffer.getvalue()
        if "tiff" in formats and dpi == tiff_dpi:
            buffer = io.BytesIO()
            image.save(buffer, format="tiff", dpi=(dpi, dpi), compression="tiff_lzw")
            files["tiff"] = buffer.getvalue()


def render_main(fig: Figure, settings: FigureSettings) -> Rendered:
    """A main figure in the study's ``figures.formats``, TIFF at its ``tiff_dpi``."""
    return render(fig, settings["formats"], tiff_dpi=settings.get("tiff_dpi", DPI))


def rgb_image(fig: Figure, dpi: int) -> Any:
    """The figure drawn by Agg at ``dpi`` as a Pillow RGB image (the figure keeps its dpi)."""
    from PIL import Image

    return Image.fromarray(_rgba(fig, dpi)[..., :3])


def raster_image(fig: Figure, dpi: int) -> Any:
    """``rgb_image``, as a greyscale ("L") image when every pixel is grey (R = G = B, as in the
    report's black-and-grey figures): the same pixel values, a third of the bytes to compress
    (PNG and TIFF encode ~3x faster and come out half the size)."""
    import numpy as np
    from PIL import Image

    rgba = _drawn(fig, dpi)  # the canvas's own buffer: read, not copied
    if is_grey(rgba):
        return Image.fromarray(np.ascontiguousarray(rgba[..., 0]))
    return Image.fromarray(np.ascontiguousarray(rgba[..., :3]))


GREY_CHUNK = 1 << 16  # pixels checked at a time (256 kB: the check's temporaries stay cached)


def is_grey(rgba: Any) -> bool:
    """Whether every pixel of ``rgba`` (height x width x 4, uint8) has R = G = B. Each pixel is
    read as one little-endian 32-bit word (R in its low byte, then G, B, A): the word XOR itself
    shifted down a byte holds R ^ G and G ^ B in its two low bytes, both 0 only for a grey
    pixel. A block of pixels at a time, so that the whole check reads the buffer once from
    memory (two ``np.array_equal`` on strided channels took twice as long: ~1 ms a 300 dpi
    figure); it stops at the first block with colour."""
    import numpy as np

    words = np.ascontiguousarray(rgba).view("<u4").reshape(-1)
    scratch = np.empty(min(GREY_CHUNK, words.shape[0]), dtype=words.dtype)
    for start in range(0, words.shape[0], GREY_CHUNK):
        block = words[start : start + GREY_CHUNK]
        mixed = scratch[: block.shape[0]]
        np.right_shift(block, 8, out=mixed)
        np.bitwise_xor(mixed, block, out=mixed)
        np.bitwise_and(mixed, 0xFFFF, out=mixed)
        if mixed.any():
            return False
    return True


def _rgba(fig: Figure, dpi: int) -> Any:
    """The figure drawn by Agg at ``dpi``: its RGBA pixels (height x width x 4, uint8)."""
    import numpy as np

    return np.array(_drawn(fig, dpi))  # a copy: the canvas reuses its buffer


def _drawn(fig: Figure, dpi: int) -> Any:
    """The figure drawn by Agg at ``dpi``: the canvas's RGBA buffer as an array (height x
    width x 4, uint8), valid until the canvas draws again."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    original = fig.dpi
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):  # a figure made elsewhere (pyplot, another
        canvas = FigureCanvasAgg(fig)  # backend): drawn on an Agg canvas
    if dpi != original:
        fig.set_dpi(dpi)
    try:
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())
    finally:
        if dpi != original:
            fig.set_dpi(original)


MAX_TICKS = 40  # ticks of one time axis at most, whatever the data or break_time


def ticks(axis: Axis, data_end: float) -> list[float]:
    """Tick positions from 0: ``break_time`` steps up to ``max_time`` (or past the data)."""
    end = axis.max_time if axis.max_time is not None else max(data_end, 1.0)
    step = axis.break_time
    if step is None:
        choices = (1, 3, 6, 12, 24, 36, 60) if axis.unit == "months" else (7, 30, 90, 180, 365, 730)
        # a float: for a time of 1e308 an int step would be too large for matplotlib
        step = float(
            next(
                (s for s in choices if end / s <= 8),
                choices[-1] * math.ceil(end / (8 * choices[-1])),
            )
        )
    if not end / step <= MAX_TICKS:  # a break_time far below the data's span: multiples of it
        ratio = end / step
        step = step * math.ceil(ratio / MAX_TICKS) if math.isfinite(ratio) else end / MAX_TICKS
    count = math.ceil(end / step - 1e-9)
    if axis.max_time is not None:
        count = math.floor(end / step + 1e-9)
    return [i * step for i in range(count + 1)]


def draw_curves(
    ax: Axes, curves: Sequence[Curve], *, bands: bool = False, censor_marks: bool = True
) -> list[Line2D]:
    """Step curves (KM falling from 1, incidence rising from 0) with censor ticks and,
    if ``bands``, the pointwise confidence band; returns the curve lines (legend handles)."""
    from rtoutcomes.report import step_curves

    lines = []
    labelled = len(curves) > 1 or curves[0].rising
    for i, curve in enumerate(curves):
        style, grey = LINE_STYLES[i % len(LINE_STYLES)], GREYS[i % len(GREYS)]
        start = 0.0 if curve.rising else 1.0
        label = None
        if labelled:
            label = curve.label if curve.n is None else f"{curve.label} (n={curve.n})"
        line = step_curves.plot_steps(
            ax,
            curve,
            start,
            linestyle=style,
            color=grey,
            label=label,
            **CURVE_LINE,
        )
        lines.append(line)
        if bands:
            step_curves.plot_band(ax, curve, start, color=grey, alpha=0.12, linewidth=0)
        if censor_marks:
            step_curves.plot_censor_ticks(
                ax,
                curve,
                **CENSOR_TICK,
                color=grey,
                label=CENSOR_MARKS,
            )
    return lines


def finish_axes(
    ax: Axes,
    tick_times: Sequence[float],
    *,
    time_unit: str,
    ylabel: str,
    title: str,
    static_ticks: bool = False,
) -> None:
    """Percent scale, time ticks, labels and title: the same on every survival panel.

    ``static_ticks`` (the report's figures, drawn once per format at fixed limits) draws the
    ticks as plain artists of the figure where matplotlib's ticks would be: one line of tick
    marks per axis and a text per label. matplotlib's tick objects (two lines, two texts, a grid
    line each) and its per-draw tick layout are a third of a panel's drawing time; a figure whose
    axes a user may zoom (``rtoutcomes.plot`` on the user's axes) keeps them."""
    ax.set_xlim(0, tick_times[-1])
    ax.set_ylim(0, 1.02)
    x_labels = [f"{t:g}" for t in tick_times]
    y_ticks, y_labels = [0, 0.25, 0.5, 0.75, 1.0], ["0", "25", "50", "75", "100"]
    x_pad, y_pad = 2.0, 3.0  # axis label to tick labels, points
    if static_ticks:
        ax.set_xticks([])
        ax.set_yticks([])
        x_depth, y_width = _static_ticks(ax, list(tick_times), x_labels, y_ticks, y_labels)
        x_pad, y_pad = x_pad + x_depth, y_pad + y_width
    else:
        ax.set_xticks(list(tick_times))
        ax.set_xticklabels(x_labels)
        ax.set_yticks(y_ticks)
        ax.set_yticklabels(y_labels)
    ax.spines["left"].set_bounds(0, 1)
    ax.set_xlabel(f"Time ({time_unit})", labelpad=x_pad)
    ax.set_ylabel(f"{ylabel} (%)", labelpad=y_pad)
    ax.set_title(title, loc="left", pad=4, y=1.0)  # fixed: no per-draw re-placement
    for line in ax.lines:
        line.set_clip_on(True)


TICK_PT = 3.5  # tick mark length (matplotlib's default)
TICK_PAD_PT = 3.5  # tick mark to its label (matplotlib's default)


def _static_ticks(
    ax: Axes,
    x_ticks: list[float],
    x_labels: list[str],
    y_ticks: list[float],
    y_labels: list[str],
) -> tuple[float, float]:
    """Tick marks and labels of ``ax`` as figure artists, placed by the transforms matplotlib's
    ticks use; returns how far the x tick labels reach below the axis and the y tick labels
    left of it (points), the room the axis labels keep clear of."""
    from matplotlib.lines import Line2D
    from matplotlib.markers import TICKDOWN, TICKLEFT

    fig = cast(Any, ax.figure)
    pad = TICK_PT + TICK_PAD_PT
    renderer = fig.canvas.get_renderer()
    reach = []
    for name, ticks_, labels, marker, (text_transform, va, ha), tick_transform, xy in (
        (
            "xtick",
            x_ticks,
            x_labels,
            TICKDOWN,
            ax.get_xaxis_text1_transform(pad),
            ax.get_xaxis_transform(which="tick1"),
            lambda v: (v, 0.0),
        ),
        (
            "ytick",
            y_ticks,
            y_labels,
            TICKLEFT,
            ax.get_yaxis_text1_transform(pad),
            ax.get_yaxis_transform(which="tick1"),
            lambda v: (0.0, v),
        ),
    ):
        points = [xy(v) for v in ticks_]
        fig.add_artist(
            Line2D(
                [p[0] for p in points],
                [p[1] for p in points],
                transform=tick_transform,
                linestyle="none",
                marker=cast(Any, marker),
                markersize=TICK_PT,
                markeredgewidth=0.6,
                color="black",
            )
        )
        texts = [
            fig.text(
                *p,
                label,
                transform=text_transform,
                va=va,
                ha=ha,
                fontsize=SMALL_PT,
                label=name,  # the artist's name (tests find the ticks by it); not drawn
            )
            for p, label in zip(points, labels, strict=True)
        ]
        boxes = [t.get_window_extent(renderer) for t in texts]
        size = max(b.height for b in boxes) if marker == TICKDOWN else max(b.width for b in boxes)
        reach.append(pad + size * 72 / fig.dpi)
    return reach[0], reach[1]


def fit_title(ax: Axes, width_in: float) -> None:
    """Make the axes' left title at most ``width_in`` wide: the small font, then cut with an
    ellipsis (the caption gives it whole)."""
    title = ax._left_title  # type: ignore[attr-defined]  # no public getter of the left title
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    dpi = ax.figure.dpi

    def width() -> float:
        return float(title.get_window_extent(renderer).width) / dpi

    if width() <= width_in:
        return
    title.set_fontsize(SMALL_PT)
    text = title.get_text()
    while width() > width_in and len(text) > 4:
        text = text[:-1]
        title.set_text(text.rstrip() + "\u2026")


def place_legend_and_label(
    ax: Axes, lines: Sequence[Line2D], *, legend_title: str | None, p_text: str | None
) -> tuple[Legend | None, Text | None]:
    """Legend (when the curves have labels) and the test's p where no curve is."""
    from rtoutcomes.report.figure_layout import PointsRead, alignment, place_clear

    legend = None
    avoid = []
    read = PointsRead()  # the legend and the label read the same points
    if any(not str(line.get_label() or "_").startswith("_") for line in lines):
        legend = ax.legend(
            handles=list(lines),
            frameon=False,
            title=legend_title,
            handlelength=2.4,
            borderaxespad=0.2,
            borderpad=0.2,
            labelspacing=0.25,
            alignment="left",
        )

        def move_legend(x: float, y: float) -> None:
            ha, va = alignment(x, y)
            vertical = {"top": "upper", "bottom": "lower", "center": "center"}[va]
            loc = (
                "center"
                if (ha, va) == ("center", "center")
                else (f"{vertical} {ha}" if ha != "center" else f"{vertical} center")
            )
            loc = {"center left": "center left", "center right": "center right"}.get(loc, loc)
            legend.set_loc(cast(Any, loc))
            legend.set_bbox_to_anchor((x, y), transform=ax.transAxes)

        place_clear(ax, legend, move_legend, read=read)
        avoid.append(legend.get_window_extent(ax.figure.canvas.get_renderer()))  # type: ignore[attr-defined]
    label = None
    if p_text:
        label = ax.text(0.02, 0.02, p_text, transform=ax.transAxes, fontsize=SMALL_PT)

        def move_label(x: float, y: float) -> None:
            ha, va = alignment(x, y)
            label.set_position((x, y))
            label.set_horizontalalignment(ha)
            label.set_verticalalignment(va)

        place_clear(ax, label, move_label, avoid=avoid, read=read)
    return legend, label


def _truncate(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def draw_risk_table(
    ax: Axes, curves: Sequence[Curve], tick_times: Sequence[float], *, label_gap_pt: float = 12.0
) -> list[Text]:
    """Numbers at risk under the ticks (``ax`` shares the plot's x range), one row per curve;
    row labels right-aligned in the margin, ``label_gap_pt`` clear of the first count."""
    from matplotlib.transforms import offset_copy

    ax.set_xlim(0, tick_times[-1])
    ax.set_ylim(-0.5, len(curves) - 0.5)
    ax.axis("off")
    label_transform = offset_copy(
        ax.get_yaxis_transform(), fig=cast(Any, ax.figure), x=-label_gap_pt, units="points"
    )
    ys = [len(curves) - 1 - row for row in range(len(curves))]
    return _risk_texts(ax.text, curves, tick_times, ys, ax.transData, label_transform)


def _risk_texts(
    text: Callable[..., Text],
    curves: Sequence[Curve],
    tick_times: Sequence[float],
    ys: Sequence[float],
    transform: Any,
    label_transform: Any,
) -> list[Text]:
    """One row of numbers at risk per curve at height ``ys[row]`` (``text``: an axes' or the
    figure's ``text``), the row's label right-aligned before it."""
    from rtoutcomes.report.step_curves import at_risk

    drawn = []
    for row, (curve, y) in enumerate(zip(curves, ys, strict=True)):
        name = _truncate(curve.label) if len(curves) > 1 else "All"
        drawn.append(
            text(
                0,
                y,
                name,
                transform=label_transform,
                ha="right",
                va="center",
                fontsize=SMALL_PT,
                color=GREYS[row % len(GREYS)],
                label=RISK_LABEL,
            )
        )
        for t, n in zip(tick_times, at_risk(curve, tick_times), strict=True):
            drawn.append(
                text(
                    t,
                    y,
                    str(n),
                    transform=transform,
                    ha="center",
                    va="center",
                    fontsize=SMALL_PT,
                    label=RISK_COUNT,
                )
            )
    return drawn


RISK_LABEL, RISK_COUNT = "at risk label", "at risk"  # names of the numbers-at-risk texts


def draw_risk_rows(
    ax: Axes,
    curves: Sequence[Curve],
    tick_times: Sequence[float],
    top_in: float,
    *,
    label_gap_pt: float = 12.0,
) -> list[Text]:
    """``draw_risk_table`` without an axes of its own: the numbers at risk as figure texts under
    the ticks of ``ax`` (its x data coordinates), rows ``RISK_ROW_IN`` high from ``top_in``
    (inches from the figure's bottom) down."""
    from matplotlib.transforms import blended_transform_factory, offset_copy

    fig = cast(Any, ax.figure)
    transform = blended_transform_factory(ax.transData, fig.dpi_scale_trans)
    label_transform = offset_copy(transform, fig=fig, x=-label_gap_pt, units="points")
    ys = [top_in - (row + 0.5) * RISK_ROW_IN for row in range(len(curves))]
    return _risk_texts(fig.text, curves, tick_times, ys, transform, label_transform)


# vertical layout of a panel, inches
TITLE_IN = 0.2
XAXIS_IN = 0.36
RISK_HEAD_IN = 0.16
RISK_ROW_IN = 0.125
BOTTOM_IN = 0.04
LEFT_IN = 0.5  # at least: y label and tick labels
LABEL_GAP_PT = 12.0  # risk-table row label to the count at time 0
RIGHT_IN = 0.14
PLOT_ASPECT = 0.62  # plot height / plot width


def _risk_rows(panel: Panel) -> int:
    return len(panel.curves) if panel.risk_table else 0


RISK_CLEAR_PT = 4.0  # at least this between a row label and the count at time 0


def _widest_in(fig: Figure, texts: Iterable[str]) -> float:
    """The widest of ``texts`` at the risk table's font size, inches."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    probe = fig.text(0, 0, "", fontsize=SMALL_PT)
    widest = 0.0
    for text in texts:
        probe.set_text(text)
        widest = max(widest, probe.get_window_extent(renderer).width / fig.dpi)
    probe.remove()
    return widest


def risk_label_gap_pt(fig: Figure, panels: Sequence[Panel]) -> float:
    """From a risk-table row's label to time 0 (points): ``LABEL_GAP_PT``, or, where a count at
    time 0 is so wide that its left half (it is centred there) would come within
    ``RISK_CLEAR_PT`` of the label (a group of 100,000 rows), that half plus ``RISK_CLEAR_PT``."""
    from rtoutcomes.report.step_curves import at_risk

    first = (
        str(at_risk(curve, [0.0])[0])
        for panel in panels
        if panel.risk_table
        for curve in panel.curves
    )
    return max(LABEL_GAP_PT, _widest_in(fig, first) * 72 / 2 + RISK_CLEAR_PT)


def left_margin_in(
    fig: Figure, panels: Sequence[Panel], label_gap_pt: float = LABEL_GAP_PT
) -> float:
    """Left margin that holds the widest risk-table row label ``label_gap_pt`` from time 0."""
    labels = (
        _truncate(curve.label) if len(panel.curves) > 1 else "All"
        for panel in panels
        if panel.risk_table
        for curve in panel.curves
    )
    return max(LEFT_IN, _widest_in(fig, labels) + label_gap_pt / 72 + 0.08)


def panel_height_in(
    panel: Panel, width_in: float, left_in: float = LEFT_IN, risk_rows: int | None = None
) -> float:
    """Height of a panel ``width_in`` wide (inches); ``risk_rows`` aligns panels of a row."""
    rows = _risk_rows(panel) if risk_rows is None else risk_rows
    plot = (width_in - left_in - RIGHT_IN) * PLOT_ASPECT
    risk = RISK_HEAD_IN + RISK_ROW_IN * rows if rows else 0.0
    return TITLE_IN + plot + XAXIS_IN + risk + BOTTOM_IN


def survival_panel(
    fig: Figure,
    rect_in: tuple[float, float, float, float],
    panel: Panel,
    axis: Axis,
    *,
    bands: bool = False,
    letter: str | None = None,
    left_in: float = LEFT_IN,
    risk_rows: int | None = None,
    label_gap_pt: float = LABEL_GAP_PT,
) -> PanelAxes:
    """Draw ``panel`` in ``rect_in`` (x0, y0, width, height in inches from the figure's lower
    left): plot, numbers at risk, legend and p placed clear of the curves, panel letter.
    ``risk_rows`` reserves room for that many at-risk rows (panels of a row align);
    ``label_gap_pt``: from the rows' labels to time 0 (``risk_label_gap_pt``)."""
    x0, y0, width, height = rect_in
    fw, fh = fig.get_size_inches()
    rows = _risk_rows(panel) if risk_rows is None else max(risk_rows, _risk_rows(panel))
    risk_h = RISK_HEAD_IN + RISK_ROW_IN * rows if rows else 0.0
    plot_w = width - left_in - RIGHT_IN
    plot_y = y0 + BOTTOM_IN + risk_h + XAXIS_IN
    plot_h = height - TITLE_IN - XAXIS_IN - risk_h - BOTTOM_IN
    ax = untickable_axes(fig, ((x0 + left_in) / fw, plot_y / fh, plot_w / fw, plot_h / fh))
    end = max(c.arrays.end for c in panel.curves)
    tick_times = ticks(axis, end)
    lines = draw_curves(ax, panel.curves, bands=bands)
    finish_axes(
        ax,
        tick_times,
        time_unit=axis.unit,
        ylabel=panel.ylabel,
        title=panel.title,
        static_ticks=True,
    )
    # the title may run past its plot but not into the next panel (its letter, its title)
    fit_title(ax, plot_w + RIGHT_IN - 0.12)
    legend, label = place_legend_and_label(
        ax, lines, legend_title=panel.legend_title, p_text=panel.p_text
    )
    risk: list[Text] = []
    if panel.risk_table:
        top_of_rows = y0 + BOTTOM_IN + RISK_ROW_IN * rows
        risk = draw_risk_rows(ax, panel.curves, tick_times, top_of_rows, label_gap_pt=label_gap_pt)
        fig.text(
            (x0 + 0.04) / fw,
            (top_of_rows + RISK_HEAD_IN / 2) / fh,
            "No. at risk",
            ha="left",
            va="center",
            fontsize=SMALL_PT,
            fontweight="bold",
        )
    if letter:
        fig.text(
            (x0 + 0.02) / fw,
            (y0 + height - 0.02) / fh,
            letter,
            ha="left",
            va="top",
            fontsize=LETTER_PT,
            fontweight="bold",
        )
    return PanelAxes(plot=ax, risk=risk, lines=lines, legend=legend, label=label)


def survival_figure(panels: Sequence[Panel], axis: Axis, style: Style = Style()) -> Figure:
    """Panels in ``style.columns`` columns, lettered a, b, c ... when there are several; rows as
    tall as their tallest panel. Returns the matplotlib figure (``render`` writes it)."""
    with rc_context():
        width = style.width_mm / MM_PER_INCH
        columns = max(1, min(style.columns, len(panels)))
        panel_w = width / columns
        rows = [panels[i : i + columns] for i in range(0, len(panels), columns)]
        fig = new_figure(width, 1.0)
        gap = risk_label_gap_pt(fig, panels)
        left = left_margin_in(fig, panels, gap)
        risk_rows = [max(_risk_rows(p) for p in row) for row in rows]
        heights = [
            max(panel_height_in(p, panel_w, left, n) for p in row)
            for row, n in zip(rows, risk_rows, strict=True)
        ]
        fig.set_size_inches(width, sum(heights))
        lettered = style.letters and len(panels) > 1
        top = sum(heights)
        index = 0
        for row, height, n in zip(rows, heights, risk_rows, strict=True):
            top -= height
            for column, panel in enumerate(row):
                letter = "abcdefghijklmnopqrstuvwxyz"[index] if lettered else None
                survival_panel(
                    fig,
                    (column * panel_w, top, panel_w, height),
                    panel,
                    axis,
                    bands=style.bands,
                    letter=letter,
                    left_in=left,
                    risk_rows=n,
                    label_gap_pt=gap,
                )
                index += 1
        return fig


def km_figure(
    curves: Sequence[Curve],
    *,
    title: str,
    time_unit: str,
    ylabel: str,
    p_text: str | None = None,
    width_mm: float = 85,
    legend_title: str | None = None,
    max_time: float | None = None,
    break_time: float | None = None,
    bands: bool = False,
    formats: Sequence[str] = ("png", "svg"),
) -> Rendered:
    """One survival panel (KM or incidence curves) with numbers at risk, rendered."""
    fig = survival_figure(
        [Panel(curves, title, ylabel, p_text, legend_title)],
        Axis(time_unit, max_time, break_time),
        Style(width_mm=width_mm, bands=bands),
    )
    return render(fig, formats)
