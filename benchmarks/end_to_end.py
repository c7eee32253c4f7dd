"""End to end: the commands users run, at registry scale, against an R script doing the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20261130
STUDY = """\
title: End-to-end benchmark (synthetic)
data: {data}
time_unit: days
rates_at: [365, 730, 1095]
km: {{conf_type: log, conf_level: 0.95}}
cox: {{ties: efron}}
endpoints:
  OS: {{time: time, event: status, event_values: [1]}}
covariates:
  grade: {{column: grade, type: categorical, reference: "G1", recode: {{G1: [1], G2-G3: [2, 3]}}}}
  size: {{column: size_cm, type: binary, cut: 5, labels: ["<=5 cm", ">5 cm"]}}
  age: {{column: age, type: continuous, per: 10, unit: years}}
  sex: {{column: sex, type: categorical, reference: male}}
analyses:
  groups: [grade, size]
  univariate: [grade, size, age, sex]
  multivariate: {{OS: [grade, size, age, sex]}}
"""


def write_analysis_table(n: int, path: Path, seed: int = SEED) -> None:
    """One row per patient: whole-day times (many ties), ~30% censored, a few missing cells."""
    rng = np.random.default_rng(seed)
    grade = rng.integers(1, 4, n)
    size = np.round(rng.lognormal(1.4, 0.5, n), 1)
    age = rng.integers(18, 90, n)
    male = rng.random(n) < 0.55
    risk = 0.3 * (grade - 1) + 0.4 * (size > 5) + 0.02 * (age - 60) + 0.1 * male
    event_day = np.ceil(rng.exponential(900.0 * np.exp(-risk)))
    censor_day = np.ceil(rng.uniform(30.0, 3650.0, n))
    time = np.minimum(event_day, censor_day)
    status = (event_day <= censor_day).astype(int)
    grade_text = grade.astype(str).astype(object)
    grade_text[rng.random(n) < 0.02] = ""  # unknown grade: dropped per model
    sex = np.where(male, "male", "female")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("patient_id,time,status,grade,size_cm,age,sex\n")
        rows = zip(range(1, n + 1), time.astype(int), status, grade_text, size, age, sex,
                   strict=True)
        f.writelines(f"P{i},{t},{s},{g},{z},{a},{x}\n" for i, t, s, g, z, a, x in rows)


def write_study(path: Path, data: Path) -> None:
    path.write_text(STUDY.format(data=data), encoding="utf-8")
