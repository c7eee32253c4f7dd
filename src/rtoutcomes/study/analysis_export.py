"""analysis/<endpoint>.csv: the rows each endpoint was analysed on, so that a statistician can
re-run the analysis elsewhere (R, SAS, Stata): identifiers, time (study time unit), status
(1 event, 0 censored), every covariate as analysed (level labels; continuous values as
recorded) and, for registry endpoints, the date, source and reason that gave each time and
status (and the competing-risks coding of local control)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtoutcomes.study.analysis import covariate_definitions
from rtoutcomes.study.covariates import levels_of, numeric_column
from rtoutcomes.study.spec import Study
from rtoutcomes.study.table import endpoint_data, usable_rows

if TYPE_CHECKING:
    import pandas as pd

ID_COLUMNS = ("patient_id", "lesion_id")
# the audit trail of each derived endpoint (rtoutcomes.clinical.endpoints)
REASON_COLUMNS = {
    "LC": (
        "lc_date",
        "lc_rule",
        "lc_source",
        "lc_source_date",
        "lc_reason",
        "lc_cr_time",
        "lc_cr_status",
    ),
    "OS": ("os_date", "os_reason"),
    "PFS": ("pfs_date", "pfs_source", "pfs_reason"),
}


def analysis_frames(study: Study, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per endpoint: the usable rows with id, time, status, covariates and reason columns."""
    import pandas as pd

    covariates = covariate_definitions(study)
    frames = {}
    for name, endpoint in study.endpoints.items():
        table = tables[name]
        data = endpoint_data(table, endpoint)
        rows = usable_rows(table, data)
        out = pd.DataFrame({c: rows[c].astype(str) for c in ID_COLUMNS if c in rows})
        if endpoint.cluster and endpoint.cluster not in out:
            out[endpoint.cluster] = rows[endpoint.cluster].astype(str)
        out["time"] = data.time
        out["status"] = data.event.astype(int)
        for cov_name, covariate in covariates.items():
            if covariate.column not in rows:
                continue
            if covariate.type == "continuous":
                out[cov_name] = numeric_column(rows, covariate.column, f"covariate '{cov_name}'")
            else:
                out[cov_name] = levels_of(covariate, rows)[0]
        for column in REASON_COLUMNS.get(name, ()) if endpoint.derived else ():
            if column in rows:
                values = rows[column]
                out[column] = values.dt.strftime("%Y-%m-%d") if hasattr(values, "dt") else values
        frames[name] = out
    return frames
