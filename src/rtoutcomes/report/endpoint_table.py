"""Supplementary table: every treated lesion's endpoints with the reason for each (the date,
rule and source that gave the time and status), from the analysis rows (analysis/<endpoint>.csv).

A large registry would make it hundreds of pages, so the report shows at most ``MAX_ROWS``
lesions (patient and lesion order) and says where the rest are; analysis/<endpoint>.csv always
holds every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rtoutcomes.report.table import Table

if TYPE_CHECKING:
    import pandas as pd

MAX_ROWS = 200
STATUS = {1: "event", 0: "censored"}
COMPETING = {0: "censored", 1: "local failure", 2: "death without local failure"}
REASONS = {"LC": "lc_reason", "OS": "os_reason", "PFS": "pfs_reason"}


def lesion_endpoint_table(
    frames: Mapping[str, pd.DataFrame],
    units: Mapping[str, str],
    time_unit: str,
    max_rows: int = MAX_ROWS,
) -> Table | None:
    """One row per lesion: each endpoint's time, status and reason (patient endpoints repeated
    on each lesion of the patient); ``None`` without a per-lesion endpoint with reasons."""
    lesion_endpoints = [
        n
        for n, f in frames.items()
        if units.get(n) == "lesion" and REASONS.get(n) in f and "lesion_id" in f
    ]
    if not lesion_endpoints:
        return None
    base = frames[lesion_endpoints[0]][["patient_id", "lesion_id"]].drop_duplicates()
    base = base.sort_values(["patient_id", "lesion_id"], kind="stable").reset_index(drop=True)
    total = len(base)
    base = base.iloc[:max_rows]  # only the rows shown are looked up and formatted
    columns = ["Patient", "Lesion"]
    cells: list[list[str]] = [
        [p, lesion] for p, lesion in zip(base["patient_id"], base["lesion_id"], strict=True)
    ]
    for name, frame in frames.items():
        reason = REASONS.get(name, "")
        if reason not in frame:
            continue
        key = ["patient_id", "lesion_id"] if units.get(name) == "lesion" else ["patient_id"]
        wanted = [*key, "time", "status", reason] + (
            ["lc_cr_status"] if "lc_cr_status" in frame else []
        )
        joined = base.merge(frame[wanted].drop_duplicates(key), on=key, how="left")
        columns += [f"{name}: {time_unit}, status", f"{name}: reason"]
        competing = "lc_cr_status" in frame
        if competing:
            columns.insert(len(columns) - 1, f"{name}: competing risks")
        for row, (_, values) in zip(cells, joined.iterrows(), strict=True):
            row.append(_time_status(values["time"], values["status"]))
            if competing:
                row.append(_code(COMPETING, values["lc_cr_status"]))
            row.append("" if _missing(values[reason]) else str(values[reason]))
    table = Table(
        "s1_endpoints_per_lesion",
        "Endpoints of each treated lesion and the reason for each",
        columns,
        supplement=True,
    )
    for row in cells:
        table.add(*row)
    table.notes.append(
        f"Times in {time_unit} from the start of the SBRT course; status 'event' is the "
        "endpoint's event (local failure, death, progression or death), 'censored' its end of "
        "follow-up; the reason names the dates, rule and source that gave both. Patient "
        "endpoints are repeated on each lesion of the patient."
    )
    if total > max_rows:
        table.notes.append(
            f"The first {max_rows} of {total} lesions (by patient and lesion) are shown; "
            "every row is in the analysis/<endpoint>.csv files."
        )
    return table


def _missing(value: object) -> bool:
    return value is None or value != value  # None or NaN


def _time_status(time: object, status: object) -> str:
    if _missing(time) or _missing(status):
        return "not analysed"
    return f"{float(time):.1f}, {_code(STATUS, status)}"  # type: ignore[arg-type]


def _code(names: Mapping[int, str], value: object) -> str:
    if _missing(value):
        return ""
    return names.get(int(value), str(value))  # type: ignore[call-overload]
