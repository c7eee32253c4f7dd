"""Dose metrics of the study file (``tables.dose_metrics``), read from the structure tables.

A row of Table 2 names a structure and a metric, e.g. ``{structure: target, metric: D98}`` or
``{structure: Heart, metric: Dmean}``; its value per lesion comes from the lesion's first
course in ``structure_metrics`` (filled by ``rtoutcomes dosimetry-import``). ``target`` is the
course's target ROI (``dosimetry.target_structure``); any other structure is matched to the
TG-263 name first, then to the name as exported (ignoring case). Metrics: ``Dmin``, ``Dmean``,
``Dmax``, ``D2``, ``D50``, ``D95``, ``D98``, ``D0.03cc`` (Gy), ``volume`` (cm3), and
``V<dose>Gy`` (% of the structure) or ``V<dose>Gy_cc`` (cm3) at a dose the import stored
(``dosimetry.dose_levels_gy`` of the study file or ``--dose-levels``; a study file given to
``dosimetry-import --study`` stores its V<dose>Gy rows' doses too, :func:`import_dose_levels`).
A course without that structure or metric counts as missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rtoutcomes.study.spec import DoseMetric, Study

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "METRIC_COLUMNS",
    "default_label",
    "dose_metric_values",
    "import_dose_levels",
    "parse_metric",
]

#: metric name -> (structure_metrics column, unit)
METRIC_COLUMNS = {
    "dmin": ("dmin_gy", "Gy"),
    "dmean": ("dmean_gy", "Gy"),
    "dmax": ("dmax_gy", "Gy"),
    "d2": ("d2_gy", "Gy"),
    "d50": ("d50_gy", "Gy"),
    "d95": ("d95_gy", "Gy"),
    "d98": ("d98_gy", "Gy"),
    "d0.03cc": ("d0_03cc_gy", "Gy"),
    "volume": ("volume_cc", "cm3"),
}
_VOLUME_AT = re.compile(r"^v(\d+(?:\.\d+)?)gy(_cc)?$", re.IGNORECASE)


def parse_metric(metric: str) -> tuple[str, str, float | None]:
    """(column, unit, dose) of a metric name; ``ValueError`` naming the known ones."""
    text = metric.strip()
    known = METRIC_COLUMNS.get(text.lower())
    if known is not None:
        return known[0], known[1], None
    match = _VOLUME_AT.match(text)
    if match:
        dose = float(match.group(1))
        if dose > 0:
            return ("volume_cc", "cm3", dose) if match.group(2) else ("volume_pct", "%", dose)
    names = "Dmin, Dmean, Dmax, D2, D50, D95, D98, D0.03cc, volume, V<dose>Gy, V<dose>Gy_cc"
    raise ValueError(f"unknown dose metric {metric!r}; known: {names}")


def import_dose_levels(study: Study, extra: Sequence[float] = ()) -> tuple[float, ...]:
    """The doses (Gy, increasing, each once) at which ``dosimetry-import --study`` stores
    V(dose): the study file's ``dosimetry.dose_levels_gy``, the dose of every ``V<dose>Gy``
    row of its ``tables.dose_metrics`` (so that the rows it asks for are stored) and
    ``extra`` (``--dose-levels``). Doses that print alike (``V20Gy``) are one level."""
    doses = [*study.dose_levels_gy, *extra]
    doses += [dose for m in study.dose_metrics if (dose := parse_metric(m.metric)[2]) is not None]
    levels: dict[str, float] = {}
    for dose in sorted(doses):
        levels.setdefault(f"{dose:g}", dose)
    return tuple(levels.values())


def default_label(structure: str, metric: str) -> str:
    """``"target D98, Gy"``, ``"Lung_L V20Gy, %"``."""
    return f"{structure} {metric}, {parse_metric(metric)[1]}"


def dose_metric_values(
    tables: Mapping[str, pd.DataFrame], course_ids: Sequence[object], metric: DoseMetric
) -> list[float | None]:
    """The metric of each course in ``course_ids`` (None where the registry has none)."""
    import pandas as pd

    column, _, dose = parse_metric(metric.metric)
    metrics = tables.get("structure_metrics")
    if metrics is None or not len(metrics):
        return [None] * len(course_ids)
    if metric.structure.lower() == "target":
        dosimetry = tables.get("dosimetry")
        wanted = (
            {}
            if dosimetry is None
            else {
                str(c): str(t)
                for c, t in zip(dosimetry["course_id"], dosimetry["target_structure"], strict=True)
                if not pd.isna(t)
            }
        )
        names = {c: [wanted[c]] for c in wanted}
        exported_only = True
    else:
        names = {}
        exported_only = False
    rows = metrics if dose is None else tables["structure_dose_volumes"]
    if dose is not None:
        rows = rows[(rows["dose_gy"] - dose).abs() < 1e-9]
    values: list[float | None] = []
    for course in course_ids:
        own = rows[rows["course_id"] == course]
        if exported_only:
            pick = own[own["structure"].isin(names.get(str(course), []))]
        else:
            tg263 = metrics[
                (metrics["course_id"] == course) & (metrics["tg263_name"] == metric.structure)
            ]["structure"]
            exported = own["structure"].str.lower() == metric.structure.lower()
            pick = own[own["structure"].isin(list(tg263))] if len(tg263) == 1 else own[exported]
        value = pick[column].iloc[0] if len(pick) == 1 else None
        values.append(None if value is None or pd.isna(value) else float(value))
    return values
