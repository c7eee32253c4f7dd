"""Local control, overall and progression-free survival derived from the registry's records.

``derive_endpoints(tables, ...)`` takes the registry's tables (a dict of DataFrames with the
columns of docs/registry-format.md; dates as datetime64 or python dates) and returns an
:class:`Endpoints` object with two DataFrames, ``lesions`` and ``patients``. Every time and
status comes with the date and the rule that gave it, so a reader can audit each row.

Per lesion (local control, LC)
    * time zero: start (default) or end of the lesion's first SBRT course (``time_origin``).
    * local failure: the first scan meeting the ``rule`` (RECIST 1.1 by default; see
      :mod:`rtoutcomes.clinical.recist`) and/or a ``patient_events`` progression of type
      ``local`` naming the lesion (``lc_source``: ``"first"`` = whichever comes first (default),
      ``"scans"`` = scans only, ``"events"`` = recorded events only). A local progression without
      a lesion_id counts for PFS only.
    * censoring: the last assessment of the lesion with a measured diameter (a scan without one
      does not show control). A lesion with no scan after baseline is censored at time zero.
    * ``lc_event`` 0/1 with ``lc_time``; competing risks: ``lc_cr_status`` 0 = censored,
      1 = local failure, 2 = death without local failure, with ``lc_cr_time`` (the death date for
      status 2, otherwise as ``lc_time``: a death after the last scan is still the competing
      event, so that time can be later than the LC censoring time).

Per patient (time zero: start, or end, of the patient's first SBRT course)
    * overall survival (OS): death from any cause; censored at the last date the patient is
      known alive: the latest ``last_contact`` event, assessment, progression event or SBRT end.
    * progression-free survival (PFS): the first of a ``progression`` event of any type, a local
      failure derived from any lesion's scans (by ``rule``), new lesions seen on an assessment
      after time zero (RECIST 1.1: PD; ``new_lesions_progression``), or death. Censored
      (``pfs_censoring``) at the last date known alive as for OS (``"last_contact"``, default: a
      follow-up visit without recorded progression counts as progression-free, as the model
      study's "last follow-up") or at the last assessment of any of the patient's lesions
      (``"last_assessment"``, stricter: only imaging shows freedom from progression).

Data cut-off (``data_cutoff``; default: ``registry_meta`` key ``data_cutoff_date``): records
after it are not used; a patient or lesion with records after the cut-off was followed beyond it
and is censored at the cut-off (alive / free of local failure as of that day); one without is
censored at its last record as usual.

Times are in months (days / 30.4375) or days (``unit``). Time columns are floats; a censoring
date before time zero (a baseline scan only) gives time 0 and says so in the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rtoutcomes.clinical.errors import ClinicalRuleError
from rtoutcomes.clinical.recist import (
    RECIST_1_1,
    LocalFailureRule,
    assess_lesions,
    patient_progression,
    summarise_local_failure,
)
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

DAYS_PER_MONTH = 30.4375
TimeOrigin = Literal["sbrt_start", "sbrt_end"]
LcSource = Literal["first", "scans", "events"]
PfsCensoring = Literal["last_contact", "last_assessment"]
Unit = Literal["months", "days"]


@dataclass(frozen=True)
class EndpointSettings:
    """The choices an endpoint derivation was made with (kept with the result)."""

    rule: LocalFailureRule = RECIST_1_1
    time_origin: TimeOrigin = "sbrt_start"
    lc_source: LcSource = "first"
    pfs_censoring: PfsCensoring = "last_contact"
    new_lesions_progression: bool = True
    unit: Unit = "months"
    data_cutoff: dt.date | None = None
    # competing risks of LC: a death counts as the competing event only within this time
    # (``unit``) after the lesion's LC censoring date; None: at any time (see derive_endpoints)
    competing_death_within: float | None = None

    def describe(self) -> str:
        """The settings as one sentence, for a methods section or a log."""
        cutoff = f"data cut-off {self.data_cutoff}" if self.data_cutoff else "no data cut-off"
        return (
            f"time zero {self.time_origin.replace('_', ' ')}; local failure by "
            f"{self.rule.describe()} (source: {self.lc_source}); PFS censored at "
            f"{self.pfs_censoring.replace('_', ' ')}; new lesions "
            f"{'count' if self.new_lesions_progression else 'do not count'} as progression; "
            f"times in {self.unit}; {cutoff}"
        )


@dataclass(frozen=True)
class Endpoints(TabularResult):
    """Derived endpoints: ``lesions`` (LC, one row per lesion) and ``patients`` (OS, PFS).

    ``lesions`` columns: lesion_id, patient_id, course_id, time_zero, lc_time, lc_event (0/1),
    lc_date (failure or censoring date), lc_cr_time, lc_cr_status (0/1/2), lc_cr_date, lc_rule,
    lc_source (scans / events / censored / cut-off), lc_source_date, lc_reason, baseline_date,
    baseline_mm, last_assessment_date, n_follow_up_scans.

    ``patients`` columns: patient_id, time_zero, time_zero_course, os_time, os_event, os_date,
    os_reason, pfs_time, pfs_event, pfs_date, pfs_source, pfs_reason, last_alive_date.
    """

    lesions: pd.DataFrame = field(repr=False)
    patients: pd.DataFrame = field(repr=False)
    settings: EndpointSettings = field(default_factory=EndpointSettings)

    def to_frame(self) -> pd.DataFrame:
        return self.lesions


def _dates(series: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.to_datetime(series, errors="raise").astype("datetime64[ns]")


def _table(tables: Mapping[str, pd.DataFrame], name: str, columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    if name not in tables or tables[name] is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    df = tables[name]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ClinicalRuleError(
            f"missing column(s) {', '.join(missing)}", table=name, column=missing[0]
        )
    return df.copy()


def _cutoff(tables: Mapping[str, pd.DataFrame], data_cutoff: Any) -> pd.Timestamp | None:
    import pandas as pd

    if data_cutoff is not None:
        return pd.Timestamp(data_cutoff)
    meta = tables.get("registry_meta")
    if meta is None or not len(meta):
        return None
    values = meta.loc[meta["key"].astype(str) == "data_cutoff_date", "value"]
    if not len(values) or pd.isna(values.iloc[0]) or str(values.iloc[0]).strip() == "":
        return None
    try:
        return pd.Timestamp(str(values.iloc[0]).strip())
    except ValueError as error:
        raise ClinicalRuleError(
            "data_cutoff_date must be a date (YYYY-MM-DD)",
            table="registry_meta",
            row="data_cutoff_date",
            column="value",
            value=values.iloc[0],
        ) from error


def _day(value: Any) -> str:
    import pandas as pd

    return str(pd.Timestamp(value).date())


def _duration(end: pd.Series, start: pd.Series, unit: Unit) -> np.ndarray:
    days = (end - start).dt.days.to_numpy(dtype=float)
    days = np.maximum(days, 0.0)
    return days / DAYS_PER_MONTH if unit == "months" else days


def first_courses(courses: pd.DataFrame) -> pd.DataFrame:
    """Each lesion's first SBRT course (earliest start, then course_id), every column of
    ``courses`` (the registry's sbrt_courses), dates as datetime64; one row per lesion."""
    c = courses.copy()
    c["start_date"] = _dates(c["start_date"])
    c["end_date"] = _dates(c["end_date"])
    first = c.sort_values(["lesion_id", "start_date", "course_id"], kind="mergesort")
    return first.drop_duplicates("lesion_id").reset_index(drop=True)


def _first_courses(courses: pd.DataFrame, lesions: pd.DataFrame) -> pd.DataFrame:
    """The first SBRT course of every lesion, by lesion_id; a lesion without one is an error."""
    first = first_courses(courses).set_index("lesion_id")
    untreated = ~lesions["lesion_id"].isin(first.index)
    if untreated.any():
        raise ClinicalRuleError(
            "every lesion needs an SBRT course (time zero of local control)",
            table="lesions",
            row=lesions.loc[untreated, "lesion_id"].iloc[0],
            column="lesion_id",
        )
    return first[["course_id", "start_date", "end_date"]]


def _patient_cutoffs(patients: pd.DataFrame, cutoff: pd.Timestamp | None) -> pd.Series | None:
    """Each patient's data cut-off: its ``data_cutoff_date`` (a de-identified registry), else
    the registry's; ``None`` when neither exists."""
    import pandas as pd

    own = (
        _dates(patients["data_cutoff_date"])
        if "data_cutoff_date" in patients
        else pd.Series(pd.NaT, index=patients.index, dtype="datetime64[ns]")
    )
    if cutoff is None and own.isna().all():
        return None
    if cutoff is not None:
        own = own.fillna(cutoff)
    return pd.Series(own.to_numpy(), index=patients["patient_id"].astype(str).to_numpy())


def derive_endpoints(
    tables: Mapping[str, pd.DataFrame],
    *,
    rule: LocalFailureRule = RECIST_1_1,
    time_origin: TimeOrigin = "sbrt_start",
    lc_source: LcSource = "first",
    pfs_censoring: PfsCensoring = "last_contact",
    new_lesions_progression: bool = True,
    unit: Unit = "months",
    data_cutoff: dt.date | str | None = None,
    competing_death_within: float | None = None,
) -> Endpoints:
    """Derive LC per lesion and OS/PFS per patient from the registry's tables (see module doc).

    ``competing_death_within`` (in ``unit``): how a lesion's local-control follow-up ends
    relative to death for the competing-risks coding. ``None`` (default): a death without local
    failure is the competing event whenever it occurs, the lesion being taken as controlled up
    to death (no failure went unseen after its last scan). A number: the death counts only when
    it comes within that time of the lesion's last measured scan (e.g. the imaging interval);
    a later death leaves the lesion censored at that scan, since its status after it is unknown
    (censoring at the last assessment, as RECIST 1.1 observes failure only at assessments).

    ``tables`` needs ``lesions``, ``sbrt_courses`` and ``patients``; ``assessments``,
    ``patient_events`` and ``registry_meta`` may be absent (no scans, no events, no cut-off).
    Raises ``ClinicalRuleError`` for records that contradict each other (two deaths, a scan or
    contact after death, a course starting after death, a lesion without a course, a local
    failure before SBRT start) and for a first course starting after the data cut-off.
    """

    if time_origin not in ("sbrt_start", "sbrt_end"):
        raise ClinicalRuleError("time_origin is 'sbrt_start' or 'sbrt_end'", value=time_origin)
    if lc_source not in ("first", "scans", "events"):
        raise ClinicalRuleError("lc_source is 'first', 'scans' or 'events'", value=lc_source)
    if pfs_censoring not in ("last_contact", "last_assessment"):
        raise ClinicalRuleError(
            "pfs_censoring is 'last_contact' or 'last_assessment'", value=pfs_censoring
        )
    if unit not in ("months", "days"):
        raise ClinicalRuleError("unit is 'months' or 'days'", value=unit)
    cutoff = _cutoff(tables, data_cutoff)
    settings = EndpointSettings(
        rule=rule,
        time_origin=time_origin,
        lc_source=lc_source,
        pfs_censoring=pfs_censoring,
        new_lesions_progression=new_lesions_progression,
        unit=unit,
        data_cutoff=None if cutoff is None else cutoff.date(),
        competing_death_within=competing_death_within,
    )
    data = _Inputs.load(tables, cutoff)
    # RECIST once per derivation: lesion endpoints and patients' progression read the same scans
    scans = assess_lesions(data.assessments, data.first_course["start_date"], rule)
    # and each lesion's local-failure summary once (lesion endpoints, PFS reasons)
    summary = summarise_local_failure(scans, rule).set_index("lesion_id")
    lesions = _lesion_endpoints(data, settings, scans, summary)
    patients = _patient_endpoints(data, settings, scans, summary)
    return Endpoints(lesions=lesions, patients=patients, settings=settings)


@dataclass
class _Inputs:
    """The tables, dates parsed, records after the cut-off dropped (and remembered)."""

    lesions: pd.DataFrame
    patients: pd.DataFrame
    first_course: pd.DataFrame
    courses: pd.DataFrame
    assessments: pd.DataFrame
    events: pd.DataFrame
    cutoff: pd.Timestamp | None
    lesions_beyond_cutoff: set[str]
    patients_beyond_cutoff: set[str]
    # each patient's cut-off: the patient's own (a de-identified registry shifts the registry's
    # cut-off with the patient's dates) else the registry's; None when there is none at all
    patient_cutoff: pd.Series | None = None

    def cutoff_of(self, patient_ids: pd.Series) -> pd.Series:
        """The cut-off of each patient in ``patient_ids`` (NaT where there is none)."""
        import pandas as pd

        if self.patient_cutoff is None:
            return pd.Series(pd.NaT, index=patient_ids.index, dtype="datetime64[ns]")
        return patient_ids.map(self.patient_cutoff).astype("datetime64[ns]")

    @classmethod
    def load(cls, tables: Mapping[str, pd.DataFrame], cutoff: pd.Timestamp | None) -> _Inputs:
        lesions = _table(tables, "lesions", ["lesion_id", "patient_id"])
        lesions["lesion_id"] = lesions["lesion_id"].astype(str)
        lesions["patient_id"] = lesions["patient_id"].astype(str)
        patients = _table(tables, "patients", ["patient_id"])
        patients["patient_id"] = patients["patient_id"].astype(str)
        courses = _table(
            tables, "sbrt_courses", ["course_id", "lesion_id", "start_date", "end_date"]
        )
        courses["lesion_id"] = courses["lesion_id"].astype(str)
        courses["start_date"] = _dates(courses["start_date"])
        courses["end_date"] = _dates(courses["end_date"])
        first = _first_courses(courses, lesions)
        patient_cutoff = _patient_cutoffs(patients, cutoff)
        lesion_patient = lesions.set_index("lesion_id")["patient_id"]
        first_cutoff = (
            None
            if patient_cutoff is None
            else first.index.to_series().map(lesion_patient).map(patient_cutoff)
        )
        if first_cutoff is not None and (first["start_date"] > first_cutoff).any():
            late = first[first["start_date"] > first_cutoff].iloc[0]
            late_cutoff = first_cutoff[first["start_date"] > first_cutoff].iloc[0]
            raise ClinicalRuleError(
                f"first SBRT course starts after the data cut-off {late_cutoff.date()}: leave the "
                "lesion out of the cohort or move the cut-off",
                table="sbrt_courses",
                row=late["course_id"],
                column="start_date",
                value=str(late["start_date"].date()),
            )
        assessments = _table(
            tables,
            "assessments",
            ["assessment_id", "lesion_id", "assessment_date", "longest_diameter_mm"],
        )
        assessments["lesion_id"] = assessments["lesion_id"].astype(str)
        assessments["assessment_date"] = _dates(assessments["assessment_date"])
        events = _table(
            tables,
            "patient_events",
            ["event_id", "patient_id", "event_type", "event_date", "progression_type", "lesion_id"],
        )
        events["patient_id"] = events["patient_id"].astype(str)
        events["event_date"] = _dates(events["event_date"])
        beyond_lesions: set[str] = set()
        beyond_patients: set[str] = set()
        if patient_cutoff is not None:

            def by_lesion(ids: pd.Series) -> pd.Series:
                return ids.map(lesion_patient).map(patient_cutoff)

            late_a = assessments["assessment_date"] > by_lesion(assessments["lesion_id"])
            beyond_lesions = set(assessments.loc[late_a, "lesion_id"])
            late_e = events["event_date"] > events["patient_id"].map(patient_cutoff)
            late_c = courses["end_date"] > by_lesion(courses["lesion_id"])
            late_lesions = beyond_lesions | set(courses.loc[late_c, "lesion_id"])
            beyond_patients = set(events.loc[late_e, "patient_id"]) | {
                str(lesion_patient[x]) for x in late_lesions if x in lesion_patient.index
            }
            assessments = assessments[~late_a]
            events = events[~late_e]
        return cls(
            lesions,
            patients,
            first,
            courses,
            assessments.reset_index(drop=True),
            events.reset_index(drop=True),
            cutoff,
            beyond_lesions,
            beyond_patients,
            patient_cutoff,
        )

    def deaths(self) -> pd.Series:
        """Death date per patient_id (at most one death per patient)."""
        death = self.events[self.events["event_type"].astype(str) == "death"]
        dup = death["patient_id"].duplicated(keep=False)
        if dup.any():
            row = death[dup].iloc[0]
            raise ClinicalRuleError(
                "a patient dies once: more than one death event",
                table="patient_events",
                row=row["event_id"],
                column="patient_id",
                value=row["patient_id"],
            )
        return death.set_index("patient_id")["event_date"]


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``keys.map(values)`` by reindexing: the value for each key (missing where there is none).
    pandas 3 cannot map through an empty datetime Series (a registry without scans)."""
    import pandas as pd

    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def _lesion_endpoints(
    data: _Inputs, settings: EndpointSettings, scans: pd.DataFrame, summary: pd.DataFrame
) -> pd.DataFrame:
    import pandas as pd

    rule = settings.rule
    first = data.first_course
    lesions = data.lesions[["lesion_id", "patient_id"]].copy()
    lesions["course_id"] = _lookup(lesions["lesion_id"], first["course_id"])
    start = _lookup(lesions["lesion_id"], first["start_date"])
    end = _lookup(lesions["lesion_id"], first["end_date"])
    t0 = start if settings.time_origin == "sbrt_start" else end
    lesions["time_zero"] = t0.to_numpy()

    lid = lesions["lesion_id"]
    scan_date = _lookup(lid, summary["failure_date"])
    scan_reason = _lookup(lid, summary["reason"])
    ev = data.events
    local = ev[
        (ev["event_type"].astype(str) == "progression")
        & (ev["progression_type"].astype(str) == "local")
        & ev["lesion_id"].notna()
    ]
    local = (
        local.assign(lesion_id=local["lesion_id"].astype(str))
        .sort_values(["lesion_id", "event_date", "event_id"], kind="mergesort")
        .drop_duplicates("lesion_id")
        .set_index("lesion_id")
    )
    event_date = _lookup(lid, local["event_date"])
    event_id = _lookup(lid, local["event_id"])
    use_scans = settings.lc_source in ("first", "scans")
    use_events = settings.lc_source in ("first", "events")
    no_date = pd.Series(pd.NaT, index=lid.index, dtype="datetime64[ns]")
    scan_d = scan_date.astype("datetime64[ns]") if use_scans else no_date
    event_d = event_date.astype("datetime64[ns]") if use_events else no_date
    by_event = event_d.notna() & (scan_d.isna() | (event_d < scan_d))
    lf_date = scan_d.where(~by_event, event_d)

    last = _lookup(lid, summary["last_evaluable_date"])
    beyond = lid.isin(data.lesions_beyond_cutoff)
    lesion_cutoff = data.cutoff_of(lesions["patient_id"])
    censor = last.where(~beyond, lesion_cutoff)
    deaths = data.deaths()
    death = _lookup(lesions["patient_id"], deaths)
    after_death = last.notna() & death.notna() & (last > death)
    if after_death.any():
        i = int(np.flatnonzero(after_death.to_numpy())[0])
        raise ClinicalRuleError(
            f"assessment after the patient's death ({_day(death.iloc[i])})",
            table="assessments",
            row=lid.iloc[i],
            column="assessment_date",
            value=_day(last.iloc[i]),
        )
    dead_before = death.notna() & (death < start)
    if dead_before.any():
        i = int(np.flatnonzero(dead_before.to_numpy())[0])
        raise ClinicalRuleError(
            f"SBRT course starts after the patient's death ({_day(death.iloc[i])})",
            table="sbrt_courses",
            row=lesions["course_id"].iloc[i],
            column="start_date",
            value=_day(start.iloc[i]),
        )
    early = lf_date.notna() & (lf_date < start)
    if early.any():
        i = int(np.flatnonzero(early.to_numpy())[0])
        raise ClinicalRuleError(
            f"local failure before SBRT start ({_day(start.iloc[i])})",
            table="patient_events",
            row=event_id.iloc[i],
            column="event_date",
            value=_day(lf_date.iloc[i]),
        )
    failed = lf_date.notna()
    source_date = lf_date.where(failed, censor)
    censor = censor.where(censor > t0, t0)
    lc_date = lf_date.where(failed, censor)
    lesions["lc_time"] = _duration(lc_date, t0, settings.unit)
    lesions["lc_event"] = failed.astype(int).to_numpy()
    lesions["lc_date"] = lc_date.to_numpy()
    competing = ~failed & death.notna()
    if settings.competing_death_within is not None:
        gap = _duration(death, lc_date, settings.unit)
        competing &= pd.Series(gap <= settings.competing_death_within + 1e-9, index=competing.index)
    lesions["lc_cr_status"] = np.where(failed, 1, np.where(competing, 2, 0))
    cr_date = lc_date.where(~competing, death)
    lesions["lc_cr_time"] = _duration(cr_date, t0, settings.unit)
    lesions["lc_cr_date"] = cr_date.to_numpy()

    rule_col: list[str] = []
    source: list[str] = []
    reason: list[str] = []
    # the columns as Python lists once (element access on a Series costs microseconds)
    follow_ups = summary["n_follow_up_scans"].to_dict()
    rows = zip(
        lid.tolist(),
        failed.tolist(),
        by_event.tolist(),
        event_id.tolist(),
        event_d.tolist(),
        scan_d.tolist(),
        scan_reason.tolist(),
        beyond.tolist(),
        lesion_cutoff.tolist(),
        last.tolist(),
        t0.tolist(),
        competing.tolist(),
        death.tolist(),
        strict=True,
    )
    for (
        lesion_id,
        is_failed,
        is_by_event,
        its_event,
        its_event_d,
        its_scan_d,
        its_scan_reason,
        is_beyond,
        its_cutoff,
        its_last,
        its_t0,
        is_competing,
        its_death,
    ) in rows:
        if is_failed and is_by_event:
            rule_col.append("patient_events: local progression")
            source.append("events")
            text = f"local progression event {its_event} on {_day(its_event_d)}"
            if use_scans and pd.notna(its_scan_d):
                text += f" (before the scan-derived failure on {_day(its_scan_d)})"
            reason.append(text)
        elif is_failed:
            rule_col.append(rule.name)
            source.append("scans")
            reason.append(str(its_scan_reason))
        else:
            rule_col.append("censored")
            n_follow = int(follow_ups.get(lesion_id, 0))
            if is_beyond:
                source.append("cut-off")
                text = f"assessed beyond the data cut-off {_day(its_cutoff)}: censored at it"
            elif pd.isna(its_last):
                source.append("censored")
                text = "no measured assessment: censored at time zero"
            elif n_follow == 0 or its_last <= its_t0:
                source.append("censored")
                text = "no measured scan after time zero: censored at time zero"
            else:
                source.append("censored")
                text = f"censored at the last measured assessment {_day(its_last)}"
            if use_scans and pd.notna(its_scan_reason) and pd.notna(its_last):
                text += f"; {its_scan_reason}"
            if is_competing:
                text += f"; death without local failure on {_day(its_death)} (competing)"
            elif pd.notna(its_death):
                text += (
                    f"; death on {_day(its_death)} more than "
                    f"{settings.competing_death_within:g} {settings.unit} after it: not "
                    "counted as competing"
                )
            reason.append(text)
    lesions["lc_rule"] = rule_col
    lesions["lc_source"] = source
    lesions["lc_source_date"] = source_date.to_numpy()
    lesions["lc_reason"] = reason
    lesions["baseline_date"] = _lookup(lid, summary["baseline_date"]).to_numpy()
    lesions["baseline_mm"] = _lookup(lid, summary["baseline_mm"]).to_numpy()
    lesions["last_assessment_date"] = last.to_numpy()
    lesions["n_follow_up_scans"] = (
        _lookup(lid, summary["n_follow_up_scans"]).fillna(0).astype(int).to_numpy()
    )
    return lesions.sort_values("lesion_id", kind="mergesort").reset_index(drop=True)


def _patient_endpoints(
    data: _Inputs, settings: EndpointSettings, scans: pd.DataFrame, summary: pd.DataFrame
) -> pd.DataFrame:
    import pandas as pd

    courses = data.courses.merge(data.lesions[["lesion_id", "patient_id"]], on="lesion_id")
    first = courses.sort_values(["patient_id", "start_date", "course_id"], kind="mergesort")
    first = first.drop_duplicates("patient_id").set_index("patient_id")
    patients = pd.DataFrame({"patient_id": sorted(data.patients["patient_id"].unique())})
    pid = patients["patient_id"]
    untreated = ~pid.isin(first.index)
    if untreated.any():
        raise ClinicalRuleError(
            "every patient needs an SBRT course (time zero of OS and PFS)",
            table="patients",
            row=pid[untreated].iloc[0],
            column="patient_id",
        )
    column = "start_date" if settings.time_origin == "sbrt_start" else "end_date"
    t0 = _lookup(pid, first[column])
    patients["time_zero"] = t0.to_numpy()
    patients["time_zero_course"] = _lookup(pid, first["course_id"]).to_numpy()

    lesion_patient = data.lesions.set_index("lesion_id")["patient_id"]
    a = data.assessments.assign(patient_id=_lookup(data.assessments["lesion_id"], lesion_patient))
    ev = data.events
    cutoff = data.cutoff_of(pid)
    ends = courses[["patient_id", "end_date"]]
    if data.patient_cutoff is not None:
        ends = ends[~(ends["end_date"] > data.cutoff_of(ends["patient_id"]))]
    alive_sources = pd.concat(
        [
            ev.loc[ev["event_type"].astype(str) != "death", ["patient_id", "event_date"]].rename(
                columns={"event_date": "date"}
            ),
            a[["patient_id", "assessment_date"]].rename(columns={"assessment_date": "date"}),
            ends.rename(columns={"end_date": "date"}),
        ]
    )
    last_alive = _lookup(pid, alive_sources.groupby("patient_id")["date"].max())
    death = _lookup(pid, data.deaths())
    contact_after_death = death.notna() & (last_alive > death)
    if contact_after_death.any():
        i = int(np.flatnonzero(contact_after_death.to_numpy())[0])
        raise ClinicalRuleError(
            f"a record after the patient's death ({_day(death.iloc[i])}): last contact, "
            "assessment or progression must be on or before death",
            table="patient_events",
            row=pid.iloc[i],
            column="event_date",
            value=_day(last_alive.iloc[i]),
        )
    beyond = pid.isin(data.patients_beyond_cutoff)
    alive_censor = last_alive.where(~beyond, cutoff).fillna(t0)
    patients["last_alive_date"] = last_alive.to_numpy()

    os_event = death.notna()
    os_date = death.where(os_event, alive_censor)
    patients["os_time"] = _duration(os_date, t0, settings.unit)
    patients["os_event"] = os_event.astype(int).to_numpy()
    patients["os_date"] = os_date.to_numpy()
    patients["os_reason"] = [
        f"death on {_day(d)}"
        if e
        else (
            f"alive beyond the data cut-off {_day(c)}: censored at it"
            if b
            else f"censored at the last date known alive {_day(d)}"
        )
        for d, e, b, c in zip(os_date, os_event, beyond, cutoff, strict=True)
    ]

    pfs = _pfs_candidates(data, settings, data.deaths(), scans, summary)
    pfs_date = _lookup(pid, pfs["date"])
    pfs_source = _lookup(pid, pfs["source"])
    pfs_reason = _lookup(pid, pfs["reason"])
    if settings.pfs_censoring == "last_contact":
        censor = alive_censor
        censor_text = "last date known alive"
    else:
        last_scan = _lookup(pid, a.groupby("patient_id")["assessment_date"].max())
        scanned_beyond = pid.map(
            lambda p: any(lesion_patient.get(x) == p for x in data.lesions_beyond_cutoff)
        ).astype(bool)
        censor = last_scan.where(~scanned_beyond, cutoff).fillna(t0)
        beyond = scanned_beyond
        censor_text = "last assessment"
    pfs_event = pfs_date.notna()
    patients["pfs_date"] = pfs_date.where(pfs_event, censor).to_numpy()
    patients["pfs_time"] = _duration(pd.Series(patients["pfs_date"]), t0, settings.unit)
    patients["pfs_event"] = pfs_event.astype(int).to_numpy()
    patients["pfs_source"] = pfs_source.where(pfs_event, "censored").to_numpy()
    patients["pfs_reason"] = [
        r
        if e
        else (
            f"followed beyond the data cut-off {_day(c)}: censored at it"
            if b
            else f"censored at the {censor_text} {_day(d)}"
        )
        for r, e, b, d, c in zip(
            pfs_reason, pfs_event, beyond, patients["pfs_date"], cutoff, strict=True
        )
    ]
    order = [
        "patient_id",
        "time_zero",
        "time_zero_course",
        "os_time",
        "os_event",
        "os_date",
        "os_reason",
        "pfs_time",
        "pfs_event",
        "pfs_date",
        "pfs_source",
        "pfs_reason",
        "last_alive_date",
    ]
    return patients[order]


def _pfs_candidates(
    data: _Inputs,
    settings: EndpointSettings,
    death: pd.Series,
    scans: pd.DataFrame,
    summary: pd.DataFrame,
) -> pd.DataFrame:
    """Earliest progression-or-death record per patient: date, source, reason (``summary``:
    ``summarise_local_failure`` of ``scans`` by lesion, whose reasons a local failure cites)."""
    import pandas as pd

    ev = data.events
    prog = ev[ev["event_type"].astype(str) == "progression"]
    frames = [
        pd.DataFrame(
            {
                "patient_id": prog["patient_id"],
                "date": prog["event_date"],
                "source": "progression event",
                "reason": [
                    f"{t} progression event {i} on {_day(d)}"
                    for t, i, d in zip(
                        prog["progression_type"], prog["event_id"], prog["event_date"], strict=True
                    )
                ],
                "rank": 1,
            }
        )
    ]
    lesion_patient = data.lesions.set_index("lesion_id")["patient_id"]
    patient_start = (
        data.first_course["start_date"]
        .groupby(data.first_course.index.map(lesion_patient.to_dict()))
        .min()
    )
    if not settings.new_lesions_progression:
        scans = scans.drop(columns=["new_lesions"], errors="ignore")
    recist = patient_progression(scans, lesion_patient, patient_start)
    frames.append(
        pd.DataFrame(
            {
                "patient_id": recist["patient_id"],
                "date": recist["progression_date"],
                "source": recist["source"],
                "reason": [
                    f"local failure of lesion {lid}: {summary.loc[lid, 'reason']}"
                    if src == "local failure"
                    else str(r)
                    for lid, src, r in zip(
                        recist["lesion_id"], recist["source"], recist["reason"], strict=True
                    )
                ],
                "rank": 2,
            }
        )
    )
    died = death.dropna()
    frames.append(
        pd.DataFrame(
            {
                "patient_id": died.index,
                "date": died.to_numpy(),
                "source": "death",
                "reason": [f"death on {_day(d)}" for d in died],
                "rank": 3,
            }
        )
    )
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(
            {
                "date": pd.Series(dtype="datetime64[ns]"),
                "source": pd.Series(dtype=object),
                "reason": pd.Series(dtype=object),
            }
        )
    allc = pd.concat(frames, ignore_index=True)
    allc["date"] = pd.to_datetime(allc["date"]).astype("datetime64[ns]")
    allc = allc.sort_values(["patient_id", "date", "rank"], kind="mergesort")
    best = allc.drop_duplicates("patient_id").set_index("patient_id")
    return best[["date", "source", "reason"]]
