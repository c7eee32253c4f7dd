"""A complete survival analysis from a pandas DataFrame with ``rtoutcomes.stats`` and
``rtoutcomes.plot``: describe, fit, check, predict, plot, export.

Run it as a script (``python docs/examples/full_analysis.py``); it writes its figures and
tables to the current folder. ``tests/test_docs_example.py`` runs it on every test run. The data
are simulated (a two-arm cohort with age and grade), so the numbers mean nothing clinically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rtoutcomes import plot
from rtoutcomes.stats import (
    categorical,
    cox,
    cox_zph,
    design_matrix,
    kaplan_meier,
    landmark,
    logrank,
    predict_survival,
    rmst,
)

out = Path.cwd()

# --- the data: one row per patient, follow-up in months, a few NaN as in real registries ------
rng = np.random.default_rng(20261130)
n = 240
df = pd.DataFrame(
    {
        "arm": rng.choice(["SBRT", "conventional"], n),
        "age": rng.normal(62, 10, n).round(),
        "grade": rng.choice(["G1", "G2", "G3"], n, p=[0.3, 0.4, 0.3]),
    }
)
hazard = 0.03 * np.exp(-0.5 * (df.arm == "SBRT") + 0.03 * (df.age - 62) + 0.4 * (df.grade == "G3"))
event_time = rng.exponential(1 / hazard)
censor_time = rng.uniform(12, 60, n)
df["months"] = np.minimum(event_time, censor_time).round(1)
df["dead"] = (event_time <= censor_time).astype(int)
df.loc[[3, 17], "age"] = np.nan  # missing values are dropped and counted, as R's na.omit

# --- Kaplan-Meier by arm, log-rank, restricted mean survival ---------------------------------
by_arm = kaplan_meier(df.months, df.dead, group=df.arm)
print(by_arm)  # n, events, median and limits per arm
test = logrank(df.months, df.dead, df.arm)
print(repr(test))
print(by_arm["SBRT"].at([12, 24, 36]))
restricted = rmst(df.months, df.dead, 36, group=df.arm)
print(restricted)
print(restricted.contrasts_frame())  # difference and ratio, as survRM2

# --- Cox model: categorical grade against G1, age per year, robust to nothing here ----------
X = design_matrix(
    {
        "SBRT": (df.arm == "SBRT").astype(float).to_numpy(),
        "age": df.age.to_numpy(),
        "grade": categorical(df.grade, reference="G1", name="grade"),
    }
)
fit = cox(X, df.months, df.dead)
print(fit)  # n (2 dropped), events, log-likelihood, coefficients, concordance, tests
ph = cox_zph(fit)
print(ph)  # proportional hazards: per term and global

# --- predicted curves for two patients, a 6-month landmark ----------------------------------
patients = np.array([[1.0, 55.0, 0.0, 0.0], [0.0, 75.0, 0.0, 1.0]])  # SBRT G1 vs conv. G3
curves = predict_survival(fit, patients)
print(curves.at([12, 24]))
at_6 = landmark(df.months, df.dead, 6.0)
print(repr(at_6))

# --- figures (matplotlib objects, the report's own drawing) and tables ----------------------
plot.km(by_arm, p_text=f"log-rank p = {test.p:.3f}", title="Overall survival by arm").savefig(
    out / "km_by_arm.png", dpi=150
)
plot.forest(fit, title="Cox model").savefig(out / "forest.png", dpi=150)
plot.zph(ph, "age").savefig(out / "zph_age.png", dpi=150)
fit.to_frame().to_csv(out / "cox.csv")
fit.tests_frame().to_csv(out / "cox_tests.csv")
by_arm.to_frame().to_csv(out / "km_by_arm.csv")
