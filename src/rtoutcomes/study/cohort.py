"""Descriptive facts of a registry cohort: the flow chart, Table 1 (patients), Table 2 (lesions).

The keys mirror the model study's tables (and ``feng-2022-facts.json``), so a replication can
be compared with the paper key by key. Counts are plain integers; continuous characteristics
are median, min and max.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rtoutcomes.io.yes_no import is_yes
from rtoutcomes.results.model import (
    Cohort,
    Flow,
    Range,
    RegistryFacts,
    Table1Facts,
    Table2Facts,
    ToxicityFacts,
)
from rtoutcomes.study.registry_table import RegistryData, dates
from rtoutcomes.study.spec import DoseMetric, Endpoint

if TYPE_CHECKING:
    import pandas as pd

DAYS_PER_MONTH = 30.4375
WHO_FAMILIES = (
    "smooth muscle tumours",
    "fibroblastic and myofibroblastic tumours",
    "tumours of uncertain differentiation",
    "adipocytic tumours",
    "vascular tumours",
    "skeletal muscle tumours",
    "so-called fibrohistiocytic tumours",
    "pericytic (perivascular) tumours",
    "gastrointestinal stromal tumour",
    "chondro-osseous tumours",
    "peripheral nerve sheath tumours",
    "undifferentiated small round cell sarcomas",
    "others",
)
SITES = (
    "head and neck",
    "lung",
    "chest",
    "abdomen/pelvis",
    "vertebral body bone",
    "limbs",
    "other",
)
THERAPY_TYPES = (
    "chemotherapy",
    "targeted therapy",
    "immunotherapy",
    "interventional therapy",
    "hormonal therapy",
    "other",
)


def median_range(values: Iterable[Any]) -> Range:
    """Median, min and max of the non-missing values (``None`` when there are none) and their
    number ``n`` (the table shows it when some are missing)."""
    import numpy as np
    import pandas as pd

    array = np.asarray([v for v in values if not pd.isna(v)], dtype=float)
    if array.size == 0:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {
        "median": float(np.median(array)),
        "min": float(array.min()),
        "max": float(array.max()),
        "n": int(array.size),
    }


UNKNOWN = "Unknown"


def counts(series: pd.Series, order: Iterable[str]) -> dict[str, int]:
    """Counts per category in ``order`` (zeros dropped), then any unlisted category, sorted,
    then the missing values as ``Unknown`` (when there are any), so that the counts add up to
    the rows (gtsummary's ``tbl_summary``)."""
    values = series.dropna().astype(str)
    found = values.value_counts()
    ordered = [c for c in order if c in found.index]
    ordered += sorted(c for c in found.index if c not in ordered)
    result = {str(c): int(found[c]) for c in ordered}
    missing = int(series.isna().sum())
    if missing:
        result[UNKNOWN] = result.get(UNKNOWN, 0) + missing
    return result


def flow(tables: Mapping[str, pd.DataFrame], data: RegistryData) -> Flow:
    """Screened -> excluded by reason -> enrolled patients -> treated lesions
    (``clinical.eligibility.registry_flow``, the one flow chart)."""
    from rtoutcomes.clinical.eligibility import registry_flow

    chart = registry_flow({**tables, "patients": data.patients, "lesions": data.lesions})
    return {
        "screened": chart.screened,
        "excluded": chart.excluded_by_reason,
        "enrolled": chart.enrolled_patients,
        "lesions": chart.treated_lesions or 0,
    }


def lost_patients(data: RegistryData, after_days: float) -> set[str] | None:
    """Patients lost to follow-up: alive at their last contact (overall survival censored) and
    that contact more than ``after_days`` before their data cut-off (the patient's own, else
    the registry's). ``None`` when no patient has a data cut-off (then it is not known)."""
    import pandas as pd

    p = data.patients
    cutoff = (
        dates(p["data_cutoff_date"])
        if "data_cutoff_date" in p
        else pd.Series(pd.NaT, index=p.index, dtype="datetime64[ns]")
    )
    registry_cutoff = registry_facts(data.tables)["data_cutoff_date"]
    if registry_cutoff:
        cutoff = cutoff.fillna(pd.Timestamp(registry_cutoff))
    if cutoff.isna().all():
        return None
    alive = pd.to_numeric(p["os_event"], errors="coerce") == 0
    gap_days = (cutoff - dates(p["os_date"])).dt.days
    lost = alive & (gap_days > after_days)
    return set(p.loc[lost, "patient_id"].astype(str))


def lost_to_follow_up(
    data: RegistryData,
    tables: Mapping[str, pd.DataFrame],
    endpoints: Mapping[str, Endpoint],
    after_days: float,
) -> dict[str, int] | None:
    """Per endpoint: its analysed rows (patients or lesions) censored for it whose patient is
    lost to follow-up (``lost_patients``); ``None`` when that is not known."""
    from rtoutcomes.study.table import endpoint_data

    lost = lost_patients(data, after_days)
    if lost is None:
        return None
    counts = {}
    for name, endpoint in endpoints.items():
        table = tables[name]
        analysed = endpoint_data(table, endpoint)
        censored = table.loc[analysed.usable].reset_index(drop=True).loc[analysed.event == 0]
        counts[name] = int(censored["patient_id"].astype(str).isin(lost).sum())
    return counts


def _months(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (dates(later) - dates(earlier)).dt.days / DAYS_PER_MONTH


def _grade(value: Any) -> str | None:
    import pandas as pd

    if pd.isna(value):
        return None
    return f"G{int(float(value))}"


def table1_facts(tables: Mapping[str, pd.DataFrame], data: RegistryData) -> Table1Facts:
    """Patient characteristics (the keys of the model study's Table 1)."""
    import pandas as pd

    p = data.patients
    lesion_group = p["lesions_at_first_sbrt"].map(
        lambda v: None if pd.isna(v) else ("1" if int(v) == 1 else "2-3" if int(v) <= 3 else ">3")
    )
    facts: Table1Facts = {
        "n": len(p),
        "age_years": median_range(p["age_years"]),
        "sex": counts(p["sex"], ("male", "female")),
        "histology_family": counts(p["who_family"], WHO_FAMILIES),
        "histology_subtypes": {
            str(family): counts(group["histology_subtype"], ())
            for family, group in p.groupby("who_family", sort=True)
        },
        "disease_setting": counts(p["disease_setting"], ("recurrence", "oligometastasis")),
        "histological_grade": counts(p["fnclcc_grade"].map(_grade), ("G1", "G2", "G3")),
        "lesions_at_first_sbrt": counts(lesion_group, ("1", "2-3", ">3")),
        "months_diagnosis_to_recurrence_or_oligometastasis": median_range(
            _months(p["recurrence_date"], p["diagnosis_date"]) if "recurrence_date" in p else []
        ),
    }

    def count_yes(column: str) -> int:
        return int(is_yes(p[column]).sum())

    if "first_treatment_surgery" in p:
        facts["first_treatment_surgery"] = count_yes("first_treatment_surgery")
    if "adjuvant_chemotherapy" in p:
        facts["adjuvant_chemotherapy_after_surgery"] = count_yes("adjuvant_chemotherapy")
    if "adjuvant_radiotherapy" in p:
        facts["adjuvant_radiotherapy_after_surgery"] = count_yes("adjuvant_radiotherapy")
    if "prior_surgeries" in p:
        surgeries = p["prior_surgeries"].astype(float)
        facts["more_than_2_operations"] = int((surgeries > 2).sum())
    systemic = _systemic(tables, p)
    if systemic is not None:
        facts["systemic_treatment"], facts["chemotherapy_timing"] = systemic
    return facts


def _systemic(
    tables: Mapping[str, pd.DataFrame], p: pd.DataFrame
) -> tuple[dict[str, int], dict[str, int]] | None:
    """Patients per systemic treatment type, and by chemotherapy timing (before, after,
    concurrent with the first SBRT course); ``None`` without a systemic_therapies table."""
    import pandas as pd

    therapies = tables.get("systemic_therapies")
    if therapies is None:
        return None
    therapies = therapies[therapies["patient_id"].isin(p["patient_id"])]
    by_type = {
        t: int(therapies.loc[therapies["therapy_type"] == t, "patient_id"].nunique())
        for t in THERAPY_TYPES
    }
    systemic = {t: n for t, n in by_type.items() if n}
    systemic["none"] = int(len(p) - therapies["patient_id"].nunique())
    chemo = therapies[therapies["therapy_type"] == "chemotherapy"].merge(
        p[["patient_id", "first_sbrt_date"]], on="patient_id", how="left"
    )
    sbrt_end = _first_course_end(tables)
    # per chemotherapy row, then per patient (any row concurrent, else any before): vectorised
    start, ends = dates(chemo["start_date"]), dates(chemo["end_date"])
    ends = ends.fillna(start)
    sbrt_start = chemo["first_sbrt_date"]
    patient = chemo["patient_id"].astype(str)
    has_course = patient.isin(list(sbrt_end))
    stop = sbrt_start.where(~has_course, patient.map(sbrt_end))
    rows = pd.DataFrame(
        {
            "patient_id": chemo["patient_id"],
            "concurrent": ((start <= stop) & (ends >= sbrt_start)).to_numpy(),
            "before": (start < sbrt_start).to_numpy(),
        }
    )
    per_patient = rows.groupby("patient_id", sort=True)[["concurrent", "before"]].any()
    concurrent = per_patient["concurrent"]
    before = per_patient["before"] & ~concurrent
    timing: dict[str, int] = {
        "before SBRT": int(before.sum()),
        "after SBRT": int((~concurrent & ~before).sum()),
        "concurrent": int(concurrent.sum()),
    }
    return systemic, timing


def _first_course_end(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    courses = tables["sbrt_courses"].merge(
        tables["lesions"][["lesion_id", "patient_id"]], on="lesion_id"
    )
    courses = courses.assign(
        start_date=dates(courses["start_date"]), end_date=dates(courses["end_date"])
    )
    first = courses.sort_values(["patient_id", "start_date"], kind="mergesort")
    first = first.drop_duplicates("patient_id")
    return dict(zip(first["patient_id"].astype(str), first["end_date"], strict=True))


AUTO_SCHEDULE_ROWS = 8  # automatic grouping: at most this many rows, the rarest as "others"


def schedule_counts(schedules: list[str], groups: tuple[str, ...] | None) -> dict[str, int]:
    """Lesions per schedule group: the study file's ``tables.schedule_groups`` (labels such as
    "45-48 Gy/3-4 Fx", in order, then "others"), or, when ``None``, one row per distinct
    schedule, the most frequent first (ties by dose, then fractions), the rarest pooled as
    "others" beyond 8 rows."""
    from rtoutcomes.clinical.schedules import ScheduleGrouping, parse_schedule

    if groups is not None:
        return ScheduleGrouping.from_labels(groups).counts(schedules)
    found: dict[str, int] = {}
    for label in schedules:
        found[label] = found.get(label, 0) + 1

    def order(label: str) -> tuple[int, float, int]:
        parsed = parse_schedule(label)
        return (-found[label], parsed.total_dose_gy, parsed.fractions)

    ranked = sorted(found, key=order)
    if len(ranked) <= AUTO_SCHEDULE_ROWS:
        return {label: found[label] for label in ranked}
    kept = ranked[: AUTO_SCHEDULE_ROWS - 1]
    result = {label: found[label] for label in kept}
    result["others"] = sum(found[label] for label in ranked[AUTO_SCHEDULE_ROWS - 1 :])
    return result


def table2_facts(
    data: RegistryData,
    schedule_groups: tuple[str, ...] | None = None,
    dose_metrics: tuple[DoseMetric, ...] = (),
) -> Table2Facts:
    """Lesion and treatment characteristics (the keys of the model study's Table 2);
    ``schedule_groups`` as ``schedule_counts``; ``dose_metrics``: rows read from the
    registry's structure metrics for each lesion's first course (study.dose_metrics)."""
    from rtoutcomes.clinical.schedules import format_schedule

    les = data.lesions
    size = les["size_cm"].astype(float)
    bed = les["bed10_gy"].astype(float)
    schedules = [
        format_schedule(float(d), int(f))
        for d, f in zip(les["total_dose_gy"], les["fractions"], strict=True)
    ]
    facts: Table2Facts = {
        "n": len(les),
        "site": counts(les["site_category"], SITES),
        "size_cm": median_range(size),
        "size_groups": {"<=5 cm": int((size <= 5).sum()), ">5 cm": int((size > 5).sum())},
        "bed10_gy": median_range(bed),
        "bed10_groups": {"<100 Gy": int((bed < 100).sum()), ">=100 Gy": int((bed >= 100).sum())},
        "prescription": {
            "dose_gy": median_range(les["total_dose_gy"]),
            "fractions": median_range(les["fractions"]),
        },
        "schedules": schedule_counts(schedules, schedule_groups),
        "isodose_pct": median_range(les["isodose_line_pct"]),
    }
    if "ci" in les:
        facts["ci"] = median_range(les["ci"])
    if "nci" in les:
        facts["nci"] = median_range(les["nci"])
    if "hi" in les:
        facts["hi"] = median_range(les["hi"])
    if "coverage_pct" in les:
        facts["ptv_coverage_pct"] = median_range(les["coverage_pct"])
    if dose_metrics:
        from rtoutcomes.study.dose_metrics import dose_metric_values, parse_metric

        facts["dose_metrics"] = [
            {
                "label": m.label,
                "structure": m.structure,
                "metric": m.metric,
                "unit": parse_metric(m.metric)[1],
                "summary": median_range(dose_metric_values(data.tables, list(les["course_id"]), m)),
            }
            for m in dose_metrics
        ]
    return facts


def toxicity_facts(tables: Mapping[str, pd.DataFrame], data: RegistryData) -> ToxicityFacts:
    """Acute/late toxicity by CTCAE term and worst grade per patient (clinical.ctcae)."""
    from rtoutcomes.clinical.ctcae import classify_phase, normalise_toxicities, toxicity_summary

    toxicities = tables.get("toxicities")
    n = len(data.patients)
    if toxicities is None or len(toxicities) == 0:
        return {"patients": n, "by_grade": [], "overview": []}
    toxicities = toxicities[toxicities["patient_id"].isin(data.patients["patient_id"])]
    classified = classify_phase(
        normalise_toxicities(toxicities), tables["sbrt_courses"], tables["lesions"]
    )
    summary = toxicity_summary(classified, n)
    return {
        "patients": n,
        "by_grade": [
            {"phase": str(phase), "term": str(term), "grade": int(grade), "patients": int(n)}
            for phase, term, grade, n in zip(
                summary.by_grade["phase"],
                summary.by_grade["term"],
                summary.by_grade["grade"],
                summary.by_grade["patients"],
                strict=True,
            )
        ],
        "overview": [
            {"phase": str(phase), "term": str(term), "grades": str(grades), "patients": int(n)}
            for phase, term, grades, n in zip(
                summary.overview["phase"],
                summary.overview["term"],
                summary.overview["grades"],
                summary.overview["patients"],
                strict=True,
            )
        ],
    }


def registry_facts(tables: Mapping[str, pd.DataFrame]) -> RegistryFacts:
    """The registry's own description: name, synthetic or not, data cut-off."""
    meta = tables.get("registry_meta")
    values: dict[str, str] = {}
    if meta is not None:
        values = {str(k): str(v) for k, v in zip(meta["key"], meta["value"], strict=True)}
    return {
        "name": values.get("name", ""),
        "synthetic": values.get("synthetic", "no").strip().lower() == "yes",
        "data_cutoff_date": values.get("data_cutoff_date"),
    }


def cohort_facts(
    data: RegistryData,
    schedule_groups: tuple[str, ...] | None = None,
    dose_metrics: tuple[DoseMetric, ...] = (),
) -> Cohort:
    """Everything descriptive: the registry, flow, table1, table2 and toxicity."""
    return {
        "registry": registry_facts(data.tables),
        "flow": flow(data.tables, data),
        "table1": table1_facts(data.tables, data),
        "table2": table2_facts(data, schedule_groups, dose_metrics),
        "toxicity": toxicity_facts(data.tables, data),
    }
