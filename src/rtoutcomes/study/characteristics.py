"""Table 1 of a study on a flat analysis table: each covariate described as gtsummary's
``tbl_summary`` does (n (%) per level with missing values as "Unknown"; median (IQR) and range
with the number missing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtoutcomes.results.model import Characteristic, Spread
from rtoutcomes.study.cohort import UNKNOWN
from rtoutcomes.study.covariates import level_codes, numeric_column
from rtoutcomes.study.spec import Study

if TYPE_CHECKING:
    import pandas as pd


def spread(values: pd.Series) -> Spread:
    """Median, quartiles (linear interpolation, R's type 7) and range of the non-missing."""
    import numpy as np

    array = values.dropna().to_numpy(dtype=float)
    if array.size == 0:
        return {"median": None, "q1": None, "q3": None, "min": None, "max": None}
    q1, median, q3 = np.quantile(array, [0.25, 0.5, 0.75])
    return {
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "min": float(array.min()),
        "max": float(array.max()),
    }


def characteristics(study: Study, table: pd.DataFrame) -> dict[str, Characteristic]:
    """Every covariate of the study file, described on the rows of ``table``."""
    import numpy as np

    found: dict[str, Characteristic] = {}
    for name, covariate in study.covariates.items():
        entry: Characteristic = {
            "label": covariate.display,
            "type": covariate.type,
            "unit": covariate.unit,
            "n": len(table),
            "missing": 0,
            "levels": None,
            "spread": None,
        }
        if covariate.type == "continuous":
            values = numeric_column(table, covariate.column, f"covariate '{name}'")
            entry["missing"] = int(values.isna().sum())
            entry["spread"] = spread(values)
        else:
            coded = level_codes(covariate, table)
            counts = np.bincount(coded.codes + 1, minlength=len(coded.levels) + 1)
            entry["missing"] = int(counts[0])
            levels = {lv: int(n) for lv, n in zip(coded.levels, counts[1:], strict=True)}
            if entry["missing"]:
                levels[UNKNOWN] = entry["missing"]
            entry["levels"] = levels
        found[name] = entry
    return found
