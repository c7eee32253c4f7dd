"""Per-lesion course of a registry study: best response (RECIST 1.1 categories, best change of
the longest diameter) with objective response and disease control rates, and the timeline of
each lesion for the swimmer plot.

Best response of a lesion: the best category of its follow-up scans up to and including its
first local failure, ordered CR > PR > SD > PD > NE (RECIST 1.1 best overall response, without
the minimum duration for SD); NE when no follow-up scan was measured. Best change: the smallest
change of the longest diameter from baseline (%) over the same scans. Objective response rate
(ORR) = (CR + PR) / all treated lesions, disease control rate (DCR) = (CR + PR + SD) / all
treated lesions, NE included in the denominator; exact (Clopper-Pearson) limits, as R's
``binom.test``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rtoutcomes.results.model import Proportion, ResponseFacts, SwimmerLane
from rtoutcomes.study.cohort import DAYS_PER_MONTH
from rtoutcomes.study.registry_table import RegistryData, dates

if TYPE_CHECKING:
    import pandas as pd

CATEGORIES = ("CR", "PR", "SD", "PD", "NE")


def exact_interval(events: int, n: int, conf_level: float) -> Proportion:
    """Proportion with Clopper-Pearson limits, R's ``binom.test``: the beta quantiles
    ``qbeta(alpha/2, x, n - x + 1)`` and ``qbeta(1 - alpha/2, x + 1, n - x)`` (scipy.special's
    ``betaincinv`` through ``stats.beta_ppf``, without the package's slow ``__init__``);
    ``None`` when n = 0."""
    from rtoutcomes.stats import beta_ppf

    if n == 0:
        return {"events": 0, "n": 0, "estimate": None, "lower": None, "upper": None}
    alpha = (1 - conf_level) / 2
    lower = 0.0 if events == 0 else float(beta_ppf(alpha, events, n - events + 1))
    upper = 1.0 if events == n else float(beta_ppf(1 - alpha, events + 1, n - events))
    return {"events": events, "n": n, "estimate": events / n, "lower": lower, "upper": upper}


def best_responses(scans: pd.DataFrame) -> pd.DataFrame:
    """Per lesion of ``recist.assess_lesions`` output: ``best_response`` and ``best_change_pct``
    over the follow-up scans up to and including the first local failure."""
    import numpy as np
    import pandas as pd

    lesion = scans["lesion_id"]
    after_failure = (
        scans["local_failure"]
        .astype(int)
        .groupby(lesion)
        .cumsum()
        .groupby(lesion)
        .shift(1, fill_value=0)
        > 0
    )
    follow = (scans["role"] == "follow-up") & ~after_failure
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    ranked = scans["response"].map(rank).where(follow)
    best = ranked.groupby(lesion).min()
    change = scans["change_from_baseline_pct"].where(follow & scans["longest_diameter_mm"].notna())
    out = pd.DataFrame({"lesion_id": sorted(lesion.unique())}).set_index("lesion_id")
    out["best_response"] = best.reindex(out.index).map(
        lambda r: "NE" if pd.isna(r) else CATEGORIES[int(r)]
    )
    out["best_change_pct"] = change.groupby(lesion).min().reindex(out.index)
    out.loc[~np.isfinite(out["best_change_pct"].astype(float)), "best_change_pct"] = np.nan
    return out.reset_index()


def response_facts(data: RegistryData, rule: Any, conf_level: float) -> ResponseFacts:
    """Best response of every treated lesion, counts per category, ORR and DCR."""
    import pandas as pd

    from rtoutcomes.clinical.recist import assess_lesions

    lesions = data.lesions
    assessments = data.tables.get("assessments")
    starts = dict(zip(lesions["lesion_id"].astype(str), lesions["start_date"], strict=True))
    if assessments is None or len(assessments) == 0:
        best = pd.DataFrame(
            {
                "lesion_id": lesions["lesion_id"].astype(str),
                "best_response": "NE",
                "best_change_pct": float("nan"),
            }
        )
    else:
        scans = assess_lesions(assessments, starts, rule)
        best = best_responses(scans)
    best = lesions[["lesion_id", "patient_id"]].astype(str).merge(best, on="lesion_id", how="left")
    best["best_response"] = best["best_response"].fillna("NE")
    counts = {c: int((best["best_response"] == c).sum()) for c in CATEGORIES}
    n = len(best)
    return {
        "lesions": [
            {
                "lesion_id": lid,
                "patient_id": pid,
                "best_response": resp,
                "best_change_pct": None if pd.isna(change) else float(change),
            }
            for lid, pid, resp, change in zip(
                best["lesion_id"],
                best["patient_id"],
                best["best_response"],
                best["best_change_pct"],
                strict=True,
            )
        ],
        "counts": counts,
        "orr": exact_interval(counts["CR"] + counts["PR"], n, conf_level),
        "dcr": exact_interval(counts["CR"] + counts["PR"] + counts["SD"], n, conf_level),
        "conf_level": conf_level,
    }


def swimmer_lanes(data: RegistryData, unit: str) -> list[SwimmerLane]:
    """One lane per lesion from its SBRT start: courses, scans, local failure, the patient's
    progression and death, and whether the patient was alive at the last follow-up.

    The dates are turned into whole days once per column (nanoseconds since 1970, floored as
    ``Timedelta.days``); each lane's times are then the same Python float arithmetic as per
    lesion (thousands of lesions: pandas scalars per lane cost more than the rest)."""
    scale = 1.0 if unit == "days" else DAYS_PER_MONTH
    lesions, patients = data.lesions, data.patients
    patient_ids = patients["patient_id"].astype(str).tolist()
    first_ns = dict(zip(patient_ids, _nanoseconds(patients["first_sbrt_date"]), strict=True))
    os_time = dict(zip(patient_ids, patients["os_time"].astype(float).tolist(), strict=True))
    died_of = dict(zip(patient_ids, patients["os_event"].tolist(), strict=True))
    pfs_event = dict(zip(patient_ids, patients["pfs_event"].tolist(), strict=True))
    pfs_time = dict(zip(patient_ids, patients["pfs_time"].astype(float).tolist(), strict=True))
    course_days = _dates_by_lesion(data.tables["sbrt_courses"], "start_date")
    scan_days = _dates_by_lesion(data.tables.get("assessments"), "assessment_date")
    lanes: list[SwimmerLane] = []
    for lesion_id, patient_id, origin, lc_time, lc_event in zip(
        lesions["lesion_id"].tolist(),
        lesions["patient_id"].astype(str).tolist(),
        _nanoseconds(lesions["start_date"]),
        lesions["lc_time"].astype(float).tolist(),
        lesions["lc_event"].tolist(),
        strict=True,
    ):
        first = first_ns[patient_id]
        days = float("nan") if origin is None or first is None else (origin - first) // NS_PER_DAY
        offset = days / scale
        end = max(os_time[patient_id] - offset, lc_time, 0.0)
        died = bool(died_of[patient_id])
        progressed, progression_time = bool(pfs_event[patient_id]), pfs_time[patient_id] - offset
        progression = (
            progression_time
            if progressed
            and not (died and abs(progression_time - (os_time[patient_id] - offset)) < 1e-9)
            else None
        )
        lanes.append(
            {
                "lesion_id": str(lesion_id),
                "patient_id": patient_id,
                "end": end,
                "courses": _times_since(course_days.get(lesion_id, []), origin, scale),
                "scans": _times_since(scan_days.get(lesion_id, []), origin, scale),
                "local_failure": lc_time if lc_event else None,
                "progression": progression if progression is None or progression >= 0 else 0.0,
                "death": end if died else None,
                "alive": not died,
            }
        )
    return lanes


def _nanoseconds(column: pd.Series) -> list[int | None]:
    """A date column as nanoseconds since 1970 (``None`` where missing)."""
    when = dates(column)
    ns = when.to_numpy().astype("int64").tolist()
    return [None if missing else value for value, missing in zip(ns, when.isna(), strict=True)]


def swimmer_table(lanes: list[SwimmerLane]) -> pd.DataFrame:
    """analysis/swimmer.csv: every lane of the swimmer plot, one row per lesion (the plot may
    show a selection: ``figures.swimmer_lanes``). Times in the study's unit from the lesion's
    SBRT start; ``courses`` and ``scans`` list their times separated by spaces (12 significant
    digits, as the other analysis files)."""
    import pandas as pd

    def times(values: list[float]) -> str:
        return " ".join(f"{t:.12g}" for t in values)

    return pd.DataFrame(
        {
            "lesion_id": [lane["lesion_id"] for lane in lanes],
            "patient_id": [lane["patient_id"] for lane in lanes],
            "end": [lane["end"] for lane in lanes],
            "alive": ["yes" if lane["alive"] else "no" for lane in lanes],
            "local_failure": [lane["local_failure"] for lane in lanes],
            "progression": [lane["progression"] for lane in lanes],
            "death": [lane["death"] for lane in lanes],
            "courses": [times(lane["courses"]) for lane in lanes],
            "scans": [times(lane["scans"]) for lane in lanes],
        },
        columns=[
            "lesion_id",
            "patient_id",
            "end",
            "alive",
            "local_failure",
            "progression",
            "death",
            "courses",
            "scans",
        ],
    )


def _dates_by_lesion(frame: pd.DataFrame | None, column: str) -> dict[object, list[int]]:
    """The dates of ``column`` per lesion (nanoseconds since 1970; missing dates left out),
    grouped once instead of one scan of the table per lesion."""
    if frame is None or not len(frame):
        return {}
    when = dates(frame[column])
    known = when.notna().to_numpy()
    grouped: dict[object, list[int]] = {}
    for lesion, ns in zip(
        frame["lesion_id"].to_numpy()[known],
        when.to_numpy()[known].astype("int64").tolist(),
        strict=True,
    ):
        grouped.setdefault(lesion, []).append(ns)
    return grouped


def _times_since(ns_dates: list[int], origin: int | None, scale: float) -> list[float]:
    """Whole days (floored, as ``Timedelta.days``) from ``origin`` (ns since 1970; ``None``:
    no start) to each date on or after it, in ``scale`` days, sorted."""
    if origin is None:
        return []
    days = [(ns - origin) // NS_PER_DAY for ns in ns_dates]
    return sorted(float(d) / scale for d in days if d >= 0)


NS_PER_DAY = 86_400 * 10**9
