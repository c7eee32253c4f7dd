"""A folder of DICOM RT exports linked to the registry's courses, computed and stored.

Steps (each refusal or doubt is listed with its reason, never guessed):

1. Index and link the folder by headers (:mod:`rtoutcomes.io.dicom_index`).
2. Match each plan to a course. The DICOM PatientID is the registry's ``patient_id``, unless the
   map file (``--map``) pairs ``dicom_patient_id`` with ``patient_id``. A map row pairing
   ``rtplan_uid`` with ``course_id`` decides by hand (several plans mapped to one course are
   summed). Otherwise the plan's prescription (total dose within 0.5 % or 0.01 Gy, and the
   number of fractions) must fit exactly one course of the patient, and when the plan has a
   plausible RTPlanDate, that course must start on it or at most ``date_window_days`` later;
   a plan that fits no course, or several, is listed. Two plans fitting one course are both
   listed as ambiguous.
3. Choose the target (:func:`~rtoutcomes.clinical.plan_dosimetry.choose_target`): a map row's
   ``target``, else the ROI the plan's dose reference names, else the naming patterns.
4. Compute every contoured ROI's DVH and the target's indices, plans in parallel.
5. Warn when a result is implausible: coverage below ``min_coverage``, or a target volume
   outside ``tv_ratio`` of the course's registered TV.
6. Write dosimetry, structure metrics and V(dose) rows of all matched courses at once
   (:func:`rtoutcomes.registry.attach.write_course_dosimetry`); rows that equal the stored
   ones are left alone, so a second run on the same folder changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtoutcomes.errors import RtOutcomesError

if TYPE_CHECKING:
    from rtoutcomes.clinical.plan_dosimetry import PlanDosimetry
    from rtoutcomes.io.dicom_index import DicomIndex, LinkProblem, PlanLink

__all__ = [
    "DEFAULT_TARGET_PATTERNS",
    "DosimetryImport",
    "ImportOptions",
    "MapFileError",
    "PlanOutcome",
    "dosimetry_import",
    "read_map_file",
    "single_plan_warnings",
]

#: target naming patterns tried in order when the plan's dose reference names no ROI
DEFAULT_TARGET_PATTERNS = (r"PTV", r"ITV", r"CTV", r"GTV")
_MAP_COLUMNS = ("dicom_patient_id", "patient_id", "rtplan_uid", "course_id", "target")


class MapFileError(RtOutcomesError):
    """A map file that cannot be used (unknown column, half a pair, a plan mapped twice)."""


@dataclass(frozen=True)
class ImportOptions:
    """How plans are matched, targets chosen and results judged.

    ``min_coverage``: a coverage (TV_PIV/TV, fraction) below this is a warning;
    ``tv_ratio``: a target volume outside (low, high) x the course's registered TV is one;
    ``dose_levels_gy``: V(dose) levels stored per structure; ``date_window_days``: a course
    may start at most this many days after its plan's date (and not before it).
    """

    target_patterns: tuple[str, ...] = DEFAULT_TARGET_PATTERNS
    min_coverage: float = 0.80
    tv_ratio: tuple[float, float] = (0.5, 2.0)
    dose_levels_gy: tuple[float, ...] = ()
    date_window_days: int = 60
    replace: bool = False
    workers: int | None = None


@dataclass(frozen=True)
class PlanMap:
    """The map file: DICOM PatientID -> patient_id, plan UID -> course_id (and target)."""

    patients: dict[str, str] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)


@dataclass
class PlanOutcome:
    """What became of one plan: ``status`` is stored, unchanged, refused or unmatched."""

    plan_uid: str
    path: str
    dicom_patient_id: str | None
    course_id: str | None = None
    status: str = "unmatched"
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    target: str | None = None


@dataclass
class DosimetryImport:
    """Summary of a run: the index, what happened to each plan, and what was written."""

    index: DicomIndex
    link_problems: list[LinkProblem]
    outcomes: list[PlanOutcome]
    written: int = 0
    unchanged: int = 0
    dry_run: bool = False

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def lines(self) -> list[str]:
        """The summary as text lines (the command prints them)."""
        ix = self.index
        plans = len(ix.of_kind("RTPLAN"))
        head = [
            f"{len(ix.objects)} RT objects ({plans} plans, {len(ix.of_kind('RTSTRUCT'))} "
            f"structure sets, {len(ix.of_kind('RTDOSE'))} doses) in {ix.root}; "
            f"{ix.duplicate_files} duplicate file(s) counted once; "
            f"{ix.other_files} other file(s) ignored",
        ]
        verb = "would be written" if self.dry_run else "written"
        head.append(
            f"courses: {self.written} {verb}, {self.unchanged} unchanged; plans refused "
            f"{self.count('refused')}, unmatched {self.count('unmatched')}"
        )
        for problem in [*ix.problems, *self.link_problems]:
            head.append(f"  {problem.kind}: {problem.reason} ({problem.subject})")
        for outcome in sorted(self.outcomes, key=lambda o: (o.status, o.plan_uid)):
            where = f" -> {outcome.course_id}" if outcome.course_id else ""
            if outcome.status in ("refused", "unmatched"):
                head.append(
                    f"  {outcome.status}: plan {outcome.plan_uid} (PatientID "
                    f"{outcome.dicom_patient_id}){where}: {outcome.reason}"
                )
            for warning in outcome.warnings:
                head.append(f"  warning: plan {outcome.plan_uid}{where}: {warning}")
        return head


def read_map_file(path: str | Path) -> PlanMap:
    """Read a map file (CSV): each row pairs ``dicom_patient_id`` with ``patient_id``, and/or
    ``rtplan_uid`` with ``course_id`` (optionally with the ``target`` ROI name)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise MapFileError(f"{file}: cannot read the map file ({error})") from error
    reader = csv.DictReader(text.splitlines())
    unknown = [c for c in reader.fieldnames or [] if c not in _MAP_COLUMNS]
    if unknown or not reader.fieldnames:
        raise MapFileError(
            f"{file}: row 1: unknown column(s) {', '.join(unknown) or '(none)'}; "
            f"columns: {', '.join(_MAP_COLUMNS)}"
        )
    mapping = PlanMap()
    for number, row in enumerate(reader, start=2):
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        for left, right in (("dicom_patient_id", "patient_id"), ("rtplan_uid", "course_id")):
            if bool(cells.get(left)) != bool(cells.get(right)):
                missing = right if cells.get(left) else left
                raise MapFileError(
                    f"{file}: row {number}: column {missing} is empty; "
                    f"{left} and {right} go together"
                )
        pid, patient = cells.get("dicom_patient_id"), cells.get("patient_id")
        if pid and patient:
            if mapping.patients.get(pid, patient) != patient:
                raise MapFileError(
                    f"{file}: row {number}: dicom_patient_id {pid} is mapped to "
                    f"{mapping.patients[pid]} and {patient}"
                )
            mapping.patients[pid] = patient
        plan, course = cells.get("rtplan_uid"), cells.get("course_id")
        if plan and course:
            if plan in mapping.plans:
                raise MapFileError(f"{file}: row {number}: rtplan_uid {plan} is mapped twice")
            mapping.plans[plan] = course
            if cells.get("target"):
                mapping.targets[plan] = cells["target"]
    return mapping


@dataclass(frozen=True)
class _Course:
    course_id: str
    patient_id: str
    start: dt.date | None
    end: dt.date | None
    total_dose_gy: float
    fractions: int
    dosimetry: dict[str, Any] | None


def _courses(db_url: str | Path) -> tuple[dict[str, _Course], set[str]]:
    from rtoutcomes.registry.tables import read_rows

    rows = read_rows(db_url)
    patient_of = {str(r["lesion_id"]): str(r["patient_id"]) for r in rows["lesions"]}
    dosimetry = {str(r["course_id"]): dict(r) for r in rows["dosimetry"]}
    courses: dict[str, _Course] = {}
    for r in rows["sbrt_courses"]:
        course_id = str(r["course_id"])
        start, end = r["start_date"], r["end_date"]
        courses[course_id] = _Course(
            course_id,
            patient_of[str(r["lesion_id"])],
            start if isinstance(start, dt.date) else None,
            end if isinstance(end, dt.date) else None,
            float(r["total_dose_gy"]),  # type: ignore[arg-type]
            int(r["fractions"]),  # type: ignore[call-overload]
            dosimetry.get(course_id),
        )
    return courses, {str(r["patient_id"]) for r in rows["patients"]}


def _fits(course: _Course, rx_gy: float | None, fractions: int | None) -> bool:
    if rx_gy is None or fractions is None:
        return False
    return fractions == course.fractions and abs(rx_gy - course.total_dose_gy) <= max(
        0.005 * course.total_dose_gy, 0.01
    )


def _schedule(rx_gy: float | None, fractions: int | None) -> str:
    dose = "?" if rx_gy is None else f"{rx_gy:g}"
    return f"{dose} Gy/{fractions if fractions else '?'} Fx"


def _match(
    link: PlanLink,
    plan_map: PlanMap,
    courses: dict[str, _Course],
    patients: set[str],
    options: ImportOptions,
) -> tuple[str | None, str, list[str]]:
    """(course_id, reason when None, warnings) for one plan."""
    plan = link.plan
    rx = plan.prescription
    rx_gy, fractions = (rx.prescription_gy, rx.fractions) if rx else (None, None)
    schedule = _schedule(rx_gy, fractions)
    mapped = plan_map.plans.get(plan.sop_uid)
    if mapped is not None:
        course = courses.get(mapped)
        if course is None:
            return None, f"the map names course {mapped}, which is not in the registry", []
        warnings = []
        if not _fits(course, rx_gy, fractions):
            warnings.append(
                f"mapped by hand, but the plan's {schedule} differs from the course's "
                f"{_schedule(course.total_dose_gy, course.fractions)}"
            )
        return mapped, "", warnings
    pid = plan.patient_id or ""
    patient = plan_map.patients.get(pid, pid)
    if patient not in patients:
        return (
            None,
            (
                f"PatientID {pid!r} is not a registry patient (pair it with a patient_id "
                "in the map file)"
            ),
            [],
        )
    own = sorted(
        (c for c in courses.values() if c.patient_id == patient), key=lambda c: c.course_id
    )
    if rx_gy is None or fractions is None:
        return None, f"the plan states no prescription ({schedule}); map it by hand", []
    fitting = [c for c in own if _fits(c, rx_gy, fractions)]
    date = plan.plan_date
    if date is not None:
        window = dt.timedelta(days=options.date_window_days)
        fitting = [c for c in fitting if c.start is None or date <= c.start <= date + window]
    if len(fitting) == 1:
        return fitting[0].course_id, "", []
    listed = (
        "; ".join(
            f"{c.course_id} {_schedule(c.total_dose_gy, c.fractions)} from {c.start}" for c in own
        )
        or "none"
    )
    on = f" planned {date}" if date else ""
    if not fitting:
        return (
            None,
            (f"the plan's {schedule}{on} fits none of patient {patient}'s courses ({listed})"),
            [],
        )
    names = ", ".join(c.course_id for c in fitting)
    return None, f"the plan's {schedule}{on} fits several courses ({names}): map it by hand", []


@dataclass(frozen=True)
class _Job:
    """What a worker process needs to compute one course (plain data, picklable)."""

    course_id: str
    structure_path: str
    dose_paths: tuple[str, ...]
    summation_type: str
    fractions: int | None
    prescription_gy: float
    roi_number: int | None
    description: str | None
    target: str | None
    patterns: tuple[str, ...]
    dose_levels_gy: tuple[float, ...]


def _compute(job: _Job) -> dict[str, Any]:
    """Read the files of one course and compute its rows (runs in a worker process)."""
    from dataclasses import replace

    from rtoutcomes.clinical.plan_dosimetry import choose_target, plan_dosimetry, total_dose_grid
    from rtoutcomes.io.dicom_rt import read_rtdose, read_rtstruct

    try:
        structure_set = read_rtstruct(job.structure_path)
        grids = [read_rtdose(p, tps_dvhs=False) for p in job.dose_paths]
        grid = grids[0]
        if len(grids) > 1:  # beam doses (or plans) already checked to line up
            total = grid.dose_gy.copy()
            for other in grids[1:]:
                if other.dose_gy.shape != grid.dose_gy.shape:
                    raise RtOutcomesError(
                        f"{other.path}: dose grid shape differs from {grid.path}'s"
                    )
                total += other.dose_gy
            grid = replace(grid, dose_gy=total, summation_type="PLAN", tps_dvhs={})
        grid = total_dose_grid(grid, job.fractions)
        target = choose_target(
            structure_set,
            job.target,
            job.description,
            roi_number=job.roi_number,
            patterns=job.patterns,
        )
        result = plan_dosimetry(
            structure_set, grid, prescription_gy=job.prescription_gy, target=target
        )
        metrics, levels = result.structure_rows(job.course_id, job.dose_levels_gy)
        return {
            "dosimetry": result.registry_row(job.course_id),
            "metrics": metrics,
            "levels": levels,
            "coverage": result.indices.coverage,
            "tv_cc": result.indices.tv_cc,
            "target": result.target_name,
        }
    except RtOutcomesError as error:
        return {"error": str(error)}


def _jobs_and_outcomes(
    links: list[PlanLink],
    plan_map: PlanMap,
    db_url: str | Path,
    options: ImportOptions,
) -> tuple[list[_Job], dict[str, list[PlanOutcome]]]:
    courses, patients = _courses(db_url)
    by_course: dict[str, list[tuple[PlanLink, PlanOutcome]]] = defaultdict(list)
    outcomes: list[PlanOutcome] = []
    for link in links:
        outcome = PlanOutcome(link.plan.sop_uid, str(link.plan.path), link.plan.patient_id)
        outcomes.append(outcome)
        course_id, reason, warnings = _match(link, plan_map, courses, patients, options)
        outcome.warnings += warnings
        if course_id is None:
            outcome.reason = reason
            continue
        outcome.course_id = course_id
        by_course[course_id].append((link, outcome))
    jobs: list[_Job] = []
    grouped: dict[str, list[PlanOutcome]] = {"": [o for o in outcomes if o.course_id is None]}
    for course_id, pairs in sorted(by_course.items()):
        grouped[course_id] = [o for _, o in pairs]
        mapped = all(link.plan.sop_uid in plan_map.plans for link, _ in pairs)
        if len(pairs) > 1 and not mapped:
            uids = ", ".join(link.plan.sop_uid for link, _ in pairs)
            for _, outcome in pairs:
                outcome.status, outcome.reason = (
                    "unmatched",
                    (
                        f"{len(pairs)} plans fit course {course_id} ({uids}); map them by hand "
                        "(plans mapped to one course are summed)"
                    ),
                )
            continue
        job = _job(course_id, [link for link, _ in pairs], plan_map, options)
        if isinstance(job, str):
            for _, outcome in pairs:
                outcome.status, outcome.reason = "refused", job
            continue
        existing = courses[course_id].dosimetry
        plan_uid = pairs[0][0].plan.sop_uid
        if (
            existing is not None
            and not options.replace
            and (existing.get("source") != "computed" or existing.get("rtplan_uid") != plan_uid)
        ):
            for _, outcome in pairs:
                outcome.status, outcome.reason = (
                    "refused",
                    (
                        f"course {course_id} already has dosimetry (source {existing.get('source')}"
                        f", plan {existing.get('rtplan_uid') or '-'}); replace it explicitly "
                        "(--replace) or leave it"
                    ),
                )
            continue
        jobs.append(job)
    return jobs, grouped


def _job(
    course_id: str, links: list[PlanLink], plan_map: PlanMap, options: ImportOptions
) -> _Job | str:
    """The computation of one course, or why it cannot be made."""
    first = links[0]
    rx = first.plan.prescription
    if rx is None or rx.prescription_gy is None:
        return "the plan states no prescription (TargetPrescriptionDose)"
    if len(links) == 1:
        return _Job(
            course_id,
            str(first.structure_set.path),
            tuple(str(d.path) for d in first.doses),
            first.summation_type,
            rx.fractions,
            rx.prescription_gy,
            rx.target_roi_number,
            rx.target_description,
            plan_map.targets.get(first.plan.sop_uid),
            options.target_patterns,
            options.dose_levels_gy,
        )
    # several plans of one course, summed because the map says so
    from rtoutcomes.io.dicom_index import same_grid

    if len({link.structure_set.sop_uid for link in links}) > 1:
        return "the plans mapped to this course use different structure sets: not summed"
    if any(len(link.doses) != 1 or link.summation_type != "PLAN" for link in links):
        return "plans are summed only from one PLAN dose each"
    reason = same_grid([link.doses[0] for link in links])
    if reason:
        return f"plan doses not summed: {reason}"
    total = 0.0
    fractions = 0
    for link in links:
        plan_rx = link.plan.prescription
        if plan_rx is None or plan_rx.prescription_gy is None or not plan_rx.fractions:
            return f"plan {link.plan.sop_uid} states no prescription or fractions"
        total += plan_rx.prescription_gy
        fractions += plan_rx.fractions
    return _Job(
        course_id,
        str(first.structure_set.path),
        tuple(str(lk.doses[0].path) for lk in links),
        "PLAN",
        fractions,
        total,
        rx.target_roi_number,
        rx.target_description,
        plan_map.targets.get(first.plan.sop_uid),
        options.target_patterns,
        options.dose_levels_gy,
    )


def _run_jobs(
    jobs: list[_Job], workers: int | None, progress: Callable[[int, int], None]
) -> dict[str, dict[str, Any]]:
    total = len(jobs)
    results: dict[str, dict[str, Any]] = {}
    count = workers or os.cpu_count() or 1
    progress(0, total)
    if count <= 1 or total <= 1:
        for done, job in enumerate(jobs, start=1):
            results[job.course_id] = _compute(job)
            progress(done, total)
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # imported once here, so that the forked workers start with it instead of each importing
    # it (and the statistics package its result type comes from) again
    import rtoutcomes.clinical.plan_dosimetry  # noqa: F401

    with ProcessPoolExecutor(
        max_workers=min(count, total), mp_context=multiprocessing.get_context("fork")
    ) as pool:
        futures = {pool.submit(_compute, job): job.course_id for job in jobs}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            progress(done, total)
    return results


def _no_progress(done: int, total: int) -> None:
    """No progress display."""


def dosimetry_import(
    folder: str | Path,
    db_url: str | Path,
    *,
    map_file: str | Path | None = None,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = _no_progress,
    user: str | None = None,
    reason: str | None = None,
) -> DosimetryImport:
    """Index ``folder``, match its plans to ``db_url``'s courses, compute and store them.

    ``progress(done, total)`` is called as plans are computed. With ``dry_run`` nothing is
    written. The rows go through the registry's audited write path, recorded with ``user``
    and ``reason`` (default: that the dosimetry was computed from DICOM RT files). Returns the
    summary (see :meth:`DosimetryImport.lines`).
    """
    from rtoutcomes.io.dicom_index import index_folder, link_plans
    from rtoutcomes.registry.attach import write_course_dosimetry

    opts = options or ImportOptions()
    plan_map = read_map_file(map_file) if map_file is not None else PlanMap()
    index = index_folder(folder)
    links, problems = link_plans(index)
    jobs, grouped = _jobs_and_outcomes(links, plan_map, db_url, opts)
    results = _run_jobs(jobs, opts.workers, progress)
    courses, _ = _courses(db_url)
    rows: dict[str, dict[str, Any]] = {}
    for job in jobs:
        result = results[job.course_id]
        outcomes = grouped[job.course_id]
        if "error" in result:
            for outcome in outcomes:
                outcome.status, outcome.reason = "refused", result["error"]
            continue
        warnings = _plausibility(result, courses[job.course_id], opts)
        first = next(link for link in links if link.plan.sop_uid == outcomes[0].plan_uid)
        result["dosimetry"].update(
            _identity(
                first, [lk for lk in links if lk.plan.sop_uid in {o.plan_uid for o in outcomes}]
            )
        )
        for outcome in outcomes:
            outcome.target = result["target"]
            outcome.warnings += warnings
        rows[job.course_id] = result
    summary = DosimetryImport(
        index, problems, [o for group in grouped.values() for o in group], dry_run=dry_run
    )
    write = write_course_dosimetry(
        db_url,
        {c: r["dosimetry"] for c, r in rows.items()},
        {c: r["metrics"] for c, r in rows.items()},
        {c: r["levels"] for c, r in rows.items()},
        dry_run=dry_run,
        manage_levels=bool(opts.dose_levels_gy),
        user=user,
        reason=reason,
        command=f"rtoutcomes dosimetry-import {folder}",
    )
    written, unchanged, refused = write.written, write.unchanged, write.refused
    for course_id, outcomes in grouped.items():
        for outcome in outcomes:
            if course_id in refused:
                outcome.status, outcome.reason = "refused", refused[course_id]
            elif course_id in written:
                outcome.status = "stored"
            elif course_id in unchanged:
                outcome.status = "unchanged"
    summary.written, summary.unchanged = len(written), len(unchanged)
    return summary


def _identity(first: PlanLink, links: list[PlanLink]) -> dict[str, Any]:
    plan = first.plan
    return {
        "dicom_patient_id": plan.patient_id,
        "rtplan_uid": plan.sop_uid,
        "rtplan_label": plan.plan_label,
        "rtstruct_uid": first.structure_set.sop_uid,
        "rtdose_uids": " ".join(d.sop_uid for link in links for d in link.doses),
        "planning_system": plan.planning_system,
    }


def single_plan_warnings(
    result: PlanDosimetry,
    fractions: int | None,
    db_url: str | Path | None = None,
    course_id: str | None = None,
    options: ImportOptions | None = None,
) -> list[str]:
    """Warnings for one plan computed by hand (``rtoutcomes dosimetry``): a low coverage, and
    with a registry course, a schedule that differs from the course's and a target volume far
    from its registered TV (the same rules as :func:`dosimetry_import`)."""
    opts = options or ImportOptions()
    summary = {
        "coverage": result.indices.coverage,
        "tv_cc": result.indices.tv_cc,
        "target": result.target_name,
    }
    if db_url is None or course_id is None:
        return _plausibility(summary, _Course("", "", None, None, 0.0, 0, None), opts)
    courses, _ = _courses(db_url)
    if course_id not in courses:
        return []  # the write refuses an unknown course with its own message
    course = courses[course_id]
    warnings = []
    if not _fits(course, result.prescription_gy, fractions):
        warnings.append(
            f"the plan's {_schedule(result.prescription_gy, fractions)} differs from course "
            f"{course_id}'s {_schedule(course.total_dose_gy, course.fractions)}"
        )
    return warnings + _plausibility(summary, course, opts)


def _plausibility(result: dict[str, Any], course: _Course, options: ImportOptions) -> list[str]:
    warnings = []
    target = result["target"]
    if result["coverage"] < options.min_coverage:
        warnings.append(
            f"coverage of target {target!r} is {100 * result['coverage']:.1f} % (below "
            f"{100 * options.min_coverage:g} %): is it the target? (map a target by hand)"
        )
    registered = (course.dosimetry or {}).get("tv_cc")
    if registered and course.dosimetry and course.dosimetry.get("source") == "tps":
        low, high = options.tv_ratio
        ratio = result["tv_cc"] / float(registered)
        if not low <= ratio <= high:
            warnings.append(
                f"target {target!r} is {result['tv_cc']:.1f} cm3, {ratio:.2f} x the "
                f"registered TV ({float(registered):g} cm3)"
            )
    return warnings
