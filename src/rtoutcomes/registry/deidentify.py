"""A de-identified copy of a registry, in the import format (REDCap's de-identified export).

* Every identifier (each table's key and every reference to it) is replaced by a keyed
  pseudonym: HMAC-SHA256 with the secret key of :func:`init_key`. The same key gives the same
  pseudonyms on every export, so later exports link; without the key nothing links back.
* Every date is shifted back by a per-patient secret offset (1-364 days, from the key and the
  patient's id), so that every interval within a patient is kept; a candidate who was not
  enrolled gets an offset of its own. The registry's data cut-off becomes each patient's own
  (``patients.data_cutoff_date``), shifted with the patient.
* Birth dates are removed; the age at first SBRT is kept in whole years, top-coded at 90 (HIPAA
  Safe Harbor: ages over 89 are aggregated).
* Free text is removed or reduced to its coded category: histology is kept when it is an
  entry of the WHO 2020 table (up to case, spacing, "NOS" and spelling), else removed; CTCAE
  terms and coded columns are kept; site details, systemic agents, primary site and DICOM
  identifiers are removed, structure names replaced by their TG-263 name or a pseudonym. Every
  text column not explicitly kept is emptied.
* registry_meta keeps only ``synthetic``; the name says the registry is de-identified.

Every study statistic on the de-identified registry equals the original's (tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES, ColumnSpec

MAX_SHIFT_DAYS = 364
AGE_TOP_CODE = 90
DEIDENTIFIED_NAME = "de-identified registry"
HISTOLOGY_REMOVED = "not stated (de-identified)"
# Text kept as it is: coded vocabularies (columns with choices are kept too) and equipment.
KEPT_TEXT = {
    ("toxicities", "term"),  # a CTCAE term
    ("toxicities", "ctcae_version"),
    ("sbrt_courses", "device"),
    ("dosimetry", "planning_system"),
    ("structure_metrics", "tg263_name"),
    ("patients", "centre"),
}
# Pseudonym prefixes of each identifier namespace (the table.column a key lives in)
PREFIX = {
    "patients.patient_id": "P",
    "screened_candidates.candidate_id": "S",
    "lesions.lesion_id": "L",
    "sbrt_courses.course_id": "C",
    "assessments.assessment_id": "A",
    "patient_events.event_id": "E",
    "toxicities.toxicity_id": "T",
    "systemic_therapies.therapy_id": "Y",
    "structure_metrics.metric_id": "M",
    "structure_dose_volumes.dose_volume_id": "V",
}


@dataclass
class Summary:
    """What a de-identified export did, per kind of change (counts)."""

    pseudonymised: Counter[str] = field(default_factory=Counter)  # ids per namespace
    dates_shifted: int = 0
    removed: Counter[str] = field(default_factory=Counter)  # table.column -> values removed
    reduced: Counter[str] = field(default_factory=Counter)  # table.column -> values reduced
    ages_top_coded: int = 0

    def lines(self) -> list[str]:
        out = [
            f"pseudonymised {n} {ns.split('.')[1]} value(s) of {ns.split('.')[0]}"
            for ns, n in sorted(self.pseudonymised.items())
        ]
        out.append(
            f"shifted {self.dates_shifted} date(s) by a per-patient offset of 1-"
            f"{MAX_SHIFT_DAYS} days"
        )
        out += [f"removed {n} value(s) of {c}" for c, n in sorted(self.removed.items()) if n]
        out += [
            f"reduced {n} value(s) of {c} to their coded category"
            for c, n in sorted(self.reduced.items())
            if n
        ]
        out.append(f"top-coded {self.ages_top_coded} age(s) at {AGE_TOP_CODE}")
        return out


class _Keyed:
    def __init__(self, key: bytes) -> None:
        self.key = key

    def digest(self, *parts: str) -> bytes:
        return hmac.new(self.key, "\x00".join(parts).encode("utf-8"), hashlib.sha256).digest()

    def pseudonym(self, namespace: str, value: object) -> str:
        digest = self.digest("id", namespace, str(value)).hex()[:12].upper()
        return f"{PREFIX.get(namespace, 'X')}-{digest}"

    def shift_days(self, owner: str) -> int:
        return 1 + int.from_bytes(self.digest("date-shift", owner)[:4], "big") % MAX_SHIFT_DAYS


def _namespace(table: str, column: str) -> str | None:
    spec = TABLE_BY_NAME[table]
    col = next(c for c in spec.columns if c.name == column)
    if col.references:
        return col.references
    if column == spec.primary_key and table != "registry_meta":
        return f"{table}.{column}"
    return None


def _owners(rows: Mapping[str, list[dict[str, Any]]]) -> dict[str, dict[str, str]]:
    """Each row's owner (the patient, or a candidate never enrolled), for its date shift."""
    lesion_patient = {r["lesion_id"]: str(r["patient_id"]) for r in rows.get("lesions", [])}
    course_patient = {
        r["course_id"]: lesion_patient.get(r["lesion_id"], "") for r in rows.get("sbrt_courses", [])
    }
    owners: dict[str, dict[str, str]] = {}
    for spec in TABLES:
        found: dict[str, str] = {}
        for row in rows.get(spec.name, []):
            key = str(row[spec.primary_key])
            if row.get("patient_id"):
                found[key] = "patient:" + str(row["patient_id"])
            elif row.get("lesion_id") in lesion_patient:
                found[key] = "patient:" + lesion_patient[row["lesion_id"]]
            elif row.get("course_id") in course_patient:
                found[key] = "patient:" + course_patient[row["course_id"]]
            else:
                found[key] = f"{spec.name}:{key}"
        owners[spec.name] = found
    return owners


def _years(start: dt.date, birth: dt.date) -> int:
    return math.floor((start - birth).days / 365.25)  # as the study's age (registry_table)


@dataclass
class _Context:
    keyed: _Keyed
    summary: Summary
    cutoff: dt.date | None
    first_start: dict[str, dt.date]
    structure_names: dict[tuple[Any, Any], Any]


def _patient(row: dict[str, Any], new: dict[str, Any], ctx: _Context) -> None:
    """A patient's own cut-off, age (top-coded) and histology reduced to the WHO table."""
    from rtoutcomes.registry.who_table import is_table_entry

    if ctx.cutoff is not None and not row.get("data_cutoff_date"):
        new["data_cutoff_date"] = ctx.cutoff
    age = row.get("age_at_sbrt_years")
    if age is None and row.get("birth_date") and row["patient_id"] in ctx.first_start:
        age = _years(ctx.first_start[row["patient_id"]], row["birth_date"])
    if age is not None and age > AGE_TOP_CODE:
        ctx.summary.ages_top_coded += 1
        age = AGE_TOP_CODE
    new["age_at_sbrt_years"] = age
    # a text that is a WHO table entry up to case, spacing, punctuation, "NOS" and spelling
    # holds nothing else and is kept as written (Table 1 counts it); anything else is removed
    text = row.get("histology_subtype")
    if text and not is_table_entry(str(text)):
        ctx.summary.reduced["patients.histology_subtype"] += 1
        new["histology_subtype"] = HISTOLOGY_REMOVED


def _cell(
    table: str,
    column: ColumnSpec,
    value: Any,
    row: Mapping[str, Any],
    shift: dt.timedelta,
    ctx: _Context,
) -> Any:
    """One non-empty cell de-identified."""
    name = f"{table}.{column.name}"
    namespace = _namespace(table, column.name)
    if namespace is not None:
        if column.name == TABLE_BY_NAME[table].primary_key:
            ctx.summary.pseudonymised[namespace] += 1
        return ctx.keyed.pseudonym(namespace, value)
    if column.kind == "date":
        if column.name == "birth_date":
            ctx.summary.removed[name] += 1
            return None
        ctx.summary.dates_shifted += 1
        return value - shift
    kept = (
        column.kind != "text"
        or column.choices
        or table == "registry_meta"
        or (table, column.name) in KEPT_TEXT
        or name == "patients.histology_subtype"
    )
    if kept:
        return value
    if column.name == "structure":  # the TG-263 name where there is one
        ctx.summary.reduced[name] += 1
        return ctx.structure_names.get((row["course_id"], value)) or ctx.keyed.pseudonym(
            "structure", value
        )
    ctx.summary.removed[name] += 1
    return None


def deidentify_rows(
    rows: Mapping[str, list[dict[str, Any]]], key: bytes
) -> tuple[dict[str, list[dict[str, Any]]], Summary]:
    """The registry's rows de-identified (see the module docstring) and what was done."""
    owners = _owners(rows)
    meta = {str(r["key"]): r["value"] for r in rows.get("registry_meta", [])}
    cutoff = meta.get("data_cutoff_date")
    lesion_patient = {r["lesion_id"]: r["patient_id"] for r in rows.get("lesions", [])}
    first_start: dict[str, dt.date] = {}
    for course in rows.get("sbrt_courses", []):
        patient = lesion_patient.get(course["lesion_id"])
        if patient is not None and isinstance(course["start_date"], dt.date):
            first_start[patient] = min(
                first_start.get(patient, course["start_date"]), course["start_date"]
            )
    ctx = _Context(
        keyed=_Keyed(key),
        summary=Summary(),
        cutoff=dt.date.fromisoformat(str(cutoff)) if cutoff else None,
        first_start=first_start,
        structure_names={
            (r["course_id"], r["structure"]): r.get("tg263_name")
            for r in rows.get("structure_metrics", [])
        },
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for spec in TABLES:
        new_rows = []
        for row in rows.get(spec.name, []):
            owner = owners[spec.name][str(row[spec.primary_key])]
            shift = dt.timedelta(days=ctx.keyed.shift_days(owner))
            new = dict(row)
            if spec.name == "patients":
                _patient(row, new, ctx)
            for column in spec.columns:
                if new.get(column.name) is not None:
                    new[column.name] = _cell(spec.name, column, new[column.name], row, shift, ctx)
            new_rows.append(new)
        pk = spec.primary_key
        out[spec.name] = sorted(new_rows, key=lambda r: str(r[pk]))
        keys = [r[spec.primary_key] for r in out[spec.name]]
        if len(set(keys)) != len(keys):  # 48-bit pseudonyms: astronomically unlikely
            raise RtOutcomesError(
                f"{spec.name}: two ids got one pseudonym; export again with a new key"
            )
    out["registry_meta"] = [{"key": "name", "value": DEIDENTIFIED_NAME}]
    if "synthetic" in meta:
        out["registry_meta"].append({"key": "synthetic", "value": meta["synthetic"]})
    for k in sorted(set(meta) - {"synthetic"}):
        ctx.summary.removed[f"registry_meta.{k}"] += 1
    return out, ctx.summary


def dicom_identity(key: bytes) -> tuple[Callable[[str], str], Callable[[str], int]]:
    """For de-identified DICOM (``dicom-deidentify``): the pseudonym a registry ``patient_id``
    gets in this export, and the days its dates are shifted back, under ``key``; so that a
    DICOM PatientID equal to the registry's patient_id becomes the de-identified registry's."""
    keyed = _Keyed(key)
    return (
        lambda patient: keyed.pseudonym("patients.patient_id", patient),
        lambda patient: keyed.shift_days("patient:" + patient),
    )
