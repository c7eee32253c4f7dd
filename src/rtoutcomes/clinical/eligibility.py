"""Eligibility rules declared as data, applied to screened candidates, with flow-chart counts.

A rule is a name, the exclusion reason it gives (one of the registry's ``exclusion_reason``
values, or any text) and a predicate over one candidate (a mapping of column -> value) that is
True when the rule *excludes* the candidate. Rules are applied in order; every candidate gets all
the reasons that exclude it, and the first one is its primary reason (a flow chart counts each
excluded candidate once, under its primary reason).

``FENG_2022_RULES`` are the model study's criteria (Feng et al. 2022, Methods and Fig. 1):
at most 3 lesions, a clear pathological type, clear imaging and a complete treatment plan.

:func:`registry_flow` gives the counts from what the registry recorded (screened -> excluded by
reason -> enrolled patients -> treated lesions); :func:`cross_check` compares the registry's
recorded eligibility with the rules' verdicts on the same candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.io.yes_no import is_yes, parse_yes_no
from rtoutcomes.registry.spec import EXCLUSION_REASONS
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


NOT_RECORDED = "not recorded"  # the reason counted for an excluded candidate without one


@dataclass(frozen=True)
class EligibilityRule:
    """``excludes(candidate)`` is True when the rule excludes the candidate."""

    name: str
    exclusion_reason: str
    excludes: Callable[[Mapping[str, Any]], bool]
    columns: tuple[str, ...] = ()


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value)) or str(value).strip() == ""


def _truthy(value: Any) -> bool:
    return parse_yes_no(value) is True


def max_count_rule(name: str, reason: str, column: str, maximum: int) -> EligibilityRule:
    """Excludes candidates whose ``column`` exceeds ``maximum`` (or is missing)."""
    return EligibilityRule(
        name, reason, lambda c: _missing(c[column]) or float(c[column]) > maximum, (column,)
    )


def required_rule(name: str, reason: str, column: str) -> EligibilityRule:
    """Excludes candidates whose ``column`` is empty."""
    return EligibilityRule(name, reason, lambda c: _missing(c[column]), (column,))


def yes_rule(name: str, reason: str, column: str) -> EligibilityRule:
    """Excludes candidates whose ``column`` is not yes/True."""
    return EligibilityRule(name, reason, lambda c: not _truthy(c[column]), (column,))


FENG_2022_RULES: tuple[EligibilityRule, ...] = (
    max_count_rule("at most 3 lesions", EXCLUSION_REASONS[0], "lesion_count", 3),
    required_rule("pathological type known", EXCLUSION_REASONS[1], "histology_subtype"),
    yes_rule("imaging data clear", EXCLUSION_REASONS[2], "imaging_clear"),
    yes_rule("treatment plan complete", EXCLUSION_REASONS[3], "plan_complete"),
)
"""The model study's criteria over candidate columns lesion_count, histology_subtype,
imaging_clear and plan_complete."""


@dataclass(frozen=True)
class EligibilityResult(TabularResult):
    """Each candidate's verdict (``candidates``) and the flow chart's counts."""

    candidates: pd.DataFrame = field(repr=False)
    screened: int = 0
    excluded: int = 0
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    enrolled_patients: int = 0
    treated_lesions: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """The flow chart as rows: step, n."""
        import pandas as pd

        rows: list[tuple[str, int | None]] = [
            ("screened", self.screened),
            ("excluded", self.excluded),
        ]
        rows += [(f"excluded: {r}", n) for r, n in self.excluded_by_reason.items()]
        rows += [
            ("enrolled patients", self.enrolled_patients),
            ("treated lesions", self.treated_lesions),
        ]
        return pd.DataFrame(rows, columns=["step", "n"])


def apply_rules(
    candidates: pd.DataFrame,
    rules: Sequence[EligibilityRule] = FENG_2022_RULES,
    *,
    lesions_column: str | None = "lesion_count",
) -> EligibilityResult:
    """Apply ``rules`` to every candidate (one row each).

    Adds ``eligible``, ``primary_reason`` and ``reasons`` ("; "-joined) to the candidates.
    Treated lesions are the sum of ``lesions_column`` over the eligible candidates (None when
    the column is absent). A rule needing a column the candidates lack raises.
    """
    for rule in rules:
        for column in rule.columns:
            if column not in candidates.columns:
                raise ClinicalRuleError(
                    f"eligibility rule '{rule.name}' needs this column",
                    table="candidates",
                    column=column,
                )
    df = candidates.copy()
    reasons: list[list[str]] = []
    for record in df.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        reasons.append([r.exclusion_reason for r in rules if r.excludes(row)])
    df["eligible"] = [not r for r in reasons]
    df["primary_reason"] = [r[0] if r else None for r in reasons]
    df["reasons"] = ["; ".join(dict.fromkeys(r)) for r in reasons]
    counts: dict[str, int] = {}
    for r in reasons:
        if r:
            counts[r[0]] = counts.get(r[0], 0) + 1
    lesions = None
    if lesions_column is not None and lesions_column in df.columns:
        lesions = int(df.loc[df["eligible"], lesions_column].fillna(0).astype(int).sum())
    eligible = int(df["eligible"].sum())
    return EligibilityResult(
        candidates=df,
        screened=len(df),
        excluded=len(df) - eligible,
        excluded_by_reason=dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        enrolled_patients=eligible,
        treated_lesions=lesions,
    )


def registry_flow(tables: Mapping[str, pd.DataFrame]) -> EligibilityResult:
    """The flow chart from what the registry recorded.

    Screened = rows of ``screened_candidates``; excluded by their ``exclusion_reason`` (in the
    registry's order of reasons, then any other text; an excluded candidate without a reason is
    counted as ``not recorded``); enrolled patients = eligible candidates; treated lesions =
    lesions of those patients. Without a screening log (no table, or no rows) every patient was
    enrolled: screened = enrolled = the patients. The one flow chart of rtoutcomes (the report's
    comes from here too).
    """
    import pandas as pd

    lesions = tables.get("lesions")
    screened = tables.get("screened_candidates")
    if screened is None or len(screened) == 0:
        patients = tables.get("patients")
        n = 0 if patients is None else len(patients)
        return EligibilityResult(
            candidates=pd.DataFrame(),
            screened=n,
            excluded=0,
            excluded_by_reason={},
            enrolled_patients=n,
            treated_lesions=None if lesions is None else len(lesions),
        )
    screened = screened.copy()
    eligible = is_yes(screened["eligible"], "eligible")
    screened["eligible"] = eligible
    reasons = screened.loc[~eligible, "exclusion_reason"].fillna(NOT_RECORDED).astype(str)
    counts = reasons.value_counts()
    order = [r for r in EXCLUSION_REASONS if r in counts.index]
    order += sorted(r for r in counts.index if r not in order and r != NOT_RECORDED)
    order += [NOT_RECORDED] if NOT_RECORDED in counts.index else []
    by_reason = {str(r): int(counts[r]) for r in order}
    enrolled = set(screened.loc[eligible, "patient_id"].astype(str))
    treated = None
    if lesions is not None:
        treated = int(lesions["patient_id"].astype(str).isin(enrolled).sum())
    return EligibilityResult(
        candidates=screened,
        screened=len(screened),
        excluded=int((~eligible).sum()),
        excluded_by_reason=by_reason,
        enrolled_patients=int(eligible.sum()),
        treated_lesions=treated,
    )


def candidates_from_registry(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Rule inputs for the enrolled patients, from the registry's own records.

    One row per eligible screened candidate: ``candidate_id``, ``patient_id``,
    ``lesion_count`` (``lesions_at_first_sbrt``), ``histology_subtype``, ``imaging_clear`` (every
    lesion of the patient has at least one assessment) and ``plan_complete`` (every lesion has an
    SBRT course with dose and fractions). Excluded candidates have no patient record, so their
    rule inputs must come from the screening log itself.
    """
    screened = tables["screened_candidates"]
    enrolled = is_yes(screened["eligible"], "eligible")
    eligible = screened[enrolled][["candidate_id", "patient_id"]].copy()
    eligible["patient_id"] = eligible["patient_id"].astype(str)
    patients = tables["patients"].copy()
    patients["patient_id"] = patients["patient_id"].astype(str)
    lesions = tables["lesions"].copy()
    lesions["patient_id"] = lesions["patient_id"].astype(str)
    courses = tables["sbrt_courses"]
    planned = courses.dropna(subset=["total_dose_gy", "fractions"])["lesion_id"].astype(str)
    assessed = tables.get("assessments")
    assessed_ids = set() if assessed is None else set(assessed["lesion_id"].astype(str))
    lesions["planned"] = lesions["lesion_id"].astype(str).isin(set(planned))
    lesions["assessed"] = lesions["lesion_id"].astype(str).isin(assessed_ids)
    per_patient = lesions.groupby("patient_id")[["planned", "assessed"]].all()
    out = eligible.merge(
        patients[["patient_id", "lesions_at_first_sbrt", "histology_subtype"]],
        on="patient_id",
        how="left",
    ).rename(columns={"lesions_at_first_sbrt": "lesion_count"})
    out["imaging_clear"] = out["patient_id"].map(per_patient["assessed"]).fillna(False)
    out["plan_complete"] = out["patient_id"].map(per_patient["planned"]).fillna(False)
    return out.astype({"imaging_clear": bool, "plan_complete": bool})


def cross_check(
    screened_candidates: pd.DataFrame,
    verdicts: EligibilityResult,
) -> pd.DataFrame:
    """Candidates where the registry's recorded eligibility disagrees with the rules.

    ``verdicts`` is :func:`apply_rules` on candidates with a ``candidate_id`` column (e.g. from
    :func:`candidates_from_registry`, or a screening log). Returns ``candidate_id``,
    ``recorded_eligible``, ``recorded_reason``, ``rules_eligible``, ``rules_reasons`` and
    ``issue``; an empty frame when they agree. A recorded reason counts as agreeing when it is
    any of the reasons the rules give (``other`` agrees with any exclusion).
    """
    import pandas as pd

    recorded = screened_candidates.set_index(screened_candidates["candidate_id"].astype(str))
    rows: list[tuple[str, bool | None, str | None, Any, Any, str]] = []
    for rec in verdicts.candidates.to_dict("records"):
        cid = str(rec["candidate_id"])
        if cid not in recorded.index:
            rows.append(
                (
                    cid,
                    None,
                    None,
                    rec["eligible"],
                    rec["reasons"],
                    "candidate not in screened_candidates",
                )
            )
            continue
        r_eligible = _truthy(recorded.loc[cid, "eligible"])
        r_reason = recorded.loc[cid, "exclusion_reason"]
        r_reason = None if _missing(r_reason) else str(r_reason)
        issue = None
        if r_eligible and not rec["eligible"]:
            issue = f"recorded eligible, but the rules exclude: {rec['reasons']}"
        elif not r_eligible and rec["eligible"]:
            issue = f"recorded excluded ({r_reason}), but no rule excludes"
        elif (
            not r_eligible
            and r_reason not in (None, "other")
            and r_reason not in rec["reasons"].split("; ")
        ):
            issue = f"recorded reason '{r_reason}' is not among the rules' reasons"
        if issue:
            rows.append((cid, r_eligible, r_reason, rec["eligible"], rec["reasons"], issue))
    return pd.DataFrame(
        rows,
        columns=[
            "candidate_id",
            "recorded_eligible",
            "recorded_reason",
            "rules_eligible",
            "rules_reasons",
            "issue",
        ],
    )
