"""One patient's page: timeline, each lesion's diameters with the RECIST call per scan, and the
derived endpoints with their reasons, all computed by the clinical layer on this patient's rows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from rtoutcomes.clinical.endpoints import derive_endpoints, first_courses
from rtoutcomes.clinical.recist import RECIST_1_1, assess_lesions
from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.tables import Rows, frames_of_rows

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class TimelineItem:
    """One dated thing that happened to the patient; ``table``/``key`` name its record."""

    date: dt.date
    kind: str
    text: str
    table: str = ""
    key: str = ""


@dataclass
class LesionPanel:
    """A lesion's scans with the RECIST call of each, its chart and its local-control result."""

    lesion: dict[str, Any]
    scans: list[dict[str, Any]]
    chart: str
    endpoint: dict[str, Any] | None


@dataclass
class PatientView:
    rows: Rows
    timeline: list[TimelineItem]
    lesions: list[LesionPanel]
    endpoint: dict[str, Any] | None
    rule: str
    problem: str | None = None
    settings: str = ""
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _day(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _mm(value: Any) -> str:
    number = _number(value)
    return "" if number is None else f"{number:g}"


def timeline(rows: Rows) -> list[TimelineItem]:
    """Every dated record of the patient, oldest first (same-day items in a fixed order)."""
    items: list[TimelineItem] = []

    def add(when: object, kind: str, text: str, table: str, key: object) -> None:
        day = _day(when)
        if day is not None:
            items.append(TimelineItem(day, kind, text, table, str(key)))

    patient = rows["patients"][0]
    pid = patient["patient_id"]
    add(
        patient.get("diagnosis_date"),
        "diagnosis",
        f"diagnosis: {patient.get('histology_subtype') or ''}",
        "patients",
        pid,
    )
    add(
        patient.get("recurrence_date"),
        "recurrence",
        f"{patient.get('disease_setting') or 'recurrence'} diagnosed",
        "patients",
        pid,
    )
    for c in rows["sbrt_courses"]:
        add(
            c["start_date"],
            "sbrt",
            f"SBRT {c['course_id']} of lesion {c['lesion_id']}: {_mm(c['total_dose_gy'])} Gy "
            f"in {c['fractions']} fractions, to {c['end_date']}",
            "sbrt_courses",
            c["course_id"],
        )
    for a in rows["assessments"]:
        diameter = _mm(a.get("longest_diameter_mm"))
        text = f"{a['modality']} scan of lesion {a['lesion_id']}: " + (
            f"{diameter} mm" if diameter else "no diameter"
        )
        if a.get("new_lesions"):
            text += ", new lesions"
        add(a["assessment_date"], "scan", text, "assessments", a["assessment_id"])
    for e in rows["patient_events"]:
        text = str(e["event_type"]).replace("_", " ")
        if e.get("progression_type"):
            text += f" ({e['progression_type']}"
            text += f", lesion {e['lesion_id']})" if e.get("lesion_id") else ")"
        add(e["event_date"], str(e["event_type"]), text, "patient_events", e["event_id"])
    for t in rows["toxicities"]:
        add(
            t["onset_date"],
            "toxicity",
            f"toxicity: {t['term']}, grade {t['grade']}",
            "toxicities",
            t["toxicity_id"],
        )
    for s in rows["systemic_therapies"]:
        text = f"{s['therapy_type']}" + (f" ({s['agent']})" if s.get("agent") else "")
        if s.get("end_date"):
            text += f" until {s['end_date']}"
        add(s["start_date"], "systemic", text, "systemic_therapies", s["therapy_id"])
    order = [
        "diagnosis",
        "recurrence",
        "sbrt",
        "systemic",
        "scan",
        "toxicity",
        "progression",
        "last_contact",
        "death",
    ]
    items.sort(key=lambda i: (i.date, order.index(i.kind) if i.kind in order else 99, i.key))
    return items


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


@dataclass(frozen=True)
class Derived:
    """What the clinical layer derives for one patient: the patient's endpoint row (OS, PFS),
    each lesion's LC row and RECIST-evaluated scans, the settings in words, or the problem
    that stopped the derivation."""

    endpoint: dict[str, Any] | None
    lesions: dict[str, dict[str, Any]]
    scans: dict[str, list[dict[str, Any]]]
    settings: str = ""
    problem: str | None = None


def derive(rows: Rows) -> dict[str, Derived]:
    """``Derived`` of every patient in ``rows`` (one patient's rows or the whole registry's),
    by ``derive_endpoints`` and ``assess_lesions`` (RECIST 1.1, from SBRT start)."""
    frames = frames_of_rows(rows)
    patient_ids = [str(p["patient_id"]) for p in rows["patients"]]
    try:
        endpoints = derive_endpoints(frames, rule=RECIST_1_1)
        scans = assess_lesions(frames["assessments"], _starts(frames), RECIST_1_1)
    except RtOutcomesError as error:
        return {pid: Derived(None, {}, {}, problem=str(error)) for pid in patient_ids}
    owner = {str(r["lesion_id"]): str(r["patient_id"]) for r in rows["lesions"]}
    lesion_rows: dict[str, dict[str, dict[str, Any]]] = {pid: {} for pid in patient_ids}
    for row in _records(endpoints.lesions):
        lesion_rows[str(row["patient_id"])][str(row["lesion_id"])] = row
    scan_rows: dict[str, dict[str, list[dict[str, Any]]]] = {pid: {} for pid in patient_ids}
    for row in _records(scans):
        lid = str(row["lesion_id"])
        scan_rows[owner[lid]].setdefault(lid, []).append(row)
    settings = endpoints.settings.describe()
    by_patient = {str(r["patient_id"]): r for r in _records(endpoints.patients)}
    return {
        pid: Derived(by_patient.get(pid), lesion_rows[pid], scan_rows[pid], settings)
        for pid in patient_ids
    }


def patient_view(rows: Rows, derived: Derived) -> PatientView:
    """The page's content for one patient's rows (``queries.patient_rows``) and their
    ``Derived`` facts."""
    view = PatientView(
        rows,
        timeline(rows),
        [],
        derived.endpoint,
        RECIST_1_1.name,
        derived.problem,
        derived.settings,
    )
    courses = sorted(
        rows["sbrt_courses"], key=lambda c: (str(c["start_date"]), str(c["course_id"]))
    )
    for lesion in rows["lesions"]:
        lid = str(lesion["lesion_id"])
        mine = derived.scans.get(lid, [])
        start = next(
            (c["start_date"] for c in courses if c["lesion_id"] == lesion["lesion_id"]), None
        )
        view.lesions.append(
            LesionPanel(lesion, mine, diameter_chart(mine, _day(start)), derived.lesions.get(lid))
        )
    return view


def _starts(frames: dict[str, pd.DataFrame]) -> pd.Series | None:
    courses = frames["sbrt_courses"]
    if not len(courses):
        return None
    first = first_courses(courses)
    return first.set_index(first["lesion_id"].astype(str))["start_date"]


COLOURS = {
    "PD": "#b3261e",
    "CR": "#1b6e20",
    "PR": "#2e7d32",
    "SD": "#455a64",
    "baseline": "#1f4e79",
    "NE": "#9e9e9e",
    "pre-baseline": "#9e9e9e",
}


def diameter_chart(scans: list[dict[str, Any]], sbrt_start: dt.date | None) -> str:
    """An inline SVG of a lesion's longest diameter (mm) over time, each scan labelled with its
    RECIST call; the SBRT start is a vertical line. Only numbers, dates and fixed labels are
    drawn, each escaped."""
    points = [
        (
            _day(s["assessment_date"]),
            _number(s["longest_diameter_mm"]),
            str(s.get("response") or ""),
        )
        for s in scans
    ]
    measured = [(d, v, r) for d, v, r in points if d is not None and v is not None]
    if not measured:
        return ""
    width, height, left, right, top, bottom = 480, 190, 44, 12, 18, 34
    days = [d for d, _, _ in measured] + ([sbrt_start] if sbrt_start else [])
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    high = max(v for _, v, _ in measured) * 1.15 or 10.0

    def x(day: dt.date) -> float:
        return left + (day - first).days / span * (width - left - right)

    def y(value: float) -> float:
        return top + (1 - value / high) * (height - top - bottom)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="longest diameter over time">',
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{y(0):.1f}" stroke="#888"/>',
        f'<text x="4" y="{top - 6}" font-size="10">mm</text>',
    ]
    for tick in _ticks(high):
        parts.append(
            f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" font-size="10" '
            f'text-anchor="end">{tick:g}</text>'
        )
    if sbrt_start is not None:
        parts.append(
            f'<line x1="{x(sbrt_start):.1f}" y1="{top}" x2="{x(sbrt_start):.1f}" '
            f'y2="{y(0):.1f}" stroke="#c77700" stroke-dasharray="4 3"/>'
            f'<text x="{x(sbrt_start) + 3:.1f}" y="{top + 8}" font-size="10" '
            'fill="#c77700">SBRT</text>'
        )
    line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v, _ in measured)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#1f4e79" stroke-width="1.5"/>')
    for d, v, response in measured:
        colour = COLOURS.get(response, "#455a64")
        parts.append(
            f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="4" fill="{colour}">'
            f"<title>{escape(d.isoformat())}: {v:g} mm, {escape(response)}</title></circle>"
            f'<text x="{x(d):.1f}" y="{y(v) - 8:.1f}" font-size="9" text-anchor="middle" '
            f'fill="{colour}">{escape(_short(response))}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 8}" font-size="10">{escape(first.isoformat())}'
        f'</text><text x="{width - right}" y="{height - 8}" font-size="10" '
        f'text-anchor="end">{escape(last.isoformat())}</text></svg>'
    )
    return "".join(parts)


def _short(response: str) -> str:
    return {"baseline": "BL", "pre-baseline": "pre"}.get(response, response)


def _ticks(high: float) -> list[float]:
    step = 10 ** math.floor(math.log10(max(high, 1e-9) / 2))
    for factor in (1, 2, 5, 10):
        if high / (step * factor) <= 5:
            step *= factor
            break
    count = int(high // step)
    return [i * step for i in range(count + 1)]
