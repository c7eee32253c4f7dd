"""Pointwise confidence limits for a survival curve, on R survfit's three classic scales.

``conf_type`` takes R's names: "plain" (S ± z·se(S), clipped to [0, 1]), "log" (R's default:
exp(log S ± z·se(log S)), upper clipped at 1) and "log-log" (on log(-log S)). Where a scale is
undefined (S = 0 for "log"; S = 0 or 1 for "log-log") the limits are NaN, as R's NA.
"""

from __future__ import annotations

import numpy as np

from rtoutcomes.stats._distributions import norm_ppf
from rtoutcomes.stats._validate import FloatArray, SurvivalInputError

CONF_TYPES = ("plain", "log", "log-log")


def check_conf(conf_type: str, conf_level: float) -> float:
    """Validate the options; return the two-sided normal quantile z for ``conf_level``."""
    if conf_type not in CONF_TYPES:
        raise SurvivalInputError(
            f"conf_type: {conf_type!r} is not one of {', '.join(map(repr, CONF_TYPES))}"
        )
    if not 0.0 < float(conf_level) < 1.0:
        raise SurvivalInputError(f"conf_level: {conf_level!r} must lie strictly between 0 and 1")
    return float(norm_ppf(1.0 - (1.0 - float(conf_level)) / 2.0))


def survival_limits(
    surv: FloatArray, se_log: FloatArray, conf_type: str, z: float
) -> tuple[FloatArray, FloatArray]:
    """(lower, upper) for survival ``surv`` whose log has standard error ``se_log``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = se_log * surv * z
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            log_s = np.log(np.where(surv == 0.0, np.nan, surv))
            return np.exp(log_s - z * se_log), np.minimum(np.exp(log_s + z * se_log), 1.0)
        xx = np.where((surv == 0.0) | (surv == 1.0), np.nan, surv)
        log_s = np.log(xx)
        shift = z * se_log / log_s
        loglog = np.log(-log_s)
        return np.exp(-np.exp(loglog - shift)), np.exp(-np.exp(loglog + shift))
