"""Analysis tables from a registry: one row per patient (OS, PFS), one per lesion (LC).

Endpoints come from ``rtoutcomes.clinical.endpoints.derive_endpoints``; the standard covariate
columns (``standard.py``) are computed here from the registry tables:

* per lesion: the lesion's site and size, and its first SBRT course (dose, fractions, BED10 by
  the linear-quadratic model with the study's alpha/beta), plus every patient column;
* per patient: the patient columns, age at first SBRT, and the largest treated lesion's size,
  site and BED10 (the patient-level size and BED groupings of the model study's Table 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rtoutcomes.study.spec import Study

if TYPE_CHECKING:
    import pandas as pd

    from rtoutcomes.clinical.endpoints import Endpoints
    from rtoutcomes.clinical.local_failure import LocalFailureRule

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class RegistryData:
    """The registry's tables and the two analysis tables built from them."""

    tables: Mapping[str, pd.DataFrame]
    patients: pd.DataFrame
    lesions: pd.DataFrame


def dates(series: pd.Series) -> pd.Series:
    """A date column as datetime64 (the reader may give dates, strings or datetimes)."""
    import pandas as pd

    return pd.to_datetime(series, errors="coerce").astype("datetime64[ns]")


def first_courses(tables: Mapping[str, pd.DataFrame], endpoints: Endpoints) -> pd.DataFrame:
    """Each lesion's first SBRT course, the one ``derive_endpoints`` took as the lesion's time
    zero (``endpoints.lesions``' course_id, not chosen again here): every column of
    sbrt_courses, dates as datetime64, one row per lesion in lesion order, and its dosimetry."""
    courses = tables["sbrt_courses"]
    first = courses[courses["course_id"].isin(endpoints.lesions["course_id"])].copy()
    for column in ("start_date", "end_date"):
        first[column] = dates(first[column])
    first = first.sort_values("lesion_id", kind="mergesort")
    dosimetry = tables.get("dosimetry")
    if dosimetry is not None and len(dosimetry):
        keep = [c for c in ("course_id", "ci", "nci", "hi", "coverage_pct") if c in dosimetry]
        first = first.merge(dosimetry[keep], on="course_id", how="left")
    return first.reset_index(drop=True)


def local_failure_rule(study: Study) -> LocalFailureRule:
    """The study's local-failure rule (``endpoint_rules.local_failure``)."""
    from rtoutcomes.clinical.local_failure import LOCAL_FAILURE_RULES

    return LOCAL_FAILURE_RULES[study.local_failure_rule]


def build_registry_data(tables: Mapping[str, pd.DataFrame], study: Study) -> RegistryData:
    """Derive endpoints and the standard covariates; the two analysis tables of a study."""
    import numpy as np

    from rtoutcomes.clinical.endpoints import derive_endpoints
    from rtoutcomes.clinical.radiobiology import bed_gy

    rule = local_failure_rule(study)
    unit: Literal["months", "days"] = "days" if study.time_unit == "days" else "months"
    endpoints = derive_endpoints(
        tables, unit=unit, rule=rule, competing_death_within=study.competing_death_within
    )
    patients = tables["patients"].copy()
    courses = first_courses(tables, endpoints)
    courses["bed10_gy"] = bed_gy(
        courses["total_dose_gy"].to_numpy(dtype=float),
        courses["fractions"].to_numpy(dtype=float),
        study.alpha_beta_gy,
    )
    lesions = tables["lesions"].merge(
        courses.drop(columns=["patient_id"], errors="ignore"), on="lesion_id", how="left"
    )
    first_start = lesions.groupby("patient_id")["start_date"].min().rename("first_sbrt_date")
    patients = patients.merge(first_start, left_on="patient_id", right_index=True, how="left")
    patients["age_years"] = _age(patients)
    largest = lesions.sort_values(
        ["patient_id", "size_cm", "lesion_id"], ascending=[True, False, True], kind="mergesort"
    )
    largest = largest.drop_duplicates("patient_id")[["patient_id", "size_cm", "site_category"]]
    patient_bed = lesions.groupby("patient_id")["bed10_gy"].max()
    patients = patients.merge(largest, on="patient_id", how="left")
    patients["bed10_gy"] = patients["patient_id"].map(patient_bed).astype(float)
    patient_columns = [
        c for c in patients.columns if c not in ("size_cm", "site_category", "bed10_gy")
    ]
    lesions = lesions.merge(patients[patient_columns], on="patient_id", how="left")
    # times and statuses, and the dates, sources and reasons that gave them (analysis/*.csv)
    lc_columns = [
        "lesion_id",
        "lc_time",
        "lc_event",
        "lc_cr_time",
        "lc_cr_status",
        "lc_date",
        "lc_rule",
        "lc_source",
        "lc_source_date",
        "lc_reason",
    ]
    lesions = lesions.merge(endpoints.lesions[lc_columns], on="lesion_id", how="left")
    patients = patients.merge(
        endpoints.patients[
            [
                "patient_id",
                "os_time",
                "os_event",
                "pfs_time",
                "pfs_event",
                "os_date",
                "os_reason",
                "pfs_date",
                "pfs_source",
                "pfs_reason",
            ]
        ],
        on="patient_id",
        how="left",
    )
    order = np.argsort(patients["patient_id"].astype(str).to_numpy(), kind="stable")
    patients = patients.iloc[order].reset_index(drop=True)
    lesions = lesions.sort_values(["patient_id", "lesion_id"], kind="mergesort")
    return RegistryData(tables=tables, patients=patients, lesions=lesions.reset_index(drop=True))


def _age(patients: pd.DataFrame) -> pd.Series:
    """Age at first SBRT in whole years: the recorded age, else from the birth date."""
    import numpy as np
    import pandas as pd

    if "age_at_sbrt_years" in patients:
        recorded = pd.to_numeric(patients["age_at_sbrt_years"], errors="coerce").astype(float)
    else:
        recorded = pd.Series(np.nan, index=patients.index)
    if "birth_date" in patients:
        days = (patients["first_sbrt_date"] - dates(patients["birth_date"])).dt.days
        computed = (days / DAYS_PER_YEAR).apply(np.floor)
        recorded = recorded.fillna(computed)
    return recorded.astype(float)


def endpoint_tables(study: Study, data: RegistryData) -> dict[str, pd.DataFrame]:
    """The analysis table of each endpoint: per lesion for LC (and clustered ones)."""
    return {
        name: data.lesions if (endpoint.unit == "lesion" or endpoint.cluster) else data.patients
        for name, endpoint in study.endpoints.items()
    }


def read_registry(db_url: str) -> dict[str, pd.DataFrame]:
    """The registry's tables as DataFrames (``rtoutcomes.registry.tables.read_tables``)."""
    from rtoutcomes.registry.tables import read_tables

    return read_tables(db_url)
