"""Loading the R fixtures of Cox models (tests/reference/fixtures/cox_*.json) into model inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rtoutcomes.stats._cox import Categorical, categorical, design_matrix

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
COX_CASES = sorted(
    p.stem.removeprefix("cox_") for p in FIXTURES.glob("cox_*.json") if p.stem != "cox_lr_test"
)


def load(name: str) -> dict[str, Any]:
    with open(FIXTURES / f"{name}.json") as fh:
        return dict(json.load(fh))


def numbers(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def model_inputs(fixture: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``cox`` rebuilt from the fixture's data and covariate spec."""
    data = fixture["data"]
    columns: dict[str, np.ndarray | Categorical] = {}
    extra: dict[str, Any] = {}
    for item in fixture["spec"]:
        name, kind = item["name"], item["type"]
        if kind == "numeric":
            columns[name] = numbers(data[name])
        elif kind == "categorical":
            columns[name] = categorical(
                data[name], reference=item["reference"], levels=item["levels"], name=name
            )
        elif kind == "weights":
            extra["weights"] = numbers(data[name])
        else:  # strata or cluster labels
            extra[kind] = np.array(data[name], dtype=object)
    time: Any = (
        numbers(data["time"]) if "time" in data else (numbers(data["start"]), numbers(data["stop"]))
    )
    return {"X": design_matrix(columns), "time": time, "event": numbers(data["event"]), **extra}
