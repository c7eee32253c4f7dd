"""The report's survival figures from results.json: every panel by name (``LC``,
``LC by grade``, ``LC incidence``, ``LC incidence by grade``), each as its own figure, and the
study's composite figures (``figures.panels``), lettered a, b, c."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rtoutcomes.report import fmt
from rtoutcomes.report.document import Figure
from rtoutcomes.report.figures import (
    Axis,
    Curve,
    Panel,
    Style,
    render,
    render_main,
    survival_figure,
)
from rtoutcomes.results.model import EndpointResults, GroupResults, IncidenceGroups, Results

LOCAL_FAILURE = "Local failure"
DEATH = "Death without local failure"


@dataclass(frozen=True)
class NamedPanel:
    """A panel, the file stem of its single figure and the caption sentence describing it."""

    name: str
    key: str
    panel: Panel
    caption: str


def _noop(_: str) -> None:
    """No progress display."""


def _dropped(g: GroupResults | IncidenceGroups, unit: str) -> str:
    if not g.get("dropped"):
        return ""
    return f" {g['dropped']} {unit}(s) without a value of {g['label']} are not shown."


def km_panels(name: str, e: EndpointResults) -> list[NamedPanel]:
    """Kaplan-Meier panels of one endpoint: overall and by each group (log-rank p)."""
    label = e.get("label") or name
    panels = [
        NamedPanel(
            name,
            f"km_{name}",
            Panel([Curve(label, _plain(e["km"]), e["n"])], label, label),
            f"Kaplan-Meier estimate of {label} ({e['n']} {e['unit']}s, {e['events']} events); tick "
            "marks are censored observations.",
        )
    ]
    for group, g in e.get("groups", {}).items():
        curves = [
            Curve(level, _plain(g["levels"][level]["km"]), g["levels"][level]["n"])
            for level in g["order"]
        ]
        logrank = g["logrank"]
        p = logrank["p"] if logrank else None
        p_text = None if p is None else f"Log-rank {fmt.p_statement(p)}"
        panels.append(
            NamedPanel(
                f"{name} by {group}",
                f"km_{name}_by_{group}",
                Panel(curves, f"{label} by {g['label']}", label, p_text, g["label"]),
                f"{label} by {g['label']}"
                + (f" (log-rank {fmt.p_statement(p)})" if p else "")
                + "."
                + _dropped(g, e["unit"]),
            )
        )
    return panels


def _plain(curve: Any) -> dict[str, Any]:
    """A results-model curve as the plain mapping ``figures.Curve`` holds."""
    return dict(curve)


def incidence_panels(name: str, e: EndpointResults) -> list[NamedPanel]:
    """Competing-risks panels: both causes overall, and local failure by each group."""
    cr = e.get("competing_risks")
    if not cr:
        return []
    unit = e["unit"]
    risk = _plain(cr["at_risk"])
    panels = [
        NamedPanel(
            f"{name} incidence",
            f"cif_{name}",
            Panel(
                [
                    Curve(LOCAL_FAILURE, _plain(cr["local_failure"]["curve"]), None, True, risk),
                    Curve(DEATH, _plain(cr["death"]["curve"]), None, True, risk),
                ],
                f"{e.get('label') or name}: competing risks",
                "Cumulative incidence",
                risk_table=True,
            ),
            f"Cumulative incidence of local failure ({cr['local_failure']['events']} events) "
            f"and of death without local failure ({cr['death']['events']}), {cr['n']} {unit}s.",
        )
    ]
    for group, g in cr["groups"].items():
        gray = g.get("gray") or {}
        p = gray["local_failure"]["p"] if "local_failure" in gray else None
        curves = [
            Curve(
                lvl,
                _plain(g["levels"][lvl]["local_failure"]["curve"]),
                g["levels"][lvl]["n"],
                True,
                _plain(g["levels"][lvl]["at_risk"]),
            )
            for lvl in g["order"]
        ]
        panels.append(
            NamedPanel(
                f"{name} incidence by {group}",
                f"cif_{name}_by_{group}",
                Panel(
                    curves,
                    f"Local failure by {g['label']}",
                    "Cumulative incidence",
                    None if p is None else f"Gray's test {fmt.p_statement(p)}",
                    g["label"],
                ),
                f"Cumulative incidence of local failure by {g['label']}, death as a competing event"
                + (f" (Gray's test {fmt.p_statement(p)})" if p is not None else "")
                + "."
                + _dropped(g, unit),
            )
        )
    return panels


def all_panels(results: Results) -> dict[str, NamedPanel]:
    """Every panel the results allow, by name, in report order."""
    panels: dict[str, NamedPanel] = {}
    for name, e in results["endpoints"].items():
        for named in [*km_panels(name, e), *incidence_panels(name, e)]:
            panels[named.name] = named
    return panels


def axis_and_style(results: Results, columns: int = 1) -> tuple[Axis, Style]:
    """The study's time axis and style; a composite of several columns is 174 mm wide."""
    study = results["study"]
    options = study["figures"]
    width = study["figure_width_mm"] if columns == 1 else max(174, study["figure_width_mm"])
    return (
        Axis(study["time_unit"], options["max_time"], options["break_time"]),
        Style(width_mm=width, bands=options["confidence_bands"], columns=columns),
    )


def single_figures(
    results: Results, panels: Sequence[NamedPanel], progress: Callable[[str], None] = _noop
) -> list[Figure]:
    """One figure per panel (PNG and SVG), as the report always wrote them."""
    axis, style = axis_and_style(results)
    figures = []
    for named in panels:
        progress(f"drawing {named.name}")
        figures.append(
            Figure(
                key=named.key,
                caption=named.caption,
                rendered=render(survival_figure([named.panel], axis, style)),
                section="supplement",
            )
        )
    return figures


def composite_figures(
    results: Results,
    panels: dict[str, NamedPanel],
    first_number: int,
    progress: Callable[[str], None] = _noop,
    only: Sequence[int] | None = None,
) -> list[Figure]:
    """The study's ``figures.panels``: one lettered figure each, in every requested format
    (``only``: those of these indices of ``figures.panels``, numbered as in the whole set)."""
    options = results["study"]["figures"]
    figures = []
    for i, names in enumerate(options["panels"]):
        if only is not None and i not in only:
            continue
        chosen = [panels[n] for n in names if n in panels]
        if not chosen:
            continue
        number = first_number + i
        progress(f"drawing Figure {number}")
        axis, style = axis_and_style(results, columns=2 if len(chosen) > 1 else 1)
        fig = survival_figure([c.panel for c in chosen], axis, style)
        if len(chosen) > 1:
            caption = " ".join(
                f"({'abcdefghijklmnopqrstuvwxyz'[j]}) {c.caption}" for j, c in enumerate(chosen)
            )
        else:
            caption = chosen[0].caption
        figures.append(
            Figure(
                key=f"figure{number}",
                caption=caption,
                rendered=render_main(fig, options),
                section="main",
            )
        )
    return figures
