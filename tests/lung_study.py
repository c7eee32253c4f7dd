"""Covariates of survival's lung data as the lung study defines them (tests/data/study_lung.yaml),
for tests that write their own study files on the lung table or its three-centre version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LUNG_STUDY = Path(__file__).resolve().parent / "data" / "study_lung.yaml"


def lung_covariates(*names: str) -> dict[str, dict[str, Any]]:
    """The named covariates of the lung study file, in the order given (fresh copies)."""
    covariates = yaml.safe_load(LUNG_STUDY.read_text(encoding="utf-8"))["covariates"]
    return {name: covariates[name] for name in names}
