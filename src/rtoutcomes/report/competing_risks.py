"""Competing-risks part of the report: cumulative incidence of local failure, death competing.

Reads the ``competing_risks`` dict of an endpoint in results.json (``study.analysis``): a table
of 1/2/3-year (``rates_at``) incidence with limits and Gray's test by group (the figures are
drawn by ``survival_figures``).
"""

from __future__ import annotations

from rtoutcomes.report import fmt
from rtoutcomes.report.table import Table
from rtoutcomes.results.model import EndpointResults, FineGrayModel, IncidenceLevel, IncidenceRate


def _rate(rates: list[IncidenceRate], t: float) -> str:
    for r in rates:
        if r["time"] == t:
            if r["estimate"] is None:
                return "NA"
            if r["lower"] is None:  # incidence 0 or 1: no log(-log) limits
                return fmt.percent(r["estimate"])
            return (
                f"{fmt.percent(r['estimate'])} ({fmt.percent(r['lower'])}{fmt.DASH}"
                f"{fmt.percent(r['upper'])})"
            )
    return "NA"


def incidence_table(
    endpoints: dict[str, EndpointResults], time_unit: str, conf_level: float
) -> Table:
    """Cumulative incidence of local failure (death competing), overall and by group."""
    level = f"{100 * conf_level:g}%"
    times = sorted(
        {
            r["time"]
            for e in endpoints.values()
            if e.get("competing_risks")
            for r in e["competing_risks"]["local_failure"]["rates"]
        }
    )
    columns = ["Endpoint", "Group", "n", "Local failures", "Deaths without local failure"]
    columns += [f"{t:g}-{time_unit[:-1]} incidence of local failure, % ({level} CI)" for t in times]
    columns.append("Gray's test p")
    table = Table(
        "cif_local_failure",
        "Cumulative incidence of local failure, death as a competing event",
        columns,
    )
    for name, e in endpoints.items():
        cr = e.get("competing_risks")
        if not cr:
            continue

        def row(first: str, group: str, entry: IncidenceLevel, p: str) -> None:
            table.add(
                first,
                group,
                entry["n"],
                entry["local_failure"]["events"],
                entry["death"]["events"],
                *[_rate(entry["local_failure"]["rates"], t) for t in times],
                p,
            )

        row(e.get("label") or name, f"All {e['unit']}s", cr, "")
        for g in cr["groups"].values():
            gray = g.get("gray") or {}
            p = fmt.p_value(gray["local_failure"]["p"]) if "local_failure" in gray else ""
            for i, lvl in enumerate(g["order"]):
                row("", f"{g['label']}: {lvl}", g["levels"][lvl], p if i == 0 else "")
        table.notes.append(
            f"{name}: Aalen-Johansen estimate with death without local failure as a competing "
            f"event (times from '{cr['time_column']}', codes from '{cr['status_column']}'); "
            "limits on the log(-log) scale; groups compared with Gray's test. Unlike 1 - Kaplan-"
            "Meier, the incidence does not treat deaths as censored."
        )
    if any("NA" in r.cells for r in table.rows):
        table.notes.append("NA: after the last follow-up of the group (as cmprsk's timepoints).")
    return table


def fine_gray_of(endpoint: EndpointResults) -> FineGrayModel | None:
    """The endpoint's Fine-Gray model (study file ``analyses.fine_gray``), if any."""
    cr = endpoint.get("competing_risks")
    return cr.get("fine_gray") if cr else None


def fine_gray_table(endpoints: dict[str, EndpointResults], labels: dict[str, str]) -> Table:
    """Fine-Gray regression of local failure with death competing, laid out as Table 4."""
    table = Table(
        "fine_gray",
        "Fine-Gray regression of local failure, death as a competing event",
        ["Endpoint", "Variable", "Comparison", "SHR (95% CI)", "p"],
    )
    for name, e in endpoints.items():
        model = fine_gray_of(e)
        if not model:
            continue
        first = True
        for covariate in model["covariates"]:
            for i, t in enumerate(x for x in model["terms"] if x["covariate"] == covariate):
                table.add(
                    name if first else "",
                    labels.get(covariate, covariate) if i == 0 else "",
                    t["term"],
                    fmt.ratio_with_limits(t["hr"], t["lower"], t["upper"], 3),
                    fmt.p_value(t["p"]),
                )
                first = False
        table.add(
            "",
            "n / local failures / deaths competing",
            "",
            f"{model['n']} / {model['events']} / {model['competing']}",
            "",
        )
        table.notes += [f"Warning ({name}, Fine-Gray): {w}." for w in model["warnings"]]
        table.notes.append(
            f"{name}: subdistribution hazard ratios (SHR) of local failure with death without "
            "local failure as the competing event (Fine and Gray 1999, as R's cmprsk::crr); "
            "robust standard errors; "
            + (
                f"{model['dropped']} row(s) with a missing value dropped."
                if model["dropped"]
                else "complete rows."
            )
        )
    return table
