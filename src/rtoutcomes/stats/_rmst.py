"""Restricted mean survival time (RMST): the area under the Kaplan-Meier curve up to tau.

Per group, as R survival's ``rmean`` (``print(survfit(...), rmean = tau)``): the area of the
step curve from 0 to tau, and its standard error sqrt(sum_j A_j^2 d_j / (n_j (n_j - d_j))) over
the times t_j <= tau, A_j the area from t_j to tau (0 where n_j = d_j). Two groups are compared
as survRM2 defines it (Uno et al. 2014, J Clin Oncol 32:2380; Royston and Parmar 2013):
the difference RMST_1 - RMST_0 with standard error sqrt(v_1 + v_0), and the ratio RMST_1 / RMST_0
with the standard error of its log sqrt(v_1 / RMST_1^2 + v_0 / RMST_0^2); normal limits and
two-sided p-values. ``rmtl`` (restricted mean time lost) is tau - RMST with the same error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from rtoutcomes.stats._distributions import norm_ppf, norm_sf
from rtoutcomes.stats._kaplan_meier import KaplanMeier, kaplan_meier
from rtoutcomes.stats._validate import FloatArray, SurvivalInputError
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Contrast:
    """A two-group contrast: estimate, limits, p (and the standard error on its scale)."""

    estimate: float
    std_err: float  # of the difference; of the log ratio for a ratio
    lower: float
    upper: float
    p: float


@dataclass(frozen=True, repr=False)
class Rmst(TabularResult):
    """RMST at ``tau`` per group (``levels``; one entry without groups), and for exactly two
    groups the difference and ratio of the second level against the first."""

    tau: float
    levels: tuple[Any, ...]
    rmst: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_level: float
    difference: Contrast | None
    ratio: Contrast | None

    @property
    def rmtl(self) -> FloatArray:
        """Restricted mean time lost, tau - RMST (same standard error)."""
        out: FloatArray = self.tau - self.rmst
        return out

    def _headline(self) -> str:
        text = f"tau = {self.tau:g}"
        if self.difference is not None and self.ratio is not None:
            d, r = self.difference, self.ratio
            text += (
                f", difference {d.estimate:.4g} ({d.lower:.4g} to {d.upper:.4g}, "
                f"p = {d.p:.3g}), ratio {r.estimate:.4g} ({r.lower:.4g}-{r.upper:.4g})"
            )
        return text

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        level = f"{100 * self.conf_level:g}%"
        return pd.DataFrame(
            {
                "rmst": self.rmst,
                "std_err": self.std_err,
                f"lower {level}": self.lower,
                f"upper {level}": self.upper,
                "rmtl": self.rmtl,
            },
            index=pd.Index(list(self.levels), name="group"),
        )

    def contrasts_frame(self) -> pd.DataFrame:
        """The difference and ratio (second level vs first) as a table."""
        import pandas as pd

        if self.difference is None or self.ratio is None:
            raise SurvivalInputError("contrasts: needs exactly two groups")
        rows = {"difference": self.difference, "ratio": self.ratio}
        level = f"{100 * self.conf_level:g}%"
        return pd.DataFrame(
            {
                "estimate": [c.estimate for c in rows.values()],
                f"lower {level}": [c.lower for c in rows.values()],
                f"upper {level}": [c.upper for c in rows.values()],
                "p": [c.p for c in rows.values()],
            },
            index=list(rows),
        )


def curve_rmst(fit: KaplanMeier, tau: float) -> tuple[float, float]:
    """(RMST, its standard error) of one Kaplan-Meier curve up to ``tau`` (R's survmean)."""
    keep = fit.time <= tau
    time = np.append(fit.time[keep], tau)
    surv = fit.survival[keep]
    n, d = fit.n_risk[keep], fit.n_event[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    heights = np.concatenate(([1.0], surv))  # S on [0, t_1), [t_1, t_2), ..., [t_k, tau]
    rectangles = np.diff(np.concatenate(([0.0], time))) * heights
    after = np.cumsum(rectangles[::-1])[::-1][1:]  # area from t_j to tau, j = 1..k
    return float(rectangles.sum()), float(np.sqrt(np.sum(after * after * hh)))


def rmst(
    time: ArrayLike,
    event: ArrayLike,
    tau: float,
    *,
    group: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    conf_level: float = 0.95,
    nan_policy: str = "omit",
) -> Rmst:
    """Restricted mean survival time up to ``tau`` (same unit as ``time``), per ``group``.

    With two groups, ``difference`` and ``ratio`` compare the second level (sorted) with the
    first, as survRM2's rmst2 (arm 1 vs arm 0). ``tau`` may exceed a group's last time (its
    curve is then extended flat, as R's rmean); it must be > 0.
    """
    tau = float(tau)
    if not (np.isfinite(tau) and tau > 0):
        raise SurvivalInputError(f"tau: {tau!r} must be a finite time > 0")
    if not 0.0 < float(conf_level) < 1.0:
        raise SurvivalInputError(f"conf_level: {conf_level!r} must lie strictly between 0 and 1")
    z = float(norm_ppf(1.0 - (1.0 - float(conf_level)) / 2.0))
    if group is None:
        curves: list[tuple[Any, KaplanMeier]] = [
            ("all", kaplan_meier(time, event, weights=weights, nan_policy=nan_policy))
        ]
    else:
        fits = kaplan_meier(time, event, group=group, weights=weights, nan_policy=nan_policy)
        curves = list(fits.fits.items())
    pairs = [curve_rmst(fit, tau) for _, fit in curves]
    est = np.array([p[0] for p in pairs])
    se = np.array([p[1] for p in pairs])
    difference = ratio = None
    if len(curves) == 2:
        diff = float(est[1] - est[0])
        se_diff = float(np.hypot(se[1], se[0]))
        difference = Contrast(
            diff,
            se_diff,
            diff - z * se_diff,
            diff + z * se_diff,
            float(2 * norm_sf(abs(diff / se_diff))),
        )
        log_ratio = float(np.log(est[1] / est[0]))
        se_log = float(np.sqrt((se[1] / est[1]) ** 2 + (se[0] / est[0]) ** 2))
        ratio = Contrast(
            float(np.exp(log_ratio)),
            se_log,
            float(np.exp(log_ratio - z * se_log)),
            float(np.exp(log_ratio + z * se_log)),
            float(2 * norm_sf(abs(log_ratio / se_log))),
        )
    return Rmst(
        tau=tau,
        levels=tuple(level for level, _ in curves),
        rmst=est,
        std_err=se,
        lower=est - z * se,
        upper=est + z * se,
        conf_level=float(conf_level),
        difference=difference,
        ratio=ratio,
    )
