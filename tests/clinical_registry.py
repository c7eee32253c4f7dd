"""A small hand-built registry (DataFrames per docs/registry-format.md) with every endpoint edge.

Patients (SBRT start dates in brackets; data cut-off 2017-12-31):

* P1 [2015-01-05], lesion L1: 30 -> 25 (nadir) -> 29 -> 37 mm: local failure on 2015-10-05
  (+12 mm, +48 % over the nadir); dies 2016-03-01.
* P2 [2015-02-02 and 2015-02-16], lesions L2a (stable, last scan 2016-02-01) and L2b (baseline
  only: no scan after baseline); dies 2016-02-01, the day of the last scan; a last contact
  recorded on the same day.
* P3 [2015-03-02], lesion L3: a recorded local progression of L3 on 2015-06-01 precedes the
  scan-derived failure on 2015-09-01 (40 -> 49 mm); distant progression 2015-05-01; dies 2016-06-01.
* P4 [2016-01-04], lesion L4: stable until 2017-07-03, failure on 2018-03-01 after the cut-off;
  death 2018-05-01 and last contact 2018-04-01, both after the cut-off: censored at the cut-off.
* P5 [2015-06-01], lesion L5: stable; new lesions on the 2015-12-01 scan; alive, last contact
  2016-05-01 (after the last scan 2016-03-01).
* P6 [2016-03-01], lesion L6: no scan at all; alive, last contact 2016-09-01.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _frame(
    columns: list[str], rows: list[tuple[object, ...]], dates: tuple[str, ...]
) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    for col in dates:
        df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
    return df


def build_registry() -> dict[str, pd.DataFrame]:
    """The test registry as a dict of DataFrames (dates as datetime64)."""
    meta = pd.DataFrame(
        {
            "key": ["name", "synthetic", "data_cutoff_date"],
            "value": ["endpoint edges", "yes", "2017-12-31"],
        }
    )
    patients = _frame(
        [
            "patient_id",
            "sex",
            "age_at_sbrt_years",
            "diagnosis_date",
            "recurrence_date",
            "histology_subtype",
            "who_family",
            "fnclcc_grade",
            "disease_setting",
            "lesions_at_first_sbrt",
        ],
        [
            (
                "P1",
                "male",
                60,
                "2013-05-01",
                "2014-11-01",
                "myxofibrosarcoma",
                "fibroblastic and myofibroblastic tumours",
                2,
                "recurrence",
                1,
            ),
            (
                "P2",
                "female",
                50,
                "2014-08-01",
                "2014-12-01",
                "leiomyosarcoma",
                "smooth muscle tumours",
                3,
                "oligometastasis",
                2,
            ),
            (
                "P3",
                "male",
                70,
                "2012-01-10",
                "2015-01-15",
                "dedifferentiated liposarcoma",
                "adipocytic tumours",
                3,
                "recurrence",
                1,
            ),
            (
                "P4",
                "female",
                40,
                "2015-01-01",
                "2015-11-01",
                "synovial sarcoma",
                "tumours of uncertain differentiation",
                3,
                "oligometastasis",
                1,
            ),
            (
                "P5",
                "male",
                30,
                "2013-01-01",
                "2015-04-01",
                "angiosarcoma",
                "vascular tumours",
                1,
                "oligometastasis",
                1,
            ),
            (
                "P6",
                "male",
                65,
                "2015-10-01",
                None,
                "myxoid liposarcoma",
                "adipocytic tumours",
                1,
                "recurrence",
                1,
            ),
        ],
        ("diagnosis_date", "recurrence_date"),
    )
    lesions = pd.DataFrame(
        {
            "lesion_id": ["L1", "L2a", "L2b", "L3", "L4", "L5", "L6"],
            "patient_id": ["P1", "P2", "P2", "P3", "P4", "P5", "P6"],
            "site_category": ["limbs", "lung", "lung", "abdomen/pelvis", "chest", "lung", "limbs"],
            "size_cm": [3.0, 2.0, 1.5, 8.0, 4.0, 2.5, 6.0],
        }
    )
    courses = _frame(
        [
            "course_id",
            "lesion_id",
            "start_date",
            "end_date",
            "total_dose_gy",
            "fractions",
            "isodose_line_pct",
        ],
        [
            ("C1", "L1", "2015-01-05", "2015-01-09", 45.0, 5, 75),
            ("C2a", "L2a", "2015-02-02", "2015-02-06", 50.0, 5, 80),
            ("C2b", "L2b", "2015-02-16", "2015-02-20", 50.0, 5, 80),
            ("C3", "L3", "2015-03-02", "2015-03-06", 40.0, 5, 75),
            ("C4", "L4", "2016-01-04", "2016-01-06", 30.0, 3, 75),
            ("C5", "L5", "2015-06-01", "2015-06-05", 45.0, 5, 80),
            ("C6", "L6", "2016-03-01", "2016-03-03", 30.0, 3, 80),
        ],
        ("start_date", "end_date"),
    )
    assessments = _frame(
        [
            "assessment_id",
            "lesion_id",
            "assessment_date",
            "modality",
            "longest_diameter_mm",
            "new_lesions",
        ],
        [
            ("A01", "L1", "2015-01-02", "CT", 30.0, "no"),
            ("A02", "L1", "2015-04-06", "CT", 25.0, "no"),
            ("A03", "L1", "2015-07-06", "CT", 29.0, "no"),
            ("A04", "L1", "2015-10-05", "CT", 37.0, "no"),
            ("A05", "L2a", "2015-01-20", "CT", 20.0, None),
            ("A06", "L2a", "2015-05-04", "CT", 18.0, "no"),
            ("A07", "L2a", "2016-02-01", "CT", 19.0, "no"),
            ("A08", "L2b", "2015-01-20", "CT", 15.0, None),
            ("A09", "L3", "2015-02-20", "MRI", 40.0, "no"),
            ("A10", "L3", "2015-06-01", "MRI", 44.0, "no"),
            ("A11", "L3", "2015-09-01", "MRI", 49.0, "no"),
            ("A12", "L4", "2015-12-20", "CT", 40.0, "no"),
            ("A13", "L4", "2016-04-04", "CT", 35.0, "no"),
            ("A14", "L4", "2017-07-03", "CT", 36.0, "no"),
            ("A15", "L4", "2018-03-01", "CT", 50.0, "no"),
            ("A16", "L5", "2015-05-20", "PET-CT", 25.0, "no"),
            ("A17", "L5", "2015-09-01", "PET-CT", 22.0, "no"),
            ("A18", "L5", "2015-12-01", "PET-CT", 22.0, "yes"),
            ("A19", "L5", "2016-03-01", "CT", None, "no"),
        ],
        ("assessment_date",),
    )
    events = _frame(
        ["event_id", "patient_id", "event_type", "event_date", "progression_type", "lesion_id"],
        [
            ("E01", "P1", "death", "2016-03-01", None, None),
            ("E02", "P2", "last_contact", "2016-02-01", None, None),
            ("E03", "P2", "death", "2016-02-01", None, None),
            ("E04", "P3", "progression", "2015-05-01", "distant", None),
            ("E05", "P3", "progression", "2015-06-01", "local", "L3"),
            ("E06", "P3", "death", "2016-06-01", None, None),
            ("E07", "P4", "last_contact", "2018-04-01", None, None),
            ("E08", "P4", "death", "2018-05-01", None, None),
            ("E09", "P5", "last_contact", "2016-05-01", None, None),
            ("E10", "P6", "last_contact", "2016-09-01", None, None),
        ],
        ("event_date",),
    )
    toxicities = _frame(
        [
            "toxicity_id",
            "patient_id",
            "course_id",
            "onset_date",
            "ctcae_version",
            "term",
            "grade",
            "attribution",
        ],
        [
            # P1: day 90 after SBRT start is still acute; day 91 is late
            ("T01", "P1", "C1", "2015-04-05", "4.03", "Fatigue", 1, "probable"),
            ("T02", "P1", "C1", "2015-04-06", "4.03", "Fatigue", 2, "probable"),
            ("T03", "P1", None, "2015-01-20", "4.03", "Dermatitis radiation", 1, "definite"),
            # P2: two terms; the second course (C2b) is the reference of T05
            ("T04", "P2", "C2a", "2015-03-01", "4.03", "Pneumonitis", 2, "probable"),
            ("T05", "P2", "C2b", "2015-05-17", "4.03", "Fatigue", 1, "possible"),
            ("T06", "P2", None, "2015-02-10", "4.03", "Fatigue", 2, "possible"),
            # P3: late dermatitis grade 3 (about 6 months after SBRT)
            ("T07", "P3", "C3", "2015-09-01", "4.03", "Dermatitis radiation", 3, "definite"),
            ("T08", "P3", "C3", "2015-04-01", "4.03", "Enterocolitis", 1, "probable"),
        ],
        ("onset_date",),
    )
    return {
        "registry_meta": meta,
        "screened_candidates": pd.DataFrame(
            {
                "candidate_id": ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"],
                "eligible": ["yes", "yes", "yes", "yes", "yes", "yes", "no", "no"],
                "exclusion_reason": [None] * 6
                + ["multiple metastases (more than 3 lesions)", "unclear imaging data"],
                "patient_id": ["P1", "P2", "P3", "P4", "P5", "P6", None, None],
            }
        ),
        "patients": patients,
        "lesions": lesions,
        "sbrt_courses": courses,
        "assessments": assessments,
        "patient_events": events,
        "toxicities": toxicities,
    }
