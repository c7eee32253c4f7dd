"""Toxicity by CTCAE: term checking, acute/late phase, worst grades and the toxicity table.

The term table (``data/ctcae_terms.csv``) is curated from the CTCAE v4.03 (2010) and v5.0 (2017)
documents for the terms SBRT studies report, with each term's lowest and highest defined grade
(fatigue stops at grade 3, pneumonitis reaches 5, hypoxia starts at 2). Wordings used in papers
("radiation pneumonitis") are listed as synonyms of a term, and a match through a synonym is
marked as such. Unknown terms and impossible grades are refused with a suggestion.

Phase: a toxicity is *acute* when its onset is at most ``cutoff_days`` (default 90) after the
reference date and *late* otherwise; day 90 itself is acute. The reference is SBRT start
(default) or SBRT end, of the toxicity's course when ``course_id`` is given, else of the patient's
first course (earliest start).
"""

from __future__ import annotations

import csv
import difflib
import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

CTCAE_VERSIONS = ("4.03", "5.0")
DEFAULT_CUTOFF_DAYS = 90
Reference = Literal["sbrt_start", "sbrt_end"]


@dataclass(frozen=True)
class CtcaeTerm:
    """One CTCAE term of one version with its lowest and highest defined grade."""

    version: str
    term: str
    min_grade: int
    max_grade: int
    soc: str


@dataclass(frozen=True)
class TermMatch:
    """The CTCAE term a reported wording stands for; ``via`` is ``"term"`` or ``"synonym"``."""

    as_reported: str
    term: CtcaeTerm
    via: Literal["term", "synonym"]


@dataclass(frozen=True)
class _Table:
    terms: dict[tuple[str, str], CtcaeTerm]  # (version, lower-case name) -> term
    synonyms: dict[tuple[str, str], str]  # (version, lower-case synonym) -> term name


def _key(name: str) -> str:
    return " ".join(str(name).replace("_", " ").split()).strip().lower()


@functools.lru_cache(maxsize=1)
def _table() -> _Table:
    text = (
        resources.files("rtoutcomes.clinical")
        .joinpath("data/ctcae_terms.csv")
        .read_text(encoding="utf-8")
    )
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    terms: dict[tuple[str, str], CtcaeTerm] = {}
    synonyms: dict[tuple[str, str], str] = {}
    for row in rows:
        if row["kind"] == "term":
            terms[(row["version"], _key(row["name"]))] = CtcaeTerm(
                row["version"],
                row["term"],
                int(row["min_grade"]),
                int(row["max_grade"]),
                row["soc"],
            )
        else:
            synonyms[(row["version"], _key(row["name"]))] = row["term"]
    return _Table(terms, synonyms)


def terms(version: str = "4.03") -> list[CtcaeTerm]:
    """All curated terms of a CTCAE version, sorted by name."""
    version = _version(version)
    return sorted((t for (v, _), t in _table().terms.items() if v == version), key=lambda t: t.term)


def synonyms(version: str = "4.03") -> dict[str, str]:
    """The curated synonyms of a version: reported wording (lower case) -> CTCAE term."""
    version = _version(version)
    return {s: t for (v, s), t in sorted(_table().synonyms.items()) if v == version}


def _version(version: Any) -> str:
    text = str(version).strip()
    aliases = {"4": "4.03", "4.0": "4.03", "4.03": "4.03", "5": "5.0", "5.0": "5.0"}
    if text.lower().startswith("v"):
        text = text[1:]
    if text not in aliases:
        raise ClinicalRuleError(
            f"unknown CTCAE version; known: {', '.join(CTCAE_VERSIONS)}",
            column="ctcae_version",
            value=version,
        )
    return aliases[text]


def suggest_term(name: str, version: str = "4.03") -> str | None:
    """The closest CTCAE term for an unknown wording (a synonym's term first, else difflib)."""
    version = _version(version)
    table = _table()
    key = _key(name)
    if (version, key) in table.synonyms:
        return table.synonyms[(version, key)]
    names = {k: t.term for (v, k), t in table.terms.items() if v == version}
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    if close:
        return names[close[0]]
    syn = [k for (v, k) in table.synonyms if v == version]
    close = difflib.get_close_matches(key, syn, n=1, cutoff=0.6)
    return table.synonyms[(version, close[0])] if close else None


def resolve_term(
    name: str,
    version: str = "4.03",
    *,
    allow_synonyms: bool = True,
    table: str | None = None,
    row: Any = None,
) -> TermMatch:
    """The CTCAE term for a reported wording (case and spacing ignored).

    With ``allow_synonyms`` a curated synonym ("radiation enteritis") maps to its term
    ("Enterocolitis") and the match says ``via="synonym"``; without it only CTCAE terms pass
    (what the registry requires). Anything else raises ``ClinicalRuleError`` with a suggestion.
    """
    version = _version(version)
    data = _table()
    key = _key(name)
    if (version, key) in data.terms:
        return TermMatch(str(name), data.terms[(version, key)], "term")
    if allow_synonyms and (version, key) in data.synonyms:
        term = data.terms[(version, _key(data.synonyms[(version, key)]))]
        return TermMatch(str(name), term, "synonym")
    suggestion = suggest_term(name, version)
    what = "a synonym, not a CTCAE term" if (version, key) in data.synonyms else "not a CTCAE term"
    raise ClinicalRuleError(
        f"{what} (CTCAE v{version}, curated table)",
        table=table,
        row=row,
        column="term",
        value=name,
        suggestion=suggestion,
    )


def check_grade(
    name: str,
    grade: Any,
    version: str = "4.03",
    *,
    allow_synonyms: bool = True,
    table: str | None = None,
    row: Any = None,
) -> int:
    """The grade as an int if the term defines it (fatigue: 1-3), else ``ClinicalRuleError``."""
    match = resolve_term(name, version, allow_synonyms=allow_synonyms, table=table, row=row)
    term = match.term
    try:
        value = int(grade)
        valid = float(grade) == value
    except (TypeError, ValueError):
        valid = False
    if not valid or not term.min_grade <= value <= term.max_grade:
        raise ClinicalRuleError(
            f"CTCAE v{term.version} '{term.term}' is graded {term.min_grade}-{term.max_grade}",
            table=table,
            row=row,
            column="grade",
            value=grade,
            suggestion=str(term.max_grade) if valid and value > term.max_grade else None,
        )
    return value


def normalise_toxicities(
    toxicities: pd.DataFrame, *, allow_synonyms: bool = False, table: str = "toxicities"
) -> pd.DataFrame:
    """Check every row's term and grade; add ``ctcae_term`` and ``term_via`` (term/synonym).

    Raises ``ClinicalRuleError`` naming the toxicity_id of the first bad row.
    """
    df = toxicities.copy()
    matched: list[str] = []
    via: list[str] = []
    grades: list[int] = []
    ids = df["toxicity_id"] if "toxicity_id" in df.columns else df.index.to_series()
    for rid, term, grade, version in zip(
        ids, df["term"], df["grade"], df["ctcae_version"], strict=True
    ):
        match = resolve_term(term, version, allow_synonyms=allow_synonyms, table=table, row=rid)
        grades.append(check_grade(match.term.term, grade, version, table=table, row=rid))
        matched.append(match.term.term)
        via.append(match.via)
    df["ctcae_term"] = matched
    df["term_via"] = via
    df["grade"] = grades
    return df


def _reference_dates(
    courses: pd.DataFrame, lesions: pd.DataFrame, reference: Reference
) -> tuple[pd.Series, pd.Series]:
    """Reference date per course_id and per patient_id (the patient's first course)."""
    import pandas as pd

    column = "start_date" if reference == "sbrt_start" else "end_date"
    c = courses.merge(lesions[["lesion_id", "patient_id"]], on="lesion_id", how="left")
    c["start_date"] = pd.to_datetime(c["start_date"]).astype("datetime64[ns]")
    c["end_date"] = pd.to_datetime(c["end_date"]).astype("datetime64[ns]")
    per_course = c.set_index("course_id")[column]
    first = c.sort_values(["patient_id", "start_date", "course_id"]).drop_duplicates("patient_id")
    per_patient = first.set_index("patient_id")[column]
    return per_course, per_patient


def classify_phase(
    toxicities: pd.DataFrame,
    sbrt_courses: pd.DataFrame,
    lesions: pd.DataFrame,
    *,
    cutoff_days: int = DEFAULT_CUTOFF_DAYS,
    reference: Reference = "sbrt_start",
) -> pd.DataFrame:
    """Add ``reference_date``, ``days_from_reference`` and ``phase`` (acute/late) to toxicities.

    Acute: onset at most ``cutoff_days`` days after the reference date (day ``cutoff_days`` is
    acute); late: later. An onset before SBRT start is refused (the registry requires onset on or
    after the first SBRT start); with ``sbrt_end`` an onset during treatment is acute.
    """
    import pandas as pd

    if reference not in ("sbrt_start", "sbrt_end"):
        raise ClinicalRuleError("reference is 'sbrt_start' or 'sbrt_end'", value=reference)
    if cutoff_days < 0:
        raise ClinicalRuleError("cutoff_days must be >= 0", value=cutoff_days)
    df = toxicities.copy()
    per_course, per_patient = _reference_dates(sbrt_courses, lesions, reference)
    start_course, start_patient = _reference_dates(sbrt_courses, lesions, "sbrt_start")
    course = df["course_id"] if "course_id" in df.columns else pd.Series(None, index=df.index)
    has_course = course.notna() & course.astype(str).isin(per_course.index.astype(str))
    ref = df["patient_id"].map(per_patient)
    ref[has_course] = course[has_course].map(per_course)
    start = df["patient_id"].map(start_patient)
    start[has_course] = course[has_course].map(start_course)
    onset = pd.to_datetime(df["onset_date"]).astype("datetime64[ns]")
    if ref.isna().any():
        rid = df.loc[ref.isna()].iloc[0]
        raise ClinicalRuleError(
            "no SBRT course found for this toxicity's patient",
            table="toxicities",
            row=rid.get("toxicity_id"),
            column="patient_id",
            value=rid["patient_id"],
        )
    before = onset < start
    if before.any():
        rid = df.loc[before].iloc[0]
        raise ClinicalRuleError(
            f"onset before SBRT start ({pd.Timestamp(start[before].iloc[0]).date()})",
            table="toxicities",
            row=rid.get("toxicity_id"),
            column="onset_date",
            value=str(pd.Timestamp(onset[before].iloc[0]).date()),
        )
    df["reference_date"] = ref.astype("datetime64[ns]")
    df["days_from_reference"] = (onset - df["reference_date"]).dt.days
    df["phase"] = ["acute" if d <= cutoff_days else "late" for d in df["days_from_reference"]]
    return df


def worst_grades(toxicities: pd.DataFrame, *, by_phase: bool = True) -> pd.DataFrame:
    """Worst grade per patient per term (and per phase), plus an ``any`` row per patient.

    ``toxicities`` needs ``patient_id``, ``grade`` and ``ctcae_term`` (from
    :func:`normalise_toxicities`, or ``term``), and ``phase`` when ``by_phase``. Columns:
    ``patient_id``, [``phase``], ``term``, ``worst_grade``.
    """
    import pandas as pd

    df = toxicities.copy()
    df["term"] = df["ctcae_term"] if "ctcae_term" in df.columns else df["term"]
    keys = ["patient_id", "phase"] if by_phase else ["patient_id"]
    per_term = df.groupby([*keys, "term"], sort=True)["grade"].max().rename("worst_grade")
    overall = df.groupby(keys, sort=True)["grade"].max().rename("worst_grade").reset_index()
    overall["term"] = "any"
    out = pd.concat([per_term.reset_index(), overall], ignore_index=True)
    out["worst_grade"] = out["worst_grade"].astype(int)
    return out.sort_values([*keys, "term"], kind="mergesort").reset_index(drop=True)[
        [*keys, "term", "worst_grade"]
    ]


@dataclass(frozen=True)
class ToxicitySummary(TabularResult):
    """The report's toxicity table.

    ``by_grade``: per phase, term and grade, the patients whose worst grade of that term in that
    phase is that grade (``patients``, ``pct`` of ``n_patients``); term ``any`` is the worst grade
    over all terms. ``overview``: per phase and term, the grade range and the patients with any
    grade. ``worst``: worst grade per patient, term and phase.
    """

    by_grade: pd.DataFrame = field(repr=False)
    overview: pd.DataFrame = field(repr=False)
    worst: pd.DataFrame = field(repr=False)
    n_patients: int = 0

    def to_frame(self) -> pd.DataFrame:
        return self.by_grade


def toxicity_summary(toxicities: pd.DataFrame, n_patients: int) -> ToxicitySummary:
    """Summarise classified toxicities (``phase`` and ``ctcae_term`` columns) for ``n_patients``.

    ``n_patients`` is the denominator of the percentages: every patient of the cohort, with or
    without toxicity. Percentages are 100 x patients / n_patients.
    """
    import pandas as pd

    if n_patients <= 0:
        raise ClinicalRuleError("n_patients must be > 0", value=n_patients)
    worst = worst_grades(toxicities, by_phase=True)
    if worst["patient_id"].nunique() > n_patients:
        raise ClinicalRuleError(
            f"{worst['patient_id'].nunique()} patients have toxicities but n_patients is "
            f"{n_patients}",
            value=n_patients,
        )
    by_grade = (
        worst.groupby(["phase", "term", "worst_grade"], sort=True)["patient_id"]
        .nunique()
        .rename("patients")
        .reset_index()
        .rename(columns={"worst_grade": "grade"})
    )
    by_grade["pct"] = 100.0 * by_grade["patients"] / n_patients
    grouped = worst.groupby(["phase", "term"], sort=True)
    overview = pd.DataFrame(
        {
            "min_grade": grouped["worst_grade"].min(),
            "max_grade": grouped["worst_grade"].max(),
            "patients": grouped["patient_id"].nunique(),
        }
    ).reset_index()
    overview["grades"] = [
        f"{lo}" if lo == hi else f"{lo}-{hi}"
        for lo, hi in zip(overview["min_grade"], overview["max_grade"], strict=True)
    ]
    overview["pct"] = 100.0 * overview["patients"] / n_patients
    return ToxicitySummary(
        by_grade=by_grade, overview=overview, worst=worst, n_patients=int(n_patients)
    )
