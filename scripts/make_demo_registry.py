#!/usr/bin/env python3
"""Write the rtoutcomes demo registry: a SYNTHETIC cohort modelled on Feng et al. 2022.

Not real patients. The cohort imitates the published summary of Feng et al., "Stereotactic body
radiotherapy for recurrent and oligometastatic soft tissue sarcoma", World J Surg Oncol
2022;20:322 (68 screened, 31 excluded, 37 patients, 58 lesions treated with CyberKnife SBRT
2009-12..2019-12): every count of its Tables 1 and 2 is reproduced exactly, medians and ranges as
closely as the counts allow, and outcomes are simulated so that Kaplan-Meier estimates of local
control (per lesion), overall and progression-free survival (per patient) come close to the
paper's. docs/demo-registry.md explains the model, its frozen parameters and the calibration.

Deterministic: a fixed seed (one string-seeded stream per part of the cohort) and only
``random.Random.random()``, whose stream Python guarantees, so every run writes the same bytes.
Usage::

    python scripts/make_demo_registry.py [--out src/rtoutcomes/data/demo]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

# --------------------------------------------------------------------------- frozen parameters
SEED = 20227557  # chosen offline (docs/demo-registry.md); never searched at run time
DATA_CUTOFF = date(2020, 6, 30)
FIRST_SBRT = date(2009, 12, 1)
LAST_SBRT = date(2019, 12, 31)
DAYS_PER_MONTH = 365.25 / 12
VISIT_MONTHS = (3, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60)  # then clinical follow-up only
MAX_FOLLOW_UP_MONTHS = 125.0
MIN_SURVIVAL_MONTHS = 3.02  # nobody died within 3 months (minimum follow-up 3.0)
ACCRUAL_POWER = 0.8  # < 1: more patients in earlier years (longer follow-up)

# Latent survival curves (months, S(t)) per grade group, log-linear between knots. They start
# from the paper's rates split by grade; the local failure and progression curves are then
# lowered (S**k, k found offline) because failures are only seen at the next scan and lesions
# are censored by death: see docs/demo-registry.md for the calibration.
OS_CURVES = {
    "G1": ((0, 1.0), (12, 0.90), (24, 0.64), (36, 0.53), (75, 0.50), (130, 0.38)),
    "G2-G3": ((0, 1.0), (12, 0.52), (24, 0.15), (36, 0.06), (60, 0.02), (130, 0.005)),
}
# Progression other than local failure of a treated lesion (regional or distant).
PROGRESSION_CURVES = {
    "G1": ((0, 1.0), (12, 0.62), (24, 0.534), (36, 0.471), (60, 0.369), (130, 0.25)),
    "G2-G3": ((0, 1.0), (12, 0.18), (24, 0.08), (36, 0.05), (60, 0.01), (130, 0.005)),
}
# Local failure of a treated lesion (from its own SBRT start).
LOCAL_FAILURE_CURVES = {
    "G1": ((0, 1.0), (12, 0.863), (24, 0.668), (36, 0.512), (45, 0.379), (130, 0.185)),
    "G2-G3": ((0, 1.0), (12, 0.536), (20, 0.268), (24, 0.219), (36, 0.136), (130, 0.027)),
}
# Log-hazard-like weights that order patients/lesions by risk within a grade group.
RISK_OLIGOMETASTASIS = 0.8
RISK_MULTIPLE_LESIONS = 0.6
RISK_LARGE_LESION = 1.0
RISK_NOISE_SD = 0.7
PROGRESSION_NOISE_SD = 0.5  # extra noise between the death and the progression orderings
LESION_SHARES_PATIENT_RISK = 0.6  # lesions of patients who progress early also fail early

EXCLUSIONS = (  # the paper names the reasons but not their counts: ours, documented
    ("multiple metastases (more than 3 lesions)", 14),
    ("unclear pathological type", 7),
    ("unclear imaging data", 6),
    ("incomplete treatment plan", 4),
)

# (WHO 2020 family, histology subtype, FNCLCC grade): Table 1 with its footnotes; the subtypes
# of the families whose subtypes the paper does not list are our plausible choices. The paper's
# "Others" are "sarcoma NOS" (the one subtype rtoutcomes.clinical.histology files under
# "others" in the paper's grouping); intermediate tumours (desmoid, DFSP, IMT) count as G1.
HISTOLOGY = (
    ("smooth muscle tumours", "leiomyosarcoma", 1),
    ("smooth muscle tumours", "leiomyosarcoma", 1),
    ("smooth muscle tumours", "leiomyosarcoma", 1),
    ("smooth muscle tumours", "leiomyosarcoma", 1),
    ("smooth muscle tumours", "leiomyosarcoma", 2),
    ("fibroblastic and myofibroblastic tumours", "myxofibrosarcoma", 1),
    ("fibroblastic and myofibroblastic tumours", "myxofibrosarcoma", 1),
    ("fibroblastic and myofibroblastic tumours", "myxofibrosarcoma", 1),
    ("fibroblastic and myofibroblastic tumours", "myxofibrosarcoma", 1),
    ("fibroblastic and myofibroblastic tumours", "myxofibrosarcoma", 1),
    ("fibroblastic and myofibroblastic tumours", "fibrosarcoma NOS", 2),
    ("fibroblastic and myofibroblastic tumours", "fibrosarcoma NOS", 3),
    ("fibroblastic and myofibroblastic tumours", "inflammatory myofibroblastic tumour", 1),
    ("fibroblastic and myofibroblastic tumours", "solitary fibrous tumour, malignant", 1),
    ("fibroblastic and myofibroblastic tumours", "desmoid-type fibromatosis", 1),
    ("fibroblastic and myofibroblastic tumours", "dermatofibrosarcoma protuberans", 1),
    ("tumours of uncertain differentiation", "undifferentiated sarcoma", 3),
    ("tumours of uncertain differentiation", "undifferentiated sarcoma", 3),
    ("tumours of uncertain differentiation", "undifferentiated sarcoma", 3),
    ("tumours of uncertain differentiation", "spindle cell sarcoma, undifferentiated", 3),
    ("tumours of uncertain differentiation", "pleural mesothelial sarcoma", 2),
    ("tumours of uncertain differentiation", "endometrial stromal sarcoma", 1),
    ("tumours of uncertain differentiation", "alveolar soft part sarcoma", 3),
    ("tumours of uncertain differentiation", "synovial sarcoma", 3),
    ("adipocytic tumours", "dedifferentiated liposarcoma", 2),
    ("adipocytic tumours", "dedifferentiated liposarcoma", 3),
    ("adipocytic tumours", "dedifferentiated liposarcoma", 3),
    ("adipocytic tumours", "myxoid liposarcoma", 1),
    ("adipocytic tumours", "myxoid liposarcoma", 1),
    ("vascular tumours", "epithelioid haemangioendothelioma", 1),
    ("vascular tumours", "angiosarcoma", 3),
    ("vascular tumours", "angiosarcoma", 3),
    ("skeletal muscle tumours", "embryonal rhabdomyosarcoma", 3),
    ("skeletal muscle tumours", "alveolar rhabdomyosarcoma", 3),
    ("skeletal muscle tumours", "pleomorphic rhabdomyosarcoma", 3),
    ("others", "sarcoma NOS", 1),
    ("others", "sarcoma NOS", 1),
)
# Subtypes that usually come back where they started (ordering recurrence before metastasis).
RECURRING = {
    "dermatofibrosarcoma protuberans",
    "desmoid-type fibromatosis",
    "myxofibrosarcoma",
    "dedifferentiated liposarcoma",
    "inflammatory myofibroblastic tumour",
    "angiosarcoma",
}

# Per grade group: {setting: [lesions per patient, ...]} (Table 1: 18 recurrence, 19
# oligometastasis; 24 with one lesion, 13 with 2-3; 58 lesions, all treated at first SBRT).
LESION_PLAN = {
    "G1": {"recurrence": [2] + [1] * 12, "oligometastasis": [3, 3, 2, 1, 1, 1]},
    "G2-G3": {"recurrence": [2, 2, 1, 1, 1], "oligometastasis": [3] * 6 + [2] + [1] * 6},
}
# Sites of the 58 lesions (Table 2) by setting: recurrences at the primary's region.
RECURRENCE_SITES = ["abdomen/pelvis"] * 12 + ["head and neck"] * 5 + ["chest"] * 2 + ["limbs"] * 2
METASTASIS_SITES = (
    ["lung"] * 17
    + ["vertebral body bone"] * 10
    + ["abdomen/pelvis"] * 6
    + ["head and neck"] * 1
    + ["chest"] * 3
)
SITE_DETAIL = {
    "abdomen/pelvis": ("retroperitoneum", "pelvis", "abdominal wall", "liver", "adrenal gland"),
    "head and neck": ("neck", "scalp", "parapharyngeal space", "orbit"),
    "chest": ("chest wall", "mediastinum", "pleura"),
    "limbs": ("thigh", "upper arm"),
    "lung": ("right upper lobe", "right lower lobe", "left upper lobe", "left lower lobe"),
    "vertebral body bone": ("thoracic spine", "lumbar spine", "sacrum", "cervical spine"),
}
PRIMARY_SITE = {
    "abdomen/pelvis": "retroperitoneum",
    "head and neck": "head and neck",
    "chest": "chest wall",
    "limbs": "lower limb",
}
METASTATIC_PRIMARIES = ("lower limb", "upper limb", "trunk", "retroperitoneum", "buttock")
TRACKING = {
    "lung": "lung",
    "vertebral body bone": "spine",
    "head and neck": "skull",
    "abdomen/pelvis": "fiducial",
    "chest": "fiducial",
    "limbs": "fiducial",
}
PTV_MARGIN_MM = {
    "lung": 5,
    "vertebral body bone": 2,
    "head and neck": 3,
    "abdomen/pelvis": 5,
    "chest": 4,
    "limbs": 3,
}
MODALITY = {
    "lung": "CT",
    "vertebral body bone": "MRI",
    "head and neck": "MRI",
    "abdomen/pelvis": "CT",
    "chest": "CT",
    "limbs": "MRI",
}

# The 58 prescriptions (dose Gy, fractions): Table 2's schedule counts; "others" are ours, chosen
# so that BED10 < 100 Gy in 31 and >= 100 Gy in 27, median 85.5 Gy, maximum 187.5 Gy (75 Gy/5)
# and minimum 52.5 Gy (30 Gy/4: the nearest whole-fraction schedule to the paper's 51.3 Gy).
SCHEDULES = (
    [(30.0, 3)] * 8
    + [(45.0, 3), (45.0, 3), (48.0, 3), (48.0, 4)]
    + [(54.0, 3), (60.0, 3), (60.0, 3)]
    + [(40.0, 5)] * 5
    + [(45.0, 5)] * 11
    + [(50.0, 5)] * 15
    + [(30.0, 4), (30.0, 2), (35.0, 5), (40.0, 4), (42.0, 6), (36.0, 6), (50.0, 10)]
    + [(75.0, 5), (60.0, 5), (55.0, 5), (60.0, 6), (70.0, 10)]
)

CHEMOTHERAPY = ("doxorubicin + ifosfamide", "gemcitabine + docetaxel", "epirubicin + ifosfamide")
TARGETED = ("anlotinib", "apatinib", "pazopanib")


# --------------------------------------------------------------------------- random numbers
class Rng:
    """Seeded draws built only on ``random.random()`` (a stream Python keeps stable)."""

    def __init__(self, seed: int, stream: str) -> None:
        # One stream per part of the cohort, so that changing one part leaves the others alone.
        self._random = random.Random(f"{seed}:{stream}")
        self._normal = NormalDist()

    def u(self) -> float:
        return self._random.random()

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.u()

    def normal(self, sd: float = 1.0) -> float:
        return sd * self._normal.inv_cdf(min(max(self.u(), 1e-12), 1 - 1e-12))

    def integer(self, low: int, high: int) -> int:
        """A whole number in low..high inclusive."""
        return low + min(int(self.u() * (high - low + 1)), high - low)

    def pick(self, items: Any) -> Any:
        seq = list(items)
        return seq[self.integer(0, len(seq) - 1)]

    def shuffled(self, items: Any) -> list[Any]:
        seq = list(items)
        for i in range(len(seq) - 1, 0, -1):
            j = self.integer(0, i)
            seq[i], seq[j] = seq[j], seq[i]
        return seq


def pinned_values(
    rng: Rng,
    n: int,
    low: float,
    median: float,
    high: float,
    spread: tuple[float, float] = (1.0, 1.0),
) -> list[float]:
    """``n`` sorted values with exactly this minimum, median and maximum (before rounding).

    ``spread`` (below, above the median): 1 spreads values evenly towards the extreme, > 1
    crowds them near the median (a long thin tail), < 1 pushes them towards the extreme.
    """
    half = (n - 1) // 2
    below = sorted(median - (median - low) * rng.u() ** spread[0] for _ in range(half - 1))
    above = sorted(median + (high - median) * rng.u() ** spread[1] for _ in range(half - 1))
    middle = [median] if n % 2 else [median, median]
    return [low, *below, *middle, *above, high]


# --------------------------------------------------------------------------- cohort structure
@dataclass
class Lesion:
    site: str
    detail: str = ""
    size_cm: float = 0.0
    dose_gy: float = 0.0
    fractions: int = 0
    start: date = FIRST_SBRT
    lf_months: float = math.inf  # latent local failure time from the lesion's SBRT start
    lesion_id: str = ""
    course_id: str = ""


@dataclass
class Patient:
    family: str
    subtype: str
    grade: int
    setting: str = ""
    lesions: list[Lesion] = field(default_factory=list)
    sex: str = "male"
    age: int = 0
    start: date = FIRST_SBRT
    death_months: float = math.inf
    progression_months: float = math.inf
    patient_id: str = ""
    surgery_first: bool = True
    prior_surgeries: int = 0
    adjuvant_chemo: bool = False
    adjuvant_rt: bool = False
    diagnosis: date = FIRST_SBRT
    recurrence: date = FIRST_SBRT
    primary_site: str = ""
    systemic: str = ""

    @property
    def grade_group(self) -> str:
        return "G1" if self.grade == 1 else "G2-G3"


def assign_settings(rng: Rng, patients: list[Patient]) -> None:
    """Recurrence vs oligometastasis and lesions per patient, following LESION_PLAN."""
    for group, plan in LESION_PLAN.items():
        members = [p for p in patients if p.grade_group == group]
        score = {id(p): (1.0 if p.subtype in RECURRING else 0.0) + rng.normal(0.6) for p in members}
        members.sort(key=lambda p: -score[id(p)])
        n_rec = len(plan["recurrence"])
        for i, p in enumerate(members):
            p.setting = "recurrence" if i < n_rec else "oligometastasis"
        for setting in ("recurrence", "oligometastasis"):
            chosen = [p for p in members if p.setting == setting]
            for p, count in zip(rng.shuffled(chosen), plan[setting], strict=True):
                p.lesions = [Lesion(site="") for _ in range(count)]


def assign_sites(rng: Rng, patients: list[Patient]) -> None:
    """Table 2 sites; a multi-lesion recurrence stays in one region (abdomen/pelvis)."""
    rec = [p for p in patients if p.setting == "recurrence"]
    multi = [p for p in rec if len(p.lesions) > 1]
    pool = list(RECURRENCE_SITES)
    for p in multi:
        for lesion in p.lesions:
            lesion.site = "abdomen/pelvis"
            pool.remove("abdomen/pelvis")
    for p, site in zip([p for p in rec if len(p.lesions) == 1], rng.shuffled(pool), strict=True):
        p.lesions[0].site = site
    slots = [les for p in patients if p.setting == "oligometastasis" for les in p.lesions]
    for lesion, site in zip(slots, rng.shuffled(METASTASIS_SITES), strict=True):
        lesion.site = site
    for p in patients:
        for lesion in p.lesions:
            lesion.detail = rng.pick(
                SITE_DETAIL[lesion.site][:3]
                if p.setting == "recurrence" and lesion.site == "abdomen/pelvis"
                else SITE_DETAIL[lesion.site]
            )
        if p.setting == "recurrence":
            p.primary_site = PRIMARY_SITE[p.lesions[0].site]
            if p.lesions[0].site == "abdomen/pelvis" and p.lesions[0].detail != "retroperitoneum":
                p.primary_site = p.lesions[0].detail
        elif p.subtype in ("endometrial stromal sarcoma",):
            p.primary_site = "uterus"
        elif p.subtype == "pleural mesothelial sarcoma":
            p.primary_site = "pleura"
        else:
            p.primary_site = rng.pick(METASTATIC_PRIMARIES)


def assign_sizes(rng: Rng, lesions: list[Lesion]) -> None:
    """26 lesions < 5.0 cm and 32 >= 5.0 cm (none exactly 5.0), median 5.5, range 1.6-20 cm.

    Large lesions by site as the paper's text: abdomen/pelvis 17, lung/chest 12, others 3.
    """
    small = sorted([1.6] + [round(rng.uniform(1.8, 4.9), 1) for _ in range(25)])
    rest = sorted(round(5.6 + 14.3 * rng.u() ** 2.2, 1) for _ in range(27))
    large = [round(rng.uniform(5.1, 5.4), 1), round(rng.uniform(5.1, 5.4), 1), 5.5, 5.5]
    large += [*rest, 20.0]
    large = rng.shuffled(large)
    large.sort(key=lambda s: -s)  # biggest to the abdomen/pelvis, then the rest shuffled
    groups = {"abdomen/pelvis": [], "lung/chest": [], "other": []}  # type: dict[str, list[Lesion]]
    for lesion in lesions:
        key = (
            "abdomen/pelvis"
            if lesion.site == "abdomen/pelvis"
            else "lung/chest"
            if lesion.site in ("lung", "chest")
            else "other"
        )
        groups[key].append(lesion)
    n_large = {"abdomen/pelvis": 17, "lung/chest": 12, "other": 3}
    big_abdomen = large[:6]
    remaining = rng.shuffled(large[6:])
    small = rng.shuffled(small)
    for key, members in groups.items():
        members = rng.shuffled(members)
        for i, lesion in enumerate(members):
            if i < n_large[key]:
                lesion.size_cm = (
                    big_abdomen.pop()
                    if key == "abdomen/pelvis" and big_abdomen
                    else remaining.pop()
                )
            else:
                lesion.size_cm = small.pop()


def assign_schedules(rng: Rng, lesions: list[Lesion]) -> None:
    """Higher BED10 to small lung lesions, lower to spine and large abdominal/pelvic lesions."""
    preference = {
        "lung": 1.0,
        "chest": 0.5,
        "limbs": 0.4,
        "head and neck": 0.0,
        "abdomen/pelvis": -0.2,
        "vertebral body bone": -0.8,
    }

    def score(lesion: Lesion) -> float:
        return preference[lesion.site] - 0.08 * lesion.size_cm + rng.normal(0.6)

    ranked = sorted(lesions, key=score)
    schedules = sorted(SCHEDULES, key=lambda s: bed10(*s))
    for lesion, (dose, fractions) in zip(ranked, schedules, strict=True):
        lesion.dose_gy, lesion.fractions = dose, fractions


def bed10(dose_gy: float, fractions: int) -> float:
    """BED with alpha/beta = 10 Gy (Gy)."""
    return dose_gy * (1 + dose_gy / fractions / 10)


# --------------------------------------------------------------------------- outcomes
def curve_time(curve: tuple[tuple[float, float], ...], survival: float) -> float:
    """Time (months) at which the piecewise log-linear curve falls to ``survival``."""
    for (t0, s0), (t1, s1) in itertools.pairwise(curve):
        if s1 <= survival <= s0:
            if s0 == s1:
                return t0
            frac = (math.log(s0) - math.log(survival)) / (math.log(s0) - math.log(s1))
            return t0 + frac * (t1 - t0)
    return math.inf


def stratified_times(
    rng: Rng, risks: list[float], curve: tuple[tuple[float, float], ...]
) -> list[float]:
    """Event times at stratified quantiles of ``curve``: the highest risk gets the earliest."""
    n = len(risks)
    order = sorted(range(n), key=lambda i: -risks[i])
    times = [0.0] * n
    for rank, i in enumerate(order):
        p = (rank + rng.u()) / n
        times[i] = curve_time(curve, 1.0 - p)
    return times


def simulate_outcomes(rng: Rng, patients: list[Patient]) -> None:
    for group in ("G1", "G2-G3"):
        members = [p for p in patients if p.grade_group == group]
        risk = [
            RISK_OLIGOMETASTASIS * (p.setting == "oligometastasis")
            + RISK_MULTIPLE_LESIONS * (len(p.lesions) > 1)
            + rng.normal(RISK_NOISE_SD)
            for p in members
        ]
        deaths = stratified_times(rng, risk, OS_CURVES[group])
        prog_risk = [r + rng.normal(PROGRESSION_NOISE_SD) for r in risk]
        progressions = stratified_times(rng, prog_risk, PROGRESSION_CURVES[group])
        for p, death, prog in zip(members, deaths, progressions, strict=True):
            p.death_months = max(death, MIN_SURVIVAL_MONTHS)
            p.progression_months = prog
        patient_risk = {id(p): r for p, r in zip(members, prog_risk, strict=True)}
        lesions = [(p, les) for p in members for les in p.lesions]
        lesion_risk = [
            RISK_LARGE_LESION * (les.size_cm >= 5.0)
            + LESION_SHARES_PATIENT_RISK * patient_risk[id(p)]
            + rng.normal(RISK_NOISE_SD)
            for p, les in lesions
        ]
        for (_, les), t in zip(
            lesions, stratified_times(rng, lesion_risk, LOCAL_FAILURE_CURVES[group]), strict=True
        ):
            les.lf_months = t


def months_to_days(months: float) -> int:
    return round(months * DAYS_PER_MONTH)


def date_after(start: date, months: float) -> date | None:
    """``start`` plus ``months`` (None for never)."""
    return start + timedelta(days=months_to_days(months)) if months < 1000 else None


def weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def assign_start_dates(rng: Rng, patients: list[Patient]) -> None:
    """Accrual 2009-12..2019-12, busier in later years; the longest follow-up is 125 months."""
    span = (LAST_SBRT - FIRST_SBRT).days
    offsets = sorted(
        int(span * (1 - (1 - (i + rng.u()) / len(patients)) ** ACCRUAL_POWER))
        for i in range(len(patients))
    )
    # The earliest slot goes to the G1 patient alive longest, followed for exactly 125 months.
    anchor = max((p for p in patients if p.grade == 1), key=lambda p: p.death_months)
    others = rng.shuffled([p for p in patients if p is not anchor])
    anchor.start = weekday_on_or_after(
        DATA_CUTOFF - timedelta(days=months_to_days(MAX_FOLLOW_UP_MONTHS) + 5)
    )
    anchor.death_months = math.inf
    for p, offset in zip(others, offsets[1:], strict=True):
        p.start = weekday_on_or_after(FIRST_SBRT + timedelta(days=offset))
    patients.sort(key=lambda p: (p.start, p.subtype))
    for n, p in enumerate(patients, start=1):
        p.patient_id = f"DEMO-P{n:03d}"


# --------------------------------------------------------------------------- tables
@dataclass
class Tables:
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, str]) -> None:
        self.rows.setdefault(table, []).append(row)


COLUMNS = {
    "registry_meta": ["key", "value"],
    "screened_candidates": [
        "candidate_id",
        "screening_date",
        "eligible",
        "exclusion_reason",
        "patient_id",
    ],
    "patients": [
        "patient_id",
        "sex",
        "birth_date",
        "age_at_sbrt_years",
        "diagnosis_date",
        "recurrence_date",
        "histology_subtype",
        "who_family",
        "fnclcc_grade",
        "primary_site",
        "disease_setting",
        "lesions_at_first_sbrt",
        "first_treatment_surgery",
        "prior_surgeries",
        "adjuvant_chemotherapy",
        "adjuvant_radiotherapy",
    ],
    "lesions": ["lesion_id", "patient_id", "site_category", "site_detail", "size_cm"],
    "sbrt_courses": [
        "course_id",
        "lesion_id",
        "start_date",
        "end_date",
        "total_dose_gy",
        "fractions",
        "isodose_line_pct",
        "ptv_margin_mm",
        "device",
        "tracking",
    ],
    "dosimetry": [
        "course_id",
        "tv_cc",
        "piv_cc",
        "tv_piv_cc",
        "dmax_gy",
        "coverage_pct",
        "ci",
        "nci",
        "hi",
        "source",
    ],
    "assessments": [
        "assessment_id",
        "lesion_id",
        "assessment_date",
        "modality",
        "longest_diameter_mm",
        "new_lesions",
    ],
    "patient_events": [
        "event_id",
        "patient_id",
        "event_type",
        "event_date",
        "progression_type",
        "lesion_id",
    ],
    "toxicities": [
        "toxicity_id",
        "patient_id",
        "course_id",
        "onset_date",
        "ctcae_version",
        "term",
        "grade",
        "attribution",
    ],
    "systemic_therapies": [
        "therapy_id",
        "patient_id",
        "therapy_type",
        "agent",
        "start_date",
        "end_date",
    ],
}


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def num(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def treatment_end(start: date, fractions: int) -> date:
    """Last day of daily weekday fractions."""
    day, given = start, 1
    while given < fractions:
        day += timedelta(days=1)
        if day.weekday() < 5:
            given += 1
    return day


def build_history(rng: Rng, patients: list[Patient]) -> None:
    """Diagnosis, recurrence and surgical history (Table 1 and the text)."""
    intervals = [round(v) for v in pinned_values(rng, len(patients), 2, 7, 100, (0.8, 2.5))]
    intervals = rng.shuffled(intervals)
    oligo = [p for p in patients if p.setting == "oligometastasis"]
    no_surgery = set(map(id, rng.shuffled(oligo)[:9]))  # 28 of 37 had surgery first
    surgical = [p for p in patients if id(p) not in no_surgery]
    many_ops = set(
        map(
            id,
            rng.shuffled([p for p in surgical if p.setting == "recurrence"])[:5]
            + rng.shuffled([p for p in surgical if p.setting == "oligometastasis"])[:2],
        )
    )
    adjuvant_chemo = set(map(id, rng.shuffled(surgical)[:13]))
    adjuvant_rt = set(map(id, rng.shuffled(surgical)[:3]))
    for p, months in zip(patients, intervals, strict=True):
        p.surgery_first = id(p) not in no_surgery
        p.prior_surgeries = (
            rng.integer(3, 4) if id(p) in many_ops else rng.integer(1, 2) if p.surgery_first else 0
        )
        p.adjuvant_chemo = id(p) in adjuvant_chemo
        p.adjuvant_rt = id(p) in adjuvant_rt
        p.recurrence = p.start - timedelta(days=rng.integer(21, 90))
        p.diagnosis = p.recurrence - timedelta(days=months_to_days(months))


def build_demographics(rng: Rng, patients: list[Patient]) -> None:
    """25 men and 12 women; age 58 (19-82) years."""
    women = [p for p in patients if p.subtype == "endometrial stromal sarcoma"]
    others = rng.shuffled([p for p in patients if p not in women])
    women += others[: 12 - len(women)]
    for p in patients:
        p.sex = "female" if p in women else "male"
    ages = rng.shuffled(
        [round(a) for a in pinned_values(rng, len(patients), 19, 58, 82, (1.4, 1.0))]
    )
    for p, age in zip(patients, ages, strict=True):
        p.age = age


def pair_dosimetry(rng: Rng, n: int) -> list[tuple[float, float]]:
    """(coverage fraction, CI) pairs, sorted by CI: medians 86.12 % and 1.13, Table 2 ranges.

    nCI = CI / coverage^2 follows from the pairing. Starting from rank order within halves
    (best-covered half with the tighter half of CIs), CIs are swapped between targets, which
    keeps both distributions exact, until the nCI median and minimum are the paper's 1.42 and
    1.13. The paper's nCI maximum (2.93) cannot be reproduced: with CI >= 1.00 a coverage of
    47.81 % already gives nCI >= 4.37.
    """
    coverage = [round(v, 2) / 100 for v in pinned_values(rng, n, 47.81, 86.12, 99.75, (2.5, 1.6))]
    ci = [round(v, 2) for v in pinned_values(rng, n, 1.00, 1.13, 2.77, (0.8, 3.0))]
    half = n // 2
    # Start: the low-coverage half with the high CIs (its best-covered target with the median
    # CI), the high-coverage half with the low CIs, each in rank order.
    cover = [coverage[half - 1], *coverage[: half - 1], *coverage[half:]]
    cis = [ci[half], *ci[half + 1 :], *ci[:half]]

    def miss(cis: list[float]) -> float:
        nci = sorted(round(x / c**2, 2) for c, x in zip(cover, cis, strict=True))
        return (
            abs((nci[half - 1] + nci[half]) / 2 - 1.42)
            + abs(nci[0] - 1.13)
            + 0.01 * (nci[-1] - 4.0)
        )

    best = miss(cis)
    improved = True
    while improved:  # first-improvement pairwise swaps, in a fixed order: deterministic
        improved = False
        for i in range(n):
            for j in range(i + 1, n):
                cis[i], cis[j] = cis[j], cis[i]
                score = miss(cis)
                if score < best - 1e-12:
                    best, improved = score, True
                else:
                    cis[i], cis[j] = cis[j], cis[i]
    return sorted(zip(cover, cis, strict=True), key=lambda pair: (pair[1], pair[0]))


def dosimetry_rows(
    rng: Rng, lesions: list[Lesion]
) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """Planning-system indices from consistent volumes (cm3): coverage = TV_PIV/TV, CI = PIV/TV,
    nCI = TV x PIV / TV_PIV^2, HI = Dmax/prescription; isodose 75 (55-88) %, HI 1.33 (1.10-2.00).

    Returns the dosimetry rows and the isodose line (%) of each course, by course_id.
    """
    n = len(lesions)
    isodose = [round(v) for v in pinned_values(rng, n, 55, 75, 88, (1.5, 1.2))]
    hi = sorted(round(v, 2) for v in pinned_values(rng, n, 1.10, 1.33, 2.00, (1.0, 1.8)))
    isodose_of = rng.shuffled(isodose)
    # HI tracks 100/isodose: the k-th highest isodose line gets the k-th lowest HI.
    by_isodose = sorted(range(n), key=lambda i: (-isodose_of[i], i))
    hi_of = {i: hi[k] for k, i in enumerate(by_isodose)}
    # Smaller targets tend to get the less conformal plans (higher CI).
    by_size = sorted(range(n), key=lambda i: lesions[i].size_cm * math.exp(rng.normal(0.4)))
    pairs = pair_dosimetry(rng, n)
    pair_of = {i: pairs[n - 1 - k] for k, i in enumerate(by_size)}
    rows: dict[str, dict[str, str]] = {}
    for i, les in enumerate(lesions):
        cov, ci = pair_of[i]
        margin_cm = PTV_MARGIN_MM[les.site] / 10
        tv = round(math.pi / 6 * (les.size_cm + 2 * margin_cm) ** 3 * rng.uniform(0.55, 0.8), 3)
        tv_piv = round(tv * cov, 3)
        piv = round(tv * ci, 3)
        dmax = round(hi_of[i] * les.dose_gy, 2)
        rows[les.course_id] = {
            "course_id": les.course_id,
            "tv_cc": num(tv, 3),
            "piv_cc": num(piv, 3),
            "tv_piv_cc": num(tv_piv, 3),
            "dmax_gy": num(dmax, 2),
            "coverage_pct": num(100 * tv_piv / tv, 2),
            "ci": num(piv / tv, 2),
            "nci": num(tv * piv / tv_piv**2, 2),
            "hi": num(dmax / les.dose_gy, 2),
            "source": "tps",
        }
    return rows, {les.course_id: isodose_of[i] for i, les in enumerate(lesions)}


def visit_dates(rng: Rng, start: date) -> list[date]:
    return [start + timedelta(days=months_to_days(m) + rng.integer(-10, 10)) for m in VISIT_MONTHS]


@dataclass
class FollowUp:
    """What happened to one patient, as dates."""

    death: date | None
    last_contact: date
    progression: date | None = None
    progression_kind: str = ""
    local_failures: dict[str, date] = field(default_factory=dict)


def follow_patient(rng: Rng, p: Patient, tables: Tables, counter: dict[str, int]) -> FollowUp:
    """Scans of every treated lesion, detected failures and progression, death, last contact."""
    death = date_after(p.start, p.death_months)
    if death is not None and death > DATA_CUTOFF:
        death = None
    end = death if death is not None else DATA_CUTOFF - timedelta(days=rng.integer(0, 40))
    if p.patient_id == "DEMO-P001":  # the longest follow-up: 125 months exactly
        end = p.start + timedelta(days=months_to_days(MAX_FOLLOW_UP_MONTHS))
    visits = [v for v in visit_dates(rng, p.start) if v < end]
    # Non-local progression: found on the first scan after it happens.
    latent = date_after(p.start, p.progression_months)
    prog_date = next((v for v in visits if latent is not None and v >= latent), None)
    fu = FollowUp(death=death, last_contact=end)
    for les in p.lesions:
        latent_lf = date_after(les.start, les.lf_months)
        fail = next((v for v in visits if latent_lf is not None and v >= latent_lf), None)
        if fail is not None:
            fu.local_failures[les.lesion_id] = fail
        write_scans(
            rng,
            les,
            [v for v in visits if fail is None or v <= fail],
            fail,
            prog_date,
            tables,
            counter,
        )
    if prog_date is not None:
        fu.progression = prog_date
        fu.progression_kind = (
            "regional" if p.setting == "recurrence" and rng.u() < 0.35 else "distant"
        )
    if death is not None and visits:
        fu.last_contact = max(visits[-1], death - timedelta(days=rng.integer(7, 40)))
    elif death is not None:
        fu.last_contact = death - timedelta(days=rng.integer(7, 30))
    return fu


def write_scans(
    rng: Rng,
    les: Lesion,
    visits: list[date],
    fail: date | None,
    progression: date | None,
    tables: Tables,
    counter: dict[str, int],
) -> None:
    """Baseline and follow-up longest diameters (mm) that trigger local failure only at ``fail``.

    Before failure the lesion shrinks towards a plateau with noise that stays within 8 % and
    3 mm of the nadir and never exceeds baseline; at failure it grows >= 30 % and >= 6 mm over
    the nadir and >= 25 % over baseline, so RECIST 1.1 and the paper's rule agree.
    """
    baseline = round(les.size_cm * 10)
    plateau = rng.uniform(0.45, 0.95)
    tau = rng.uniform(3.0, 9.0)
    modality = MODALITY[les.site]
    scans = [(les.start - timedelta(days=rng.integer(5, 21)), float(baseline))]
    nadir = float(baseline)
    for visit in visits:
        t = (visit - les.start).days / DAYS_PER_MONTH
        if visit == fail:
            value = math.ceil(max(nadir * 1.3, nadir + 6, baseline * 1.25))
        else:
            trend = baseline * (plateau + (1 - plateau) * math.exp(-t / tau))
            value = round(trend * (1 + rng.uniform(-0.04, 0.04)))
            value = max(1, min(value, math.floor(nadir * 1.08), round(nadir) + 3, baseline))
        scans.append((visit, float(value)))
        nadir = min(nadir, value)
    for k, (day, diameter) in enumerate(scans):
        counter["assessment"] += 1
        new = "" if k == 0 else yes_no(progression is not None and day == progression)
        tables.add(
            "assessments",
            {
                "assessment_id": f"DEMO-A{counter['assessment']:04d}",
                "lesion_id": les.lesion_id,
                "assessment_date": day.isoformat(),
                "modality": "PET-CT" if k == 0 and rng.u() < 0.15 else modality,
                "longest_diameter_mm": num(diameter, 0),
                "new_lesions": new,
            },
        )


def event_rows(p: Patient, fu: FollowUp, tables: Tables, counter: dict[str, int]) -> None:
    events: list[tuple[date, str, str, str]] = [
        (day, "progression", "local", lesion_id) for lesion_id, day in fu.local_failures.items()
    ]
    if fu.progression is not None:
        events.append((fu.progression, "progression", fu.progression_kind, ""))
    if fu.death is not None:
        events.append((fu.death, "death", "", ""))
    events.append((fu.last_contact, "last_contact", "", ""))
    for day, kind, prog_type, lesion_id in sorted(events):
        counter["event"] += 1
        tables.add(
            "patient_events",
            {
                "event_id": f"DEMO-E{counter['event']:03d}",
                "patient_id": p.patient_id,
                "event_type": kind,
                "event_date": day.isoformat(),
                "progression_type": prog_type,
                "lesion_id": lesion_id,
            },
        )


def first_event(fu: FollowUp) -> date:
    """Date of the first progression (any type) or death, or last contact."""
    dates = [*fu.local_failures.values(), fu.progression, fu.death]
    return min((d for d in dates if d is not None), default=fu.last_contact)


def systemic_rows(
    rng: Rng, patients: list[Patient], follow: dict[str, FollowUp], tables: Tables
) -> None:
    """Table 1 systemic treatment: one therapy per treated patient.

    Chemotherapy 18 (11 oligometastatic, 7 recurrent; 9 before, 5 after, 4 concurrent with
    SBRT), targeted therapy 4, immunotherapy 1, interventional therapy 2, none 12.
    """
    oligo = rng.shuffled([p for p in patients if p.setting == "oligometastasis"])
    rec = rng.shuffled([p for p in patients if p.setting == "recurrence"])
    chemo = oligo[:11] + rec[:7]
    rest = rng.shuffled(oligo[11:] + rec[7:])
    kinds = {id(p): "chemotherapy" for p in chemo}
    for p, other in zip(
        rest,
        ["targeted therapy"] * 4 + ["immunotherapy"] + ["interventional therapy"] * 2,
        strict=False,
    ):
        kinds[id(p)] = other

    # "After SBRT" goes to the chemotherapy patients followed longest after their last course.
    def months_after(p: Patient) -> float:
        return (follow[p.patient_id].last_contact - p.start).days / DAYS_PER_MONTH

    by_follow = sorted(chemo, key=lambda p: (-months_after(p), p.patient_id))
    timing = {id(p): "after" for p in by_follow[:5]}
    middle = rng.shuffled(by_follow[5:])
    timing.update({id(p): "concurrent" for p in middle[:4]})
    timing.update({id(p): "before" for p in middle[4:]})
    counter = 0
    for p in patients:
        kind = kinds.get(id(p))
        if kind is None:
            continue
        p.systemic = kind
        first = p.start
        last = max(treatment_end(les.start, les.fractions) for les in p.lesions)
        when = timing.get(id(p), "after" if follow[p.patient_id].progression else "before")
        if when == "before":
            end = first - timedelta(days=rng.integer(21, 60))
            start = end - timedelta(days=rng.integer(60, 150))
        elif when == "concurrent":
            start = first - timedelta(days=rng.integer(7, 30))
            end = last + timedelta(days=rng.integer(30, 90))
        else:
            anchor = max(
                last,
                first_event(follow[p.patient_id]) if follow[p.patient_id].progression else last,
            )
            start = anchor + timedelta(days=rng.integer(14, 45))
            end = start + timedelta(days=rng.integer(60, 150))
            end = min(end, follow[p.patient_id].last_contact)
            start = min(start, end)
        agent = {
            "chemotherapy": rng.pick(CHEMOTHERAPY),
            "targeted therapy": rng.pick(TARGETED),
            "immunotherapy": "pembrolizumab",
            "interventional therapy": "transarterial chemoembolisation",
        }[kind]
        counter += 1
        tables.add(
            "systemic_therapies",
            {
                "therapy_id": f"DEMO-ST{counter:03d}",
                "patient_id": p.patient_id,
                "therapy_type": kind,
                "agent": agent,
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
            },
        )


def toxicity_rows(
    rng: Rng, patients: list[Patient], follow: dict[str, FollowUp], tables: Tables
) -> None:
    """Fatigue G1-2 x8, pneumonitis G2 x1, enterocolitis G1-2 x2, late dermatitis G3 x1 (6 mo)."""

    def alive_at(p: Patient, months: float) -> bool:
        return (follow[p.patient_id].last_contact - p.start).days / DAYS_PER_MONTH > months

    def with_site(sites: tuple[str, ...], months: float) -> list[Patient]:
        return [
            p
            for p in patients
            if alive_at(p, months) and any(les.site in sites for les in p.lesions)
        ]

    rows: list[tuple[Patient, str, int, int, str, tuple[str, ...]]] = []
    fatigue = rng.shuffled([p for p in patients if alive_at(p, 3)])[:8]
    for k, p in enumerate(fatigue):
        rows.append((p, "Fatigue", 1 if k < 5 else 2, rng.integer(3, 20), "possible", ()))
    pneumonitis = rng.pick(with_site(("lung",), 4))
    rows.append((pneumonitis, "Pneumonitis", 2, rng.integer(45, 80), "probable", ("lung",)))
    gut = rng.shuffled(with_site(("abdomen/pelvis",), 3))[:2]
    for k, p in enumerate(gut):
        rows.append(
            (p, "Enterocolitis", k + 1, rng.integer(5, 25), "probable", ("abdomen/pelvis",))
        )
    skin = rng.pick(with_site(("chest", "limbs"), 7))
    rows.append(
        (skin, "Dermatitis radiation", 3, months_to_days(6), "definite", ("chest", "limbs"))
    )
    rows.sort(key=lambda r: (r[0].patient_id, r[3]))
    for n, (p, term, grade, days, attribution, sites) in enumerate(rows, start=1):
        lesion = next((les for les in p.lesions if les.site in sites), p.lesions[0])
        tables.add(
            "toxicities",
            {
                "toxicity_id": f"DEMO-T{n:03d}",
                "patient_id": p.patient_id,
                "course_id": lesion.course_id,
                "onset_date": (lesion.start + timedelta(days=days)).isoformat(),
                "ctcae_version": "4.03",
                "term": term,
                "grade": str(grade),
                "attribution": attribution,
            },
        )


def candidate_rows(rng: Rng, patients: list[Patient], tables: Tables) -> None:
    """68 screened: the 37 patients and 31 excluded (reason counts are ours: not reported)."""
    span = (LAST_SBRT - FIRST_SBRT).days
    entries = [
        (p.start - timedelta(days=rng.integer(14, 45)), "yes", "", p.patient_id) for p in patients
    ]
    reasons = [reason for reason, count in EXCLUSIONS for _ in range(count)]
    for reason in reasons:
        day = FIRST_SBRT + timedelta(days=rng.integer(0, span))
        entries.append((day, "no", reason, ""))
    for n, (day, eligible, reason, pid) in enumerate(sorted(entries), start=1):
        tables.add(
            "screened_candidates",
            {
                "candidate_id": f"DEMO-SC{n:03d}",
                "screening_date": day.isoformat(),
                "eligible": eligible,
                "exclusion_reason": reason,
                "patient_id": pid,
            },
        )


def patient_row(p: Patient) -> dict[str, str]:
    return {
        "patient_id": p.patient_id,
        "sex": p.sex,
        "birth_date": "",
        "age_at_sbrt_years": str(p.age),
        "diagnosis_date": p.diagnosis.isoformat(),
        "recurrence_date": p.recurrence.isoformat(),
        "histology_subtype": p.subtype,
        "who_family": p.family,
        "fnclcc_grade": str(p.grade),
        "primary_site": p.primary_site,
        "disease_setting": p.setting,
        "lesions_at_first_sbrt": str(len(p.lesions)),
        "first_treatment_surgery": yes_no(p.surgery_first),
        "prior_surgeries": str(p.prior_surgeries),
        "adjuvant_chemotherapy": yes_no(p.adjuvant_chemo),
        "adjuvant_radiotherapy": yes_no(p.adjuvant_rt),
    }


def meta_rows(tables: Tables) -> None:
    for key, value in (
        ("name", "rtoutcomes demo registry (SYNTHETIC)"),
        ("synthetic", "yes"),
        ("data_cutoff_date", DATA_CUTOFF.isoformat()),
        (
            "description",
            "SYNTHETIC data, not real patients: a simulated SBRT registry of recurrent and "
            "oligometastatic soft tissue sarcoma modelled on the published summary of Feng et al., "
            "World J Surg Oncol 2022;20:322 (doi:10.1186/s12957-022-02781-1). Written by "
            f"scripts/make_demo_registry.py with seed {SEED}; see docs/demo-registry.md.",
        ),
    ):
        tables.add("registry_meta", {"key": key, "value": value})


def build(seed: int = SEED) -> Tables:
    """The whole synthetic registry, table by table (rows of strings, as written)."""
    cohort = Rng(seed, "cohort")
    patients = [Patient(family=f, subtype=s, grade=g) for f, s, g in HISTOLOGY]
    assign_settings(cohort, patients)
    assign_sites(cohort, patients)
    lesions = [les for p in patients for les in p.lesions]
    assign_sizes(cohort, lesions)
    assign_schedules(cohort, lesions)
    outcomes = Rng(seed, "outcomes")
    simulate_outcomes(outcomes, patients)
    assign_start_dates(outcomes, patients)
    build_demographics(Rng(seed, "demographics"), patients)
    build_history(Rng(seed, "history"), patients)
    tables = Tables()
    meta_rows(tables)
    n_lesion = 0
    for p in patients:
        tables.add("patients", patient_row(p))
        for k, les in enumerate(p.lesions):
            n_lesion += 1
            les.lesion_id, les.course_id = f"DEMO-L{n_lesion:03d}", f"DEMO-RT{n_lesion:03d}"
            les.start = weekday_on_or_after(p.start + timedelta(days=7 * k))
    all_lesions = [les for p in patients for les in p.lesions]
    dosimetry, isodose = dosimetry_rows(Rng(seed, "dosimetry"), all_lesions)
    for p in patients:
        for les in p.lesions:
            tables.add(
                "lesions",
                {
                    "lesion_id": les.lesion_id,
                    "patient_id": p.patient_id,
                    "site_category": les.site,
                    "site_detail": les.detail,
                    "size_cm": num(les.size_cm, 1),
                },
            )
            tables.add(
                "sbrt_courses",
                {
                    "course_id": les.course_id,
                    "lesion_id": les.lesion_id,
                    "start_date": les.start.isoformat(),
                    "end_date": treatment_end(les.start, les.fractions).isoformat(),
                    "total_dose_gy": num(les.dose_gy, 1),
                    "fractions": str(les.fractions),
                    "isodose_line_pct": str(isodose[les.course_id]),
                    "ptv_margin_mm": str(PTV_MARGIN_MM[les.site]),
                    "device": "CyberKnife",
                    "tracking": TRACKING[les.site],
                },
            )
            tables.add("dosimetry", dosimetry[les.course_id])
    counter = {"assessment": 0, "event": 0}
    follow: dict[str, FollowUp] = {}
    scans = Rng(seed, "follow-up")
    for p in patients:
        follow[p.patient_id] = follow_patient(scans, p, tables, counter)
        event_rows(p, follow[p.patient_id], tables, counter)
    systemic_rows(Rng(seed, "systemic"), patients, follow, tables)
    toxicity_rows(Rng(seed, "toxicity"), patients, follow, tables)
    candidate_rows(Rng(seed, "screening"), patients, tables)
    return tables


def write(tables: Tables, out_dir: Path) -> list[Path]:
    """One ``<table>.csv`` per table (UTF-8, comma, LF), columns in the order of
    docs/registry-format.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table, columns in COLUMNS.items():
        path = out_dir / f"{table}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(tables.rows.get(table, []))
        written.append(path)
    return written


DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "rtoutcomes" / "data" / "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    paths = write(build(args.seed), args.out)
    print(f"wrote {len(paths)} SYNTHETIC demo registry tables to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
