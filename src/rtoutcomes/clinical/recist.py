"""Response and local failure of a treated lesion from its serial diameters (RECIST 1.1).

Each treated lesion is followed on its own (as SBRT studies report local control per lesion), by
its longest diameter in mm:

* **Baseline** is the last scan with a measured diameter on or before SBRT start; when there is
  none (or SBRT start is unknown), the first scan with a measured diameter. Scans before the
  baseline are kept and marked ``pre-baseline`` but take no part in any rule.
* **Nadir** of a follow-up scan is the smallest measured diameter from the baseline up to the
  previous scan (RECIST 1.1 section 4.3.1: "the smallest sum on study, including the baseline").
* **Local failure** (``LocalFailureRule``): by default RECIST 1.1 target-lesion progression, a
  diameter at least 20 % above the nadir *and* at least 5 mm above it (Eisenhauer et al.,
  Eur J Cancer 2009;45:228-247). The model study's looser rule (Feng et al. 2022: "a minimum
  20 % increase in the diameter of the treated volume", taken over the baseline, no absolute
  minimum) and a confirmation scan are alternatives. The failure date is the first scan that
  meets the rule; with confirmation, the first of the two scans (the confirming scan is the next
  scan with a measured diameter, which must meet the rule against the same reference).
  A diameter must also exceed its reference, so that 0 mm over a nadir of 0 mm is never a failure.
* **Response category** of each follow-up scan (single-lesion RECIST 1.1): ``PD`` when it meets
  the rule's thresholds (confirmation is a property of the failure, not of a single scan), else
  ``CR`` for 0 mm (disappearance), ``PR`` for a decrease of at least 30 % from baseline, ``SD``
  otherwise, and ``NE`` (not evaluable) without a measured diameter.
* **Patient-level progression** (:func:`patient_progression`): the earliest of any treated
  lesion's local failure and any assessment that saw new lesions (RECIST 1.1: new lesions are PD).

Everything is computed for all lesions at once with pandas group operations; the single-lesion
helper :func:`track_lesion` runs the same code on one lesion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.clinical.local_failure import (  # noqa: F401 (recist's names for callers)
    FENG_2022,
    LOCAL_FAILURE_RULES,
    RECIST_1_1,
    RECIST_1_1_CONFIRMED,
    LocalFailureRule,
)
from rtoutcomes.io.yes_no import is_yes
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

PR_DECREASE_FRACTION = 0.30
"""RECIST 1.1 partial response: at least a 30 % decrease from baseline."""

ROLE_PRE_BASELINE = "pre-baseline"
ROLE_BASELINE = "baseline"
ROLE_FOLLOW_UP = "follow-up"
ROLE_NO_BASELINE = "no baseline"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = frame.to_dict("records")
    if all(type(c) is str for c in frame.columns):
        return records  # type: ignore[return-value]  # the keys are already text
    return [{str(k): v for k, v in r.items()} for r in records]


def _fmt(value: Any) -> str:
    return f"{value:g}"


def _date_text(value: Any) -> str:
    import pandas as pd

    return str(pd.Timestamp(value).date())


def _prepare(assessments: pd.DataFrame, table: str) -> pd.DataFrame:
    import pandas as pd

    required = ("lesion_id", "assessment_date", "longest_diameter_mm")
    missing = [c for c in required if c not in assessments.columns]
    if missing:
        raise ClinicalRuleError(
            f"missing column(s) {', '.join(missing)}",
            table=table,
            column=missing[0],
        )
    keep = [c for c in ("assessment_id", *required, "new_lesions") if c in assessments.columns]
    df = assessments[keep].copy()
    df["lesion_id"] = df["lesion_id"].astype(str)
    dates = pd.to_datetime(df["assessment_date"], errors="coerce")
    bad = dates.isna()
    if bad.any():
        row = _row_label(df, int(np.flatnonzero(bad.to_numpy())[0]))
        value = df["assessment_date"].to_numpy()[bad.to_numpy()][0]
        raise ClinicalRuleError(
            "assessment_date is required and must be a date",
            table=table,
            row=row,
            column="assessment_date",
            value=value,
        )
    df["assessment_date"] = dates.astype("datetime64[ns]")
    diam = pd.to_numeric(df["longest_diameter_mm"], errors="coerce")
    not_number = diam.isna() & df["longest_diameter_mm"].notna()
    negative = diam < 0
    for mask, rule in (
        (not_number, "longest_diameter_mm must be a number of mm"),
        (negative, "longest_diameter_mm must be >= 0 mm (0 = disappeared)"),
    ):
        if mask.any():
            i = int(np.flatnonzero(mask.to_numpy())[0])
            raise ClinicalRuleError(
                rule,
                table=table,
                row=_row_label(df, i),
                column="longest_diameter_mm",
                value=df["longest_diameter_mm"].iloc[i],
            )
    df["longest_diameter_mm"] = diam.astype(float)
    dup = df.duplicated(["lesion_id", "assessment_date"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        rows = [
            _row_label(df, int(i))
            for i in np.flatnonzero(
                (
                    dup
                    & (df["lesion_id"] == first["lesion_id"])
                    & (df["assessment_date"] == first["assessment_date"])
                ).to_numpy()
            )
        ]
        raise ClinicalRuleError(
            f"one assessment per lesion and date: lesion {first['lesion_id']} has "
            f"{len(rows)} on {_date_text(first['assessment_date'])} (rows {', '.join(rows)}); "
            "merge or correct them",
            table=table,
            row=rows[0],
            column="assessment_date",
            value=_date_text(first["assessment_date"]),
        )
    return df.sort_values(["lesion_id", "assessment_date"], kind="mergesort").reset_index(drop=True)


def _row_label(df: pd.DataFrame, position: int) -> str:
    if "assessment_id" in df.columns:
        return str(df["assessment_id"].iloc[position])
    return str(df.index[position])


def _by_text_id(values: Mapping[str, Any] | pd.Series) -> pd.Series:
    """``values`` as a new Series indexed by text ids (the caller's Series is left as it was)."""
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(dict(values))
    return series.set_axis(series.index.astype(str))


def _start_series(
    sbrt_start: Mapping[str, Any] | pd.Series | None, lesion_ids: pd.Series
) -> pd.Series:
    import pandas as pd

    if sbrt_start is None:
        return pd.Series(pd.NaT, index=lesion_ids.index, dtype="datetime64[ns]")
    mapping = _by_text_id(sbrt_start)
    starts = pd.to_datetime(mapping, errors="coerce").astype("datetime64[ns]")
    return lesion_ids.map(starts).astype("datetime64[ns]")


def assess_lesions(
    assessments: pd.DataFrame,
    sbrt_start: Mapping[str, Any] | pd.Series | None = None,
    rule: LocalFailureRule = RECIST_1_1,
    *,
    table: str = "assessments",
) -> pd.DataFrame:
    """Per-scan RECIST evaluation of every treated lesion.

    ``assessments``: the registry's ``assessments`` table (``lesion_id``, ``assessment_date``,
    ``longest_diameter_mm`` in mm; optional ``assessment_id``, ``new_lesions``), any order.
    ``sbrt_start``: SBRT start date per lesion_id (a mapping or Series); ``None`` takes the
    first measured scan as baseline.

    Returns one row per scan, sorted by lesion and date, with ``role`` (pre-baseline, baseline,
    follow-up, no baseline), ``baseline_mm``, ``nadir_mm`` (smallest measured diameter from
    baseline to the previous scan), ``reference_mm`` (the rule's reference),
    ``change_from_baseline_pct``, ``change_from_nadir_mm``, ``meets_rule``, ``confirmed`` (meets
    the rule and, when the rule asks for it, confirmed by the next measured scan), ``response``
    (baseline, CR, PR, SD, PD, NE, pre-baseline) and ``local_failure`` (True on the lesion's
    failure scan only).

    Raises ``ClinicalRuleError`` for two scans of one lesion on one date, a negative or
    non-numeric diameter or a missing date.
    """
    df = _prepare(assessments, table)
    lesion = df["lesion_id"]
    date = df["assessment_date"]
    diameter = df["longest_diameter_mm"]
    measured = diameter.notna()
    start = _start_series(sbrt_start, lesion)

    on_or_before = measured & start.notna() & (date <= start)
    last_before = date.where(on_or_before).groupby(lesion).transform("max")
    first_measured = date.where(measured).groupby(lesion).transform("min")
    baseline_date = last_before.fillna(first_measured)
    has_baseline = baseline_date.notna()

    role = np.select(
        [~has_baseline, date < baseline_date, date == baseline_date],
        [ROLE_NO_BASELINE, ROLE_PRE_BASELINE, ROLE_BASELINE],
        default=ROLE_FOLLOW_UP,
    )
    df["role"] = role
    is_baseline = df["role"] == ROLE_BASELINE
    follow = df["role"] == ROLE_FOLLOW_UP
    df["baseline_date"] = baseline_date
    df["baseline_mm"] = diameter.where(is_baseline).groupby(lesion).transform("max")

    # Running minimum from the baseline on; shifted one scan so a scan is compared with the nadir
    # of the scans before it.
    on_study = diameter.where((is_baseline | follow) & measured, np.inf)
    running_min = on_study.groupby(lesion).cummin()
    nadir = running_min.groupby(lesion).shift(1)
    df["nadir_mm"] = nadir.where(follow & np.isfinite(nadir.fillna(np.inf)))
    reference = df["nadir_mm"] if rule.reference == "nadir" else df["baseline_mm"]
    df["reference_mm"] = reference.where(follow)
    base = df["baseline_mm"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(base > 0, (diameter - base) / base * 100.0, np.nan)
    df["change_from_baseline_pct"] = np.where(follow, pct, np.nan)
    df["change_from_nadir_mm"] = (diameter - df["nadir_mm"]).where(follow)

    meets = (follow & measured).to_numpy() & rule.meets(diameter, df["reference_mm"])
    df["meets_rule"] = meets
    confirmed = meets.copy()
    if rule.confirmation:
        # The confirming scan is the next scan of the same lesion with a measured diameter.
        evaluable = (follow & measured).to_numpy()
        idx = np.flatnonzero(evaluable)
        same_lesion_next = np.zeros(len(idx), dtype=bool)
        same_lesion_next[:-1] = lesion.to_numpy()[idx[:-1]] == lesion.to_numpy()[idx[1:]]
        next_meets = np.zeros(len(idx), dtype=bool)
        next_meets[:-1] = meets[idx[1:]] & same_lesion_next[:-1]
        confirmed[:] = False
        confirmed[idx] = meets[idx] & next_meets
    df["confirmed"] = confirmed
    first_hit = df["confirmed"] & (df["confirmed"].astype(int).groupby(lesion).cumsum() == 1)
    df["local_failure"] = first_hit.astype(bool)

    with np.errstate(invalid="ignore"):
        pr = diameter <= base * (1.0 - PR_DECREASE_FRACTION) + 1e-9
    df["response"] = np.select(
        [
            df["role"] == ROLE_PRE_BASELINE,
            is_baseline,
            ~measured | (df["role"] == ROLE_NO_BASELINE),
            meets,
            diameter == 0,
            pr & (base > 0),
        ],
        [ROLE_PRE_BASELINE, ROLE_BASELINE, "NE", "PD", "CR", "PR"],
        default="SD",
    )
    return df


def _failure_reason(
    row: dict[str, Any], rule: LocalFailureRule, confirm_row: dict[str, Any] | None
) -> str:
    d = float(row["longest_diameter_mm"])
    ref = float(row["reference_mm"])
    factor = 1.0 + rule.min_increase_fraction
    text = (
        f"diameter {_fmt(d)} mm on {_date_text(row['assessment_date'])} >= {factor:g} x "
        f"{rule.reference} {_fmt(ref)} mm"
    )
    text += f" and +{_fmt(round(d - ref, 6))} mm"
    if rule.min_increase_mm > 0:
        text += f" (>= {_fmt(rule.min_increase_mm)} mm)"
    if confirm_row is not None:
        text += (
            f"; confirmed {_fmt(float(confirm_row['longest_diameter_mm']))} mm on "
            f"{_date_text(confirm_row['assessment_date'])}"
        )
    return text + f" [{rule.name}]"


def summarise_local_failure(scans: pd.DataFrame, rule: LocalFailureRule) -> pd.DataFrame:
    """One row per lesion from :func:`assess_lesions` output.

    Columns: ``lesion_id``, ``baseline_date``, ``baseline_mm``, ``nadir_mm`` (smallest measured
    diameter on study), ``n_follow_up_scans`` (measured), ``last_evaluable_date`` (last scan with a
    measured diameter, baseline included), ``local_failure`` (bool), ``failure_date``,
    ``failure_mm``, ``reference_mm``, ``reason`` (text saying which scan met which rule, or why
    none did).
    """
    import pandas as pd

    lesion = scans["lesion_id"]
    evaluable = (
        scans["role"].isin([ROLE_BASELINE, ROLE_FOLLOW_UP]) & scans["longest_diameter_mm"].notna()
    )
    ev = scans[evaluable]
    grouped = ev.groupby("lesion_id", sort=True)
    out = pd.DataFrame({"lesion_id": sorted(lesion.unique())}).set_index("lesion_id")
    out["baseline_date"] = scans.groupby("lesion_id")["baseline_date"].first()
    out["baseline_mm"] = scans.groupby("lesion_id")["baseline_mm"].first()
    out["nadir_mm"] = grouped["longest_diameter_mm"].min()
    out["n_follow_up_scans"] = (
        ev[ev["role"] == ROLE_FOLLOW_UP]
        .groupby("lesion_id")
        .size()
        .reindex(out.index)
        .fillna(0)
        .astype(int)
    )
    out["last_evaluable_date"] = grouped["assessment_date"].max()
    last_mm = grouped["longest_diameter_mm"].last()
    fail = scans[scans["local_failure"]].set_index("lesion_id")
    out["local_failure"] = out.index.isin(fail.index)
    out["failure_date"] = fail["assessment_date"].reindex(out.index)
    out["failure_mm"] = fail["longest_diameter_mm"].reindex(out.index)
    out["reference_mm"] = fail["reference_mm"].reindex(out.index)

    unconfirmed_first = (
        scans[scans["meets_rule"]].groupby("lesion_id")["assessment_date"].first().to_dict()
    )
    fail_rows = {str(r["lesion_id"]): r for r in _records(scans[scans["local_failure"]])}
    next_scan: dict[str, dict[str, Any]] = {}
    if rule.confirmation:
        # the confirming scan: the first measured scan after the failure scan
        for r in _records(ev):
            failed = fail_rows.get(str(r["lesion_id"]))
            if failed is not None and r["assessment_date"] > failed["assessment_date"]:
                next_scan.setdefault(str(r["lesion_id"]), r)
    reasons: list[str] = []
    for rec in _records(out.reset_index()):
        lid = str(rec["lesion_id"])
        if lid in fail_rows:
            reasons.append(_failure_reason(fail_rows[lid], rule, next_scan.get(lid)))
        elif pd.isna(rec["baseline_date"]):
            reasons.append("no scan with a measured diameter: no baseline")
        elif rec["n_follow_up_scans"] == 0:
            reasons.append(
                f"no measured scan after baseline ({_fmt(rec['baseline_mm'])} mm on "
                f"{_date_text(rec['baseline_date'])})"
            )
        else:
            text = (
                f"no scan met {rule.describe()}; last measured "
                f"{_fmt(last_mm[lid])} mm on {_date_text(rec['last_evaluable_date'])}"
            )
            if rule.confirmation and lid in unconfirmed_first:
                text += f"; unconfirmed growth on {_date_text(unconfirmed_first[lid])}"
            reasons.append(text)
    out["reason"] = reasons
    return out.reset_index()


@dataclass(frozen=True)
class LesionTrack(TabularResult):
    """RECIST evaluation of one lesion: ``scans`` per scan, and the failure facts."""

    scans: pd.DataFrame = field(repr=False)
    rule: LocalFailureRule
    local_failure: bool
    failure_date: dt.date | None
    reason: str

    def to_frame(self) -> pd.DataFrame:
        cols = [
            "assessment_date",
            "longest_diameter_mm",
            "role",
            "nadir_mm",
            "reference_mm",
            "change_from_baseline_pct",
            "response",
            "local_failure",
        ]
        return self.scans[cols]


def track_lesion(
    dates: Sequence[Any],
    diameters_mm: Sequence[float | None],
    sbrt_start: Any = None,
    rule: LocalFailureRule = RECIST_1_1,
) -> LesionTrack:
    """RECIST evaluation of one lesion from its scan dates and longest diameters (mm).

    >>> t = track_lesion(["2015-01-01", "2015-04-01", "2015-07-01"], [35, 30, 36])
    >>> t.local_failure   # 36 mm is +20 % over the nadir 30 mm and +6 mm
    True
    """
    import pandas as pd

    if len(dates) != len(diameters_mm):
        raise ClinicalRuleError(
            f"{len(dates)} dates but {len(diameters_mm)} diameters", column="longest_diameter_mm"
        )
    frame = pd.DataFrame(
        {
            "assessment_id": [f"scan {i + 1}" for i in range(len(dates))],
            "lesion_id": "lesion",
            "assessment_date": list(dates),
            "longest_diameter_mm": pd.array(
                [np.nan if v is None else v for v in diameters_mm], dtype="float64"
            ),
        }
    )
    starts = None if sbrt_start is None else {"lesion": sbrt_start}
    scans = assess_lesions(frame, starts, rule)
    summary = summarise_local_failure(scans, rule).iloc[0]
    failed = bool(summary["local_failure"])
    return LesionTrack(
        scans=scans,
        rule=rule,
        local_failure=failed,
        failure_date=summary["failure_date"].date() if failed else None,
        reason=str(summary["reason"]),
    )


def patient_progression(
    scans: pd.DataFrame,
    lesion_patient: Mapping[str, str] | pd.Series,
    sbrt_start: Mapping[str, Any] | pd.Series | None = None,
) -> pd.DataFrame:
    """Earliest RECIST progression per patient: local failure of any treated lesion or new lesions.

    ``scans``: output of :func:`assess_lesions` (it carries ``new_lesions`` when the input did).
    ``lesion_patient``: patient_id per lesion_id. ``sbrt_start``: per patient, the SBRT start
    after which new lesions count (assessments on or before it are pre-treatment staging, like
    the baseline); ``None`` counts all.

    Returns one row per patient with progression: ``patient_id``, ``progression_date``,
    ``source`` (``local failure`` or ``new lesions``), ``lesion_id``, ``reason``.
    """
    import pandas as pd

    mapping = _by_text_id(lesion_patient)
    patient = scans["lesion_id"].map(mapping)
    if patient.isna().any():
        lid = scans.loc[patient.isna(), "lesion_id"].iloc[0]
        raise ClinicalRuleError(
            "lesion has no patient", table="lesions", row=lid, column="patient_id"
        )
    events = []
    lf = scans[scans["local_failure"]]
    if len(lf):
        events.append(
            pd.DataFrame(
                {
                    "patient_id": patient[lf.index],
                    "progression_date": lf["assessment_date"],
                    "source": "local failure",
                    "lesion_id": lf["lesion_id"],
                    "reason": [f"local failure of lesion {x}" for x in lf["lesion_id"]],
                }
            )
        )
    if "new_lesions" in scans.columns:
        new = is_yes(scans["new_lesions"], "new_lesions")
        if sbrt_start is not None:
            starts = _by_text_id(sbrt_start)
            start = pd.to_datetime(patient.map(starts)).astype("datetime64[ns]")
            new &= scans["assessment_date"] > start.fillna(pd.Timestamp.min)
        nl = scans[new]
        if len(nl):
            events.append(
                pd.DataFrame(
                    {
                        "patient_id": patient[nl.index],
                        "progression_date": nl["assessment_date"],
                        "source": "new lesions",
                        "lesion_id": nl["lesion_id"],
                        "reason": [
                            f"new lesions on assessment {a} ({_date_text(d)})"
                            for a, d in zip(
                                nl.get("assessment_id", nl.index),
                                nl["assessment_date"],
                                strict=True,
                            )
                        ],
                    }
                )
            )
    columns = ["patient_id", "progression_date", "source", "lesion_id", "reason"]
    if not events:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    allev = pd.concat(events, ignore_index=True).sort_values(
        ["patient_id", "progression_date", "source", "lesion_id"], kind="mergesort"
    )
    return allev.drop_duplicates("patient_id").reset_index(drop=True)[columns]
