"""Figures from Python: Kaplan-Meier and cumulative incidence curves with numbers at risk, a
forest plot of hazard ratios and the scaled Schoenfeld residuals of a PH test.

The curves are drawn by the report's own code (``rtoutcomes.report.figures``: the same
``survival_figure``/``draw_curves``/``draw_risk_table``, so a plot from a notebook looks like the
report's figure). Every function returns matplotlib objects: a ``Figure`` (on its own Agg canvas,
no pyplot state) when ``ax`` is not given, else the ``Axes`` it drew on. Save with
``fig.savefig(...)`` or ``rtoutcomes.report.figures.render(fig)``.

    from rtoutcomes import plot
    fig = plot.km(kaplan_meier(time, event, group=arm), risk_table=True, time_unit="months")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rtoutcomes.report import figures

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from rtoutcomes.stats import CoxResult, CoxZph, CumulativeIncidence, FineGray


def _numbers(values: Any) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _km_curve(label: str, fit: Any) -> figures.Curve:
    """A KaplanMeier or PredictedCurve as the report's Curve."""
    km = {
        "time": _numbers(fit.time),
        "estimate": _numbers(fit.survival),
        "lower": _numbers(fit.lower),
        "upper": _numbers(fit.upper),
        "n_risk": [round(v) for v in np.asarray(fit.n_risk, dtype=float).tolist()],
        "n_censor": [float(v) for v in np.asarray(fit.n_censor, dtype=float)],
    }
    n = getattr(fit, "n", None)
    return figures.Curve(label, km, None if n is None else int(n))


def _km_curves(fits: Any, labels: Sequence[str] | None) -> list[figures.Curve]:
    from rtoutcomes.stats import KaplanMeier, KaplanMeierGroups, PredictedSurvival

    if isinstance(fits, KaplanMeier):
        named: list[tuple[str, Any]] = [("All", fits)]
    elif isinstance(fits, KaplanMeierGroups):
        named = [(str(level), fit) for level, fit in fits.fits.items()]
    elif isinstance(fits, PredictedSurvival):
        named = [(f"curve {i + 1}", c) for i, c in enumerate(fits)]
    elif isinstance(fits, Mapping):
        named = [(str(k), v) for k, v in fits.items()]
    else:
        named = [(f"curve {i + 1}", fit) for i, fit in enumerate(fits)]
    if labels is not None:
        if len(labels) != len(named):
            raise ValueError(f"labels: {len(labels)} labels for {len(named)} curves")
        named = [(str(label), fit) for label, (_, fit) in zip(labels, named, strict=True)]
    return [_km_curve(label, fit) for label, fit in named]


def _draw(
    curves: list[figures.Curve],
    *,
    ax: Axes | None,
    risk_table: bool,
    title: str,
    ylabel: str,
    time_unit: str,
    p_text: str | None,
    legend_title: str | None,
    bands: bool,
    max_time: float | None,
    break_time: float | None,
    width_mm: float,
) -> Figure | Axes:
    axis = figures.Axis(time_unit, max_time, break_time)
    panel = figures.Panel(curves, title, ylabel, p_text, legend_title, risk_table)
    if ax is None:
        return figures.survival_figure([panel], axis, figures.Style(width_mm=width_mm, bands=bands))
    with figures.rc_context():
        end = max(c.arrays.end for c in curves)
        tick_times = figures.ticks(axis, end)
        lines = figures.draw_curves(ax, curves, bands=bands)
        figures.finish_axes(ax, tick_times, time_unit=time_unit, ylabel=ylabel, title=title)
        figures.place_legend_and_label(ax, lines, legend_title=legend_title, p_text=p_text)
        if risk_table:
            rows = len(curves)
            risk_ax = ax.inset_axes((0.0, -0.28 - 0.09 * rows, 1.0, 0.09 * rows))
            figures.draw_risk_table(risk_ax, curves, tick_times)
    return ax


def km(
    fit_or_fits: Any,
    *,
    risk_table: bool = True,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    title: str = "",
    ylabel: str = "Survival",
    time_unit: str = "months",
    p_text: str | None = None,
    legend_title: str | None = None,
    bands: bool = False,
    max_time: float | None = None,
    break_time: float | None = None,
    width_mm: float = 85,
) -> Figure | Axes:
    """Kaplan-Meier curves with numbers at risk, as the report draws them.

    ``fit_or_fits``: a ``KaplanMeier``, the ``KaplanMeierGroups`` of ``kaplan_meier(...,
    group=)``, a ``PredictedSurvival`` (Cox model curves), or a list or dict of curves.
    ``p_text`` (e.g. "log-rank p = 0.03") is placed where no curve is.
    """
    return _draw(
        _km_curves(fit_or_fits, labels),
        ax=ax,
        risk_table=risk_table,
        title=title,
        ylabel=ylabel,
        time_unit=time_unit,
        p_text=p_text,
        legend_title=legend_title,
        bands=bands,
        max_time=max_time,
        break_time=break_time,
        width_mm=width_mm,
    )


def cif(
    fit: CumulativeIncidence,
    *,
    cause: Any = None,
    risk_table: bool = True,
    ax: Axes | None = None,
    title: str = "",
    ylabel: str = "Cumulative incidence",
    time_unit: str = "months",
    p_text: str | None = None,
    bands: bool = False,
    max_time: float | None = None,
    break_time: float | None = None,
    width_mm: float = 85,
) -> Figure | Axes:
    """Cumulative incidence curves: every (cause, group) curve, or one ``cause`` by group."""
    curves = []
    for c in fit:
        if cause is not None and c.cause != cause:
            continue
        parts = [] if fit.groups is None else [str(c.group)]
        if cause is None:
            parts.append(f"cause {c.cause}")
        curve = {
            "time": _numbers(c.time),
            "estimate": _numbers(c.estimate),
            "lower": _numbers(c.lower),
            "upper": _numbers(c.upper),
            "end": c.end,
        }
        risk_time = c.time if c.risk_time is None else c.risk_time
        risk_n = c.n_risk if c.risk_n is None else c.risk_n
        counts = [round(v) for v in np.asarray(risk_n, dtype=float).tolist()]
        risk = {"time": _numbers(risk_time), "n_risk": counts}
        curves.append(figures.Curve(", ".join(parts) or "All", curve, None, True, risk))
    if not curves:
        raise ValueError(f"cause: {cause!r} is not a cause of the fit ({fit.causes.tolist()})")
    if p_text is None and fit.tests is not None and cause is not None:
        row = fit.tests.causes.tolist().index(cause)
        p_text = f"Gray's test p = {float(fit.tests.p[row]):.3g}"
    return _draw(
        curves,
        ax=ax,
        risk_table=risk_table,
        title=title,
        ylabel=ylabel,
        time_unit=time_unit,
        p_text=p_text,
        legend_title=None,
        bands=bands,
        max_time=max_time,
        break_time=break_time,
        width_mm=width_mm,
    )


def forest(
    fit: CoxResult | FineGray,
    *,
    ax: Axes | None = None,
    title: str = "",
    xlabel: str = "Hazard ratio (95% CI, log scale)",
    width_mm: float = 120,
) -> Figure | Axes:
    """Hazard ratios with their limits on a log axis, one row per covariate (the fit's own
    ``to_frame()``: the reported, robust where robust, errors); a line at 1."""
    frame = fit.to_frame()
    lower = frame[next(c for c in frame.columns if c.startswith("lower"))].to_numpy(float)
    upper = frame[next(c for c in frame.columns if c.startswith("upper"))].to_numpy(float)
    hr = frame["hr"].to_numpy(float)
    names = [str(v) for v in frame.index]
    with figures.rc_context():
        fig = None
        if ax is None:
            fig = figures.new_figure(width_mm / figures.MM_PER_INCH, 0.6 + 0.22 * len(names))
            ax = fig.add_axes((0.38, 0.18, 0.58, 0.72))
        y = np.arange(len(names))[::-1]
        finite = np.isfinite(lower) & np.isfinite(upper) & (lower > 0)
        ax.hlines(y[finite], lower[finite], upper[finite], color="0.0", linewidth=0.9)
        ax.plot(hr, y, linestyle="none", marker="s", markersize=4, color="0.0")
        ax.axvline(1.0, color="0.5", linewidth=0.6, linestyle=(0, (4, 2)))
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(names)
        ax.set_ylim(-0.7, len(names) - 0.3)
        ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title, loc="left")
    return fig if fig is not None else ax


def zph(
    result: CoxZph,
    term: str | None = None,
    *,
    ax: Axes | None = None,
    width_mm: float = 85,
) -> Figure | Axes:
    """Scaled Schoenfeld residuals of one term against transformed time (R's plot.cox.zph
    data, ``result.x``/``result.y``), with a least-squares cubic trend and the line at the
    term's average effect; a flat trend is what proportional hazards predicts."""
    terms = list(result.terms)
    name = terms[0] if term is None else term
    if name not in terms:
        raise ValueError(f"term: {name!r} is not one of {terms}")
    column = terms.index(name)
    if result.y.ndim != 2 or column >= result.y.shape[1]:
        raise ValueError(f"term: {name!r} has no single residual column (use terms=False)")
    x, yv = np.asarray(result.x, float), np.asarray(result.y[:, column], float)
    ok = np.isfinite(x) & np.isfinite(yv)
    with figures.rc_context():
        fig = None
        if ax is None:
            fig = figures.new_figure(
                width_mm / figures.MM_PER_INCH, width_mm / figures.MM_PER_INCH * 0.7
            )
            ax = fig.add_axes((0.16, 0.16, 0.8, 0.76))
        ax.plot(x[ok], yv[ok], linestyle="none", marker="o", markersize=2, color="0.45")
        if ok.sum() > 4:
            grid = np.linspace(x[ok].min(), x[ok].max(), 100)
            trend = np.polyval(np.polyfit(x[ok], yv[ok], 3), grid)
            ax.plot(grid, trend, color="0.0", linewidth=1.0)
        ax.axhline(
            float(np.mean(yv[ok])) if ok.any() else 0.0,
            color="0.5",
            linewidth=0.6,
            linestyle=(0, (4, 2)),
        )
        ax.set_xlabel(f"Time ({result.transform} transform)")
        ax.set_ylabel(f"Beta(t) for {name}")
    return fig if fig is not None else ax
