"""Rules across columns and tables: references, conditional requirements, dates in order.

Each rule reports on the row and column a user has to change. Cells that were invalid or empty
are skipped here (already reported by the cell pass), so one mistake gives one message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from rtoutcomes.registry.cells import CellError, parse_cell
from rtoutcomes.registry.records import Record, ValidatedRegistry
from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES, ColumnSpec


def check_rules(reg: ValidatedRegistry) -> None:
    """Apply every rule below to ``reg``, appending to ``reg.problems``."""
    reg.indexes = {}  # the rules look rows up by key in the same tables again and again
    try:
        _references(reg)
        _meta(reg)
        _candidates(reg)
        _patients(reg)
        _courses(reg)
        _dosimetry(reg)
        _events(reg)
        _after_sbrt_and_before_death(reg)
        _therapies(reg)
    finally:
        reg.indexes = None


def _date(record: Record, column: str) -> dt.date | None:
    value = record.values.get(column)
    return value if isinstance(value, dt.date) else None


def _index(reg: ValidatedRegistry, table: str) -> dict[object, Record]:
    """The records of ``table`` by primary key (the first of equal keys); made once while
    ``check_rules`` runs."""
    if reg.indexes is not None and table in reg.indexes:
        return reg.indexes[table]
    key = TABLE_BY_NAME[table].primary_key
    index: dict[object, Record] = {}
    for record in reg.tables.get(table, []):
        value = record.values.get(key)
        if value is not None:
            index.setdefault(value, record)
    if reg.indexes is not None:
        reg.indexes[table] = index
    return index


def _references(reg: ValidatedRegistry) -> None:
    for spec in TABLES:
        for col in spec.columns:
            if not col.references:
                continue
            target, target_column = col.references.split(".")
            if target in reg.missing_tables:
                continue
            keys = _index(reg, target)
            name = col.name
            for record in reg.tables[spec.name]:
                value = record.values.get(name)
                if value is not None and value not in keys:
                    reg.report(
                        spec.name,
                        record,
                        col.name,
                        f"refers to a {target_column} that is not in {target}",
                        value,
                    )


META_KEYS = ("name", "synthetic", "data_cutoff_date", "description")


def _meta(reg: ValidatedRegistry) -> None:
    import difflib

    kinds = {
        "synthetic": ColumnSpec("value", "yes/no"),
        "data_cutoff_date": ColumnSpec("value", "date"),
    }
    for record in reg.tables["registry_meta"]:
        key, value = record.get("key"), record.get("value")
        if key is not None and key not in META_KEYS:
            close = difflib.get_close_matches(str(key), META_KEYS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            reg.report(
                "registry_meta",
                record,
                "key",
                f"unknown key (known: {', '.join(META_KEYS)}){hint}",
                key,
            )
        column = kinds.get(str(key))
        if column is None or value is None:
            continue
        try:
            parse_cell(value, column, None)
        except CellError as error:
            reg.report("registry_meta", record, "value", f"{key}: {error.rule}", value)


def _candidates(reg: ValidatedRegistry) -> None:
    candidates = reg.tables["screened_candidates"]
    screened = {r.get("patient_id") for r in candidates}
    unnamed = any(r.get("eligible") is True and not r.filled("patient_id") for r in candidates)
    screening = bool(candidates) or "screened_candidates" in reg.elsewhere
    if screening and not unnamed:  # an eligible row without its patient is reported below
        # The flow chart counts screened - excluded = enrolled: every enrolled patient must
        # have been screened, or the counts do not add up.
        for record in reg.tables["patients"]:
            patient = record.get("patient_id")
            if patient is not None and patient not in screened:
                reg.report(
                    "patients",
                    record,
                    "patient_id",
                    "not among the screened_candidates (an eligible row naming this "
                    "patient is needed, or the flow chart's counts do not add up)",
                    patient,
                )
    for record in reg.tables["screened_candidates"]:
        eligible = record.get("eligible")
        if eligible is None:
            continue
        reason, patient = record.filled("exclusion_reason"), record.filled("patient_id")
        if eligible is False and not reason:
            reg.report(
                "screened_candidates", record, "exclusion_reason", "required when eligible is no"
            )
        if eligible is True and reason:
            reg.report(
                "screened_candidates",
                record,
                "exclusion_reason",
                "must be empty when eligible is yes",
                record.get("exclusion_reason"),
            )
        if eligible is True and not patient:
            reg.report(
                "screened_candidates",
                record,
                "patient_id",
                "required when eligible is yes (the enrolled patient)",
            )
        if eligible is False and patient:
            reg.report(
                "screened_candidates",
                record,
                "patient_id",
                "must be empty when eligible is no",
                record.get("patient_id"),
            )


def _patients(reg: ValidatedRegistry) -> None:
    first = first_sbrt_start(reg)
    for record in reg.tables["patients"]:
        _age_agrees_with_birth(reg, record, first.get(record.get("patient_id")))
        if not record.filled("birth_date") and not record.filled("age_at_sbrt_years"):
            reg.report(
                "patients",
                record,
                "birth_date",
                "one of birth_date and age_at_sbrt_years is required",
            )
        diagnosis = _date(record, "diagnosis_date")
        birth = _date(record, "birth_date")
        recurrence = _date(record, "recurrence_date")
        if diagnosis and birth and birth > diagnosis:
            reg.report(
                "patients", record, "birth_date", f"birth after the diagnosis ({diagnosis})", birth
            )
        if diagnosis and recurrence and recurrence < diagnosis:
            reg.report(
                "patients",
                record,
                "recurrence_date",
                f"recurrence before the initial diagnosis ({diagnosis})",
                recurrence,
            )


def completed_years(birth: dt.date, on: dt.date) -> int:
    """Age in completed years on a date (a birthday on 29 February counts from 1 March)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _age_agrees_with_birth(
    reg: ValidatedRegistry, record: Record, first: tuple[dt.date, object] | None
) -> None:
    birth, age = _date(record, "birth_date"), record.get("age_at_sbrt_years")
    if birth is None or not isinstance(age, int) or first is None:
        return
    expected = completed_years(birth, first[0])
    if abs(expected - age) > 1:
        reg.report(
            "patients",
            record,
            "age_at_sbrt_years",
            f"disagrees with birth_date {birth}: {expected} years at the first SBRT start "
            f"({first[0]})",
            age,
        )


def _patient_of_lesion(reg: ValidatedRegistry) -> dict[object, object]:
    return {k: r.get("patient_id") for k, r in _index(reg, "lesions").items()}


def _patient_of_course(reg: ValidatedRegistry) -> dict[object, object]:
    lesion_patient = _patient_of_lesion(reg)
    courses = _index(reg, "sbrt_courses")
    return {k: lesion_patient.get(r.get("lesion_id")) for k, r in courses.items()}


def _courses(reg: ValidatedRegistry) -> None:
    patients = _index(reg, "patients")
    lesion_patient = _patient_of_lesion(reg)
    for record in reg.tables["sbrt_courses"]:
        start, end = _date(record, "start_date"), _date(record, "end_date")
        if start and end and end < start:
            reg.report(
                "sbrt_courses", record, "end_date", f"course ends before it starts ({start})", end
            )
        patient = patients.get(lesion_patient.get(record.get("lesion_id")))
        diagnosis = None if patient is None else _date(patient, "diagnosis_date")
        if start and diagnosis and start < diagnosis:
            reg.report(
                "sbrt_courses",
                record,
                "start_date",
                f"SBRT before the patient's diagnosis ({diagnosis})",
                start,
            )


def _dosimetry(reg: ValidatedRegistry) -> None:
    for record in reg.tables["dosimetry"]:
        covered = record.get("tv_piv_cc")
        if not isinstance(covered, float):
            continue
        for column in ("tv_cc", "piv_cc"):
            whole = record.get(column)
            if isinstance(whole, float) and covered > whole:
                reg.report(
                    "dosimetry",
                    record,
                    "tv_piv_cc",
                    f"covered volume larger than {column} ({whole:g} cm3)",
                    covered,
                )


def first_sbrt_start(reg: ValidatedRegistry) -> dict[object, tuple[dt.date, object]]:
    """Each patient's earliest SBRT start date and the course it belongs to."""
    course_patient = _patient_of_course(reg)
    first: dict[object, tuple[dt.date, object]] = {}
    for record in reg.tables["sbrt_courses"]:
        start = _date(record, "start_date")
        patient = course_patient.get(record.get("course_id"))
        if start and patient is not None and (patient not in first or start < first[patient][0]):
            first[patient] = (start, record.get("course_id"))
    return first


def death_dates(reg: ValidatedRegistry) -> dict[object, dt.date]:
    deaths: dict[object, dt.date] = {}
    for record in reg.tables["patient_events"]:
        date = _date(record, "event_date")
        if record.get("event_type") == "death" and date:
            deaths.setdefault(record.get("patient_id"), date)
    return deaths


def _events(reg: ValidatedRegistry) -> None:
    lesion_patient = _patient_of_lesion(reg)
    deaths_seen: dict[object, int] = {}
    for record in reg.tables["patient_events"]:
        kind, patient = record.get("event_type"), record.get("patient_id")
        if kind is None:
            continue
        has_type = record.filled("progression_type")
        if kind == "progression" and not has_type:
            reg.report(
                "patient_events",
                record,
                "progression_type",
                "required for a progression (local, regional or distant)",
            )
        if kind != "progression" and has_type:
            reg.report(
                "patient_events",
                record,
                "progression_type",
                f"must be empty for a {kind} event",
                record.get("progression_type"),
            )
        lesion, progression_type = record.get("lesion_id"), record.get("progression_type")
        not_local = kind != "progression" or progression_type not in (None, "local")
        if lesion is not None and not_local:
            reg.report(
                "patient_events",
                record,
                "lesion_id",
                "a lesion is given only for a local progression",
                lesion,
            )
        owner = lesion_patient.get(lesion)
        if lesion is not None and owner is not None and patient is not None and owner != patient:
            reg.report(
                "patient_events",
                record,
                "lesion_id",
                f"the lesion belongs to another patient ({owner})",
                lesion,
            )
        if kind == "death" and patient is not None:
            if patient in deaths_seen:
                reg.report(
                    "patient_events",
                    record,
                    "event_type",
                    f"a second death of the patient (first at row {deaths_seen[patient]})",
                    kind,
                )
            deaths_seen.setdefault(patient, record.row)


def _after_sbrt_and_before_death(reg: ValidatedRegistry) -> None:
    first = first_sbrt_start(reg)
    deaths = death_dates(reg)
    births = {r.get("patient_id"): _date(r, "birth_date") for r in reg.tables["patients"]}
    today = dt.date.today()
    lesion_patient = _patient_of_lesion(reg)
    course_patient = _patient_of_course(reg)

    def check(
        table: str,
        column: str,
        patient_of: Callable[[Record], object],
        after_sbrt: Callable[[Record], bool],
        what: str,
    ) -> None:
        for record in reg.tables[table]:
            date, patient = _date(record, column), patient_of(record)
            if date is None or patient is None:
                continue
            if after_sbrt(record) and patient in first and date < first[patient][0]:
                start, course = first[patient]
                reg.report(
                    table,
                    record,
                    column,
                    f"{what} before the patient's first SBRT start ({start}, {course})",
                    date,
                )
            death = deaths.get(patient)
            if death is not None and date > death:
                reg.report(
                    table, record, column, f"{what} after the patient's death ({death})", date
                )
            birth = births.get(patient)
            if birth is not None and date < birth:
                reg.report(
                    table, record, column, f"{what} before the patient's birth ({birth})", date
                )
            if date > today:
                reg.report(
                    table,
                    record,
                    column,
                    f"{what} in the future (today is {today}): a typing error?",
                    date,
                )

    check(
        "patient_events",
        "event_date",
        lambda r: r.get("patient_id"),
        lambda r: r.get("event_type") in ("progression", "death"),
        "event",
    )
    check(
        "toxicities", "onset_date", lambda r: r.get("patient_id"), lambda r: True, "toxicity onset"
    )
    check(
        "assessments",
        "assessment_date",
        lambda r: lesion_patient.get(r.get("lesion_id")),
        lambda r: False,
        "assessment",
    )
    check(
        "sbrt_courses",
        "start_date",
        lambda r: lesion_patient.get(r.get("lesion_id")),
        lambda r: False,
        "SBRT start",
    )
    check(
        "systemic_therapies",
        "start_date",
        lambda r: r.get("patient_id"),
        lambda r: False,
        "therapy start",
    )
    for record in reg.tables["toxicities"]:
        if record.get("grade") == 5 and record.get("patient_id") not in deaths:
            reg.report(
                "toxicities",
                record,
                "grade",
                "grade 5 is death from the adverse event, but the patient has no death "
                "in patient_events",
                5,
            )
        course, patient = record.get("course_id"), record.get("patient_id")
        owner = course_patient.get(course)
        if course is not None and owner is not None and patient is not None and owner != patient:
            reg.report(
                "toxicities",
                record,
                "course_id",
                f"the course belongs to another patient ({owner})",
                course,
            )


def _therapies(reg: ValidatedRegistry) -> None:
    for record in reg.tables["systemic_therapies"]:
        start, end = _date(record, "start_date"), _date(record, "end_date")
        if start and end and end < start:
            reg.report(
                "systemic_therapies",
                record,
                "end_date",
                f"therapy ends before it starts ({start})",
                end,
            )
