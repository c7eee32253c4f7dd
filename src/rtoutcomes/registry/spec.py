"""The registry's column specification: one declarative table drives everything.

The database schema (``schema.py``), the cell-by-cell checks of an import (``validation.py``)
and the data-format documentation (``docs.py`` -> README and docs/registry-format.md) are all
derived from ``TABLES`` below, so that they cannot drift apart. Rules that involve several
columns or tables live in ``rules.py``; their wording for the documentation is the ``note`` of
the column they concern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "date", "yes/no", "integer", "number"]
Requirement = Literal["req", "opt", "cond"]


@dataclass(frozen=True)
class Range:
    """Allowed interval of a numeric column; ``None`` means unbounded on that side."""

    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def contains(self, value: float) -> bool:
        below = self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        )
        if below:
            return False
        if self.high is not None:
            return value < self.high or (value == self.high and self.high_inclusive)
        return True

    def describe(self, unit: str = "") -> str:
        """``'> 0 and <= 150 Gy'``, ``'1..50'``, ``'>= 0 mm'``."""
        suffix = f" {unit}" if unit else ""
        closed = self.low_inclusive and self.high_inclusive
        if self.low is not None and self.high is not None and closed:
            return f"{_num(self.low)}..{_num(self.high)}{suffix}"
        parts = []
        if self.low is not None:
            parts.append(f"{'>=' if self.low_inclusive else '>'} {_num(self.low)}")
        if self.high is not None:
            parts.append(f"{'<=' if self.high_inclusive else '<'} {_num(self.high)}")
        return " and ".join(parts) + suffix


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of one table.

    ``requirement``: ``req`` (non-empty in every row), ``opt`` (may be empty) or ``cond``
    (required under the condition stated in ``condition``; checked in ``rules.py``).
    ``unit`` is the unit of a numeric column as written in the documentation (``Gy``, ``cm``...).
    ``references`` is ``"table.column"`` for a foreign key.
    """

    name: str
    kind: Kind
    requirement: Requirement = "opt"
    unique: bool = False
    choices: tuple[str, ...] = ()
    range: Range | None = None
    unit: str = ""
    references: str | None = None
    condition: str = ""
    note: str = ""

    @property
    def required(self) -> bool:
        return self.requirement == "req"

    def rule_text(self) -> str:
        """The rule as the documentation states it (generated, see ``docs.py``)."""
        head = f"cond: {self.condition}" if self.requirement == "cond" else self.requirement
        parts = [head]
        if self.unique:
            parts.append("unique")
        if self.references:
            parts.append(f"FK {self.references.split('.')[0]}")
        if self.range is not None:
            parts.append(self.range.describe(self.unit))
        elif self.unit:
            parts.append(self.unit)
        text = ", ".join(parts)
        if self.choices:
            text += "; one of " + ", ".join(f"`{c}`" for c in self.choices)
        if self.note:
            text += f"; {self.note}"
        return text


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[ColumnSpec, ...]
    primary_key: str
    extra_rules: tuple[str, ...] = field(default=())
    #: may be left out of an import (a table filled by rtoutcomes itself, added after 0001)
    optional: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


EXCLUSION_REASONS = (
    "multiple metastases (more than 3 lesions)",
    "unclear pathological type",
    "unclear imaging data",
    "incomplete treatment plan",
    "other",
)
WHO_FAMILIES = (
    "adipocytic tumours",
    "fibroblastic and myofibroblastic tumours",
    "so-called fibrohistiocytic tumours",
    "vascular tumours",
    "pericytic (perivascular) tumours",
    "smooth muscle tumours",
    "skeletal muscle tumours",
    "gastrointestinal stromal tumour",
    "chondro-osseous tumours",
    "peripheral nerve sheath tumours",
    "tumours of uncertain differentiation",
    "undifferentiated small round cell sarcomas",
    "others",
)
SITE_CATEGORIES = (
    "head and neck",
    "lung",
    "chest",
    "abdomen/pelvis",
    "vertebral body bone",
    "limbs",
    "other",
)
META_KEYS = ("name", "synthetic", "data_cutoff_date", "description")

_C = ColumnSpec
_POSITIVE = Range(0, None, low_inclusive=False)
_NON_NEGATIVE = Range(0, None)

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "registry_meta",
        "key/value facts about the registry",
        (
            _C(
                "key",
                "text",
                "req",
                unique=True,
                note="known keys: `name`, `synthetic` (yes/no), `data_cutoff_date` (date; "
                "later events are kept, analyses censor at it), `description`",
            ),
            _C("value", "text", "req"),
        ),
        primary_key="key",
    ),
    TableSpec(
        "patients",
        "one row per enrolled patient",
        (
            _C("patient_id", "text", "req", unique=True),
            _C("sex", "text", "req", choices=("male", "female")),
            _C(
                "birth_date",
                "date",
                note="one of birth_date, age_at_sbrt_years req; <= diagnosis_date",
            ),
            _C(
                "age_at_sbrt_years",
                "integer",
                range=Range(0, 120),
                unit="years",
                note="at the first SBRT start; agrees with birth_date within 1 year when both "
                "are given",
            ),
            _C("diagnosis_date", "date", "req", note="the primary's initial diagnosis"),
            _C(
                "recurrence_date",
                "date",
                note="diagnosis of the recurrence/oligometastatic state; >= diagnosis_date",
            ),
            _C(
                "histology_subtype",
                "text",
                "req",
                note="free text as the pathologist wrote it, e.g. `myxofibrosarcoma`",
            ),
            _C(
                "who_family",
                "text",
                "req",
                choices=WHO_FAMILIES,
                note="WHO 2020 soft tissue family",
            ),
            _C(
                "fnclcc_grade",
                "integer",
                range=Range(1, 3),
                note="grade of the primary at initial diagnosis",
            ),
            _C("primary_site", "text"),
            _C("disease_setting", "text", "req", choices=("recurrence", "oligometastasis")),
            _C(
                "lesions_at_first_sbrt",
                "integer",
                "req",
                range=Range(1, 10),
                note="concurrent lesions at first SBRT",
            ),
            _C("first_treatment_surgery", "yes/no"),
            _C("prior_surgeries", "integer", range=Range(0, 30)),
            _C("adjuvant_chemotherapy", "yes/no", note="after surgery of the primary"),
            _C("adjuvant_radiotherapy", "yes/no"),
            _C(
                "centre",
                "text",
                note="the treating centre of a multi-centre registry (a study file may stratify "
                "by it: `cox: {strata: [centre]}`)",
            ),
            _C(
                "data_cutoff_date",
                "date",
                note="this patient's data cut-off, used instead of registry_meta's "
                "`data_cutoff_date`; a de-identified export writes it, shifted with the "
                "patient's dates",
            ),
        ),
        primary_key="patient_id",
    ),
    TableSpec(
        "screened_candidates",
        "every patient screened for the study, with the eligibility outcome",
        (
            _C("candidate_id", "text", "req", unique=True),
            _C("screening_date", "date"),
            _C("eligible", "yes/no", "req"),
            _C(
                "exclusion_reason",
                "text",
                "cond",
                choices=EXCLUSION_REASONS,
                condition="req when eligible=no, empty when yes",
            ),
            _C(
                "patient_id",
                "text",
                "cond",
                unique=True,
                references="patients.patient_id",
                condition="req when eligible=yes, empty when no",
            ),
        ),
        primary_key="candidate_id",
    ),
    TableSpec(
        "lesions",
        "one row per treated lesion",
        (
            _C("lesion_id", "text", "req", unique=True),
            _C("patient_id", "text", "req", references="patients.patient_id"),
            _C("site_category", "text", "req", choices=SITE_CATEGORIES),
            _C("site_detail", "text"),
            _C(
                "size_cm",
                "number",
                "req",
                range=Range(0, 40, low_inclusive=False),
                unit="cm",
                note="a larger value is probably mm: say so",
            ),
        ),
        primary_key="lesion_id",
    ),
    TableSpec(
        "sbrt_courses",
        "one row per SBRT course of a lesion",
        (
            _C("course_id", "text", "req", unique=True),
            _C("lesion_id", "text", "req", references="lesions.lesion_id"),
            _C(
                "start_date",
                "date",
                "req",
                note=">= patient's diagnosis_date; not after the patient's death",
            ),
            _C("end_date", "date", "req", note=">= start_date"),
            _C(
                "total_dose_gy",
                "number",
                "req",
                range=Range(0, 150, low_inclusive=False),
                unit="Gy",
            ),
            _C("fractions", "integer", "req", range=Range(1, 50), note="a whole number"),
            _C("isodose_line_pct", "number", "req", range=Range(30, 100), unit="%"),
            _C("ptv_margin_mm", "number", range=Range(0, 30), unit="mm"),
            _C("device", "text", note="e.g. `CyberKnife`"),
            _C("tracking", "text", choices=("fiducial", "spine", "skull", "lung", "none", "other")),
        ),
        primary_key="course_id",
    ),
    TableSpec(
        "dosimetry",
        "one row per course",
        (
            _C("course_id", "text", "req", unique=True, references="sbrt_courses.course_id"),
            _C("tv_cc", "number", range=_POSITIVE, unit="cm3", note="target volume, PTV"),
            _C("piv_cc", "number", range=_POSITIVE, unit="cm3", note="prescription isodose volume"),
            _C(
                "tv_piv_cc",
                "number",
                range=_NON_NEGATIVE,
                unit="cm3",
                note="<= tv_cc and <= piv_cc (target volume covered by the prescription isodose)",
            ),
            _C("dmax_gy", "number", range=_POSITIVE, unit="Gy"),
            _C("coverage_pct", "number", range=Range(0, 100), unit="%"),
            _C("ci", "number", range=_POSITIVE, note="RTOG, PIV/TV"),
            _C("nci", "number", range=_POSITIVE, note="Nakamura, TV x PIV / TV_PIV^2"),
            _C("hi", "number", range=Range(1, None), note="RTOG, Dmax/Dprescription"),
            _C(
                "source",
                "text",
                "req",
                choices=("tps", "computed"),
                note="`tps` = planning system, `computed` = rtoutcomes DVH engine",
            ),
            _C("paddick_ci", "number", range=Range(0, 1), note="TV_PIV^2 / (TV x PIV)"),
            _C("hi_icru83", "number", range=_NON_NEGATIVE, note="ICRU 83, (D2 - D98) / D50"),
            _C("gradient_index", "number", range=Range(1, None), note="Paddick, V50% / PIV"),
            _C(
                "prescription_gy",
                "number",
                range=_POSITIVE,
                unit="Gy",
                note="the prescription the indices refer to",
            ),
            _C("target_structure", "text", note="the target ROI as exported"),
            _C("dicom_patient_id", "text", note="PatientID of the DICOM files"),
            _C(
                "rtplan_uid",
                "text",
                unique=True,
                note="SOP Instance UID of the RT Plan (of the first plan when plans are summed)",
            ),
            _C("rtplan_label", "text", note="RTPlanLabel"),
            _C("rtstruct_uid", "text", note="SOP Instance UID of the RT Structure Set"),
            _C(
                "rtdose_uids",
                "text",
                note="SOP Instance UID(s) of the RT Dose object(s) summed, separated by spaces",
            ),
            _C("planning_system", "text", note="Manufacturer, model and software version"),
        ),
        primary_key="course_id",
    ),
    TableSpec(
        "structure_metrics",
        "DVH statistics of every contoured structure of a course's plan, filled by "
        "`dosimetry-import`",
        (
            _C("metric_id", "text", "req", unique=True, note="course_id / structure"),
            _C("course_id", "text", "req", references="sbrt_courses.course_id"),
            _C("structure", "text", "req", note="ROI name as exported"),
            _C("tg263_name", "text", note="AAPM TG-263 standard name where the name maps"),
            _C("volume_cc", "number", range=_NON_NEGATIVE, unit="cm3"),
            _C(
                "outside_grid_cc",
                "number",
                range=_NON_NEGATIVE,
                unit="cm3",
                note="part of the volume without dose",
            ),
            _C("dmin_gy", "number", range=_NON_NEGATIVE, unit="Gy"),
            _C("dmean_gy", "number", range=_NON_NEGATIVE, unit="Gy"),
            _C("dmax_gy", "number", range=_NON_NEGATIVE, unit="Gy"),
            _C("d2_gy", "number", range=_NON_NEGATIVE, unit="Gy"),
            _C("d50_gy", "number", range=_NON_NEGATIVE, unit="Gy"),
            _C("d95_gy", "number", range=_NON_NEGATIVE, unit="Gy"),
            _C("d98_gy", "number", range=_NON_NEGATIVE, unit="Gy"),
            _C(
                "d0_03cc_gy",
                "number",
                range=_NON_NEGATIVE,
                unit="Gy",
                note="minimum dose of the hottest 0.03 cm3",
            ),
            _C("source", "text", "req", choices=("tps", "computed")),
        ),
        primary_key="metric_id",
        optional=True,
    ),
    TableSpec(
        "structure_dose_volumes",
        "V(dose) of each structure at the dose levels a study file names, filled by "
        "`dosimetry-import`",
        (
            _C("dose_volume_id", "text", "req", unique=True, note="course_id / structure / dose"),
            _C("course_id", "text", "req", references="sbrt_courses.course_id"),
            _C("structure", "text", "req", note="ROI name as exported"),
            _C("dose_gy", "number", "req", range=_POSITIVE, unit="Gy"),
            _C(
                "volume_cc",
                "number",
                "req",
                range=_NON_NEGATIVE,
                unit="cm3",
                note="volume receiving at least dose_gy",
            ),
            _C(
                "volume_pct",
                "number",
                range=Range(0, 100),
                unit="%",
                note="of the structure's volume inside the dose grid",
            ),
        ),
        primary_key="dose_volume_id",
        optional=True,
    ),
    TableSpec(
        "assessments",
        "follow-up imaging of a treated lesion",
        (
            _C("assessment_id", "text", "req", unique=True),
            _C("lesion_id", "text", "req", references="lesions.lesion_id"),
            _C(
                "assessment_date",
                "date",
                "req",
                note="the baseline scan may precede SBRT start; not after the patient's death",
            ),
            _C("modality", "text", "req", choices=("CT", "MRI", "PET-CT", "clinical")),
            _C(
                "longest_diameter_mm",
                "number",
                range=_NON_NEGATIVE,
                unit="mm",
                note="0 = disappeared",
            ),
            _C("new_lesions", "yes/no", note="new lesions elsewhere seen on this assessment"),
        ),
        primary_key="assessment_id",
    ),
    TableSpec(
        "patient_events",
        "progression, death and last contact of each patient",
        (
            _C("event_id", "text", "req", unique=True),
            _C("patient_id", "text", "req", references="patients.patient_id"),
            _C(
                "event_type",
                "text",
                "req",
                choices=("progression", "death", "last_contact"),
                note="at most one death per patient",
            ),
            _C(
                "event_date",
                "date",
                "req",
                note="progression and death >= first SBRT start; last_contact <= death",
            ),
            _C(
                "progression_type",
                "text",
                "cond",
                choices=("local", "regional", "distant"),
                condition="req for progression, empty otherwise",
            ),
            _C(
                "lesion_id",
                "text",
                references="lesions.lesion_id",
                note="for a local progression; a lesion of the same patient",
            ),
        ),
        primary_key="event_id",
    ),
    TableSpec(
        "toxicities",
        "adverse events graded with CTCAE",
        (
            _C("toxicity_id", "text", "req", unique=True),
            _C("patient_id", "text", "req", references="patients.patient_id"),
            _C(
                "course_id",
                "text",
                references="sbrt_courses.course_id",
                note="a course of the same patient",
            ),
            _C(
                "onset_date",
                "date",
                "req",
                note=">= first SBRT start of the patient; not after death",
            ),
            _C("ctcae_version", "text", "req", choices=("4.03", "5.0")),
            _C("term", "text", "req", note="a CTCAE term"),
            _C("grade", "integer", "req", range=Range(1, 5)),
            _C(
                "attribution",
                "text",
                choices=("unrelated", "unlikely", "possible", "probable", "definite"),
            ),
        ),
        primary_key="toxicity_id",
    ),
    TableSpec(
        "systemic_therapies",
        "chemotherapy and other systemic or interventional treatments",
        (
            _C("therapy_id", "text", "req", unique=True),
            _C("patient_id", "text", "req", references="patients.patient_id"),
            _C(
                "therapy_type",
                "text",
                "req",
                choices=(
                    "chemotherapy",
                    "targeted therapy",
                    "immunotherapy",
                    "interventional therapy",
                    "hormonal therapy",
                    "other",
                ),
            ),
            _C("agent", "text"),
            _C("start_date", "date", "req", note="not after the patient's death"),
            _C("end_date", "date", note=">= start_date"),
        ),
        primary_key="therapy_id",
    ),
)
"""All tables, parents before children (the order of inserts and of the documentation)."""

TABLE_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}
