"""Competing-risks input: follow-up times and a status code per row (censored or which event).

Shared by ``cumulative_incidence`` and ``gray_test``. As in R's cmprsk, every row whose status is
not ``censor_code`` ended with an event; ``cause_codes`` only chooses which causes are reported
(default: every event code present, in sorted order). Every other event competes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.stats._validate import (
    BoolArray,
    FloatArray,
    IntArray,
    SurvivalInputError,
    as_labels,
    as_times,
)


@dataclass(frozen=True)
class CompetingData:
    """Checked input: times, status codes (0..L-1 into ``status_levels``), causes to report."""

    time: FloatArray
    status_codes: IntArray
    status_levels: NDArray[Any]
    event: BoolArray  # status != censor_code
    causes: NDArray[Any]  # the cause codes reported, in order
    cause_level: IntArray  # position of each reported cause in status_levels

    @property
    def n(self) -> int:
        return int(self.time.shape[0])

    def is_cause(self, j: int) -> BoolArray:
        """Rows that failed from the ``j``-th reported cause."""
        out: BoolArray = self.status_codes == self.cause_level[j]
        return out


def _is_text(levels: NDArray[Any]) -> bool:
    return levels.dtype.kind in "USO" and any(isinstance(v, str) for v in levels.tolist())


def competing_data(
    time: ArrayLike, status: ArrayLike, cause_codes: ArrayLike | None, censor_code: Any
) -> CompetingData:
    """Check times (finite, >= 0) and status codes; resolve the causes to report."""
    t = as_times(time)
    if t.shape[0] == 0:
        raise SurvivalInputError("time: no rows to analyse")
    codes, levels = as_labels(status, t.shape[0], "status")
    if _is_text(levels) != isinstance(censor_code, str):
        raise SurvivalInputError(
            f"censor_code: {censor_code!r} cannot mark censoring in status codes "
            f"{levels.tolist()} (one is text, the other is not)"
        )
    censored_level = np.flatnonzero(levels == censor_code)
    event = np.ones(t.shape[0], dtype=bool)
    if censored_level.shape[0]:
        event = codes != censored_level[0]
    observed = [v for v in levels.tolist() if v != censor_code]
    if cause_codes is None:
        wanted = observed
    else:
        wanted = np.atleast_1d(np.asarray(cause_codes)).tolist()
        for code in wanted:
            if code == censor_code:
                raise SurvivalInputError(f"cause_codes: {code!r} is the censor_code, not a cause")
            if code not in observed:
                raise SurvivalInputError(
                    f"cause_codes: {code!r} never occurs in status (event codes present: "
                    f"{observed})"
                )
        if len(set(wanted)) != len(wanted):
            raise SurvivalInputError(f"cause_codes: {wanted} lists a cause twice")
    if not wanted:
        raise SurvivalInputError(
            f"status: no events, every row is censored (censor_code {censor_code!r})"
        )
    level_of = {v: i for i, v in enumerate(levels.tolist())}
    cause_level = np.array([level_of[c] for c in wanted], dtype=np.intp)
    return CompetingData(t, codes, levels, event, levels[cause_level], cause_level)


def optional_labels(
    labels: ArrayLike | None, n: int, name: str
) -> tuple[IntArray, NDArray[Any] | None]:
    """Codes 0..k-1 and levels of ``labels``, or all zeros and ``None`` when not given."""
    if labels is None:
        return np.zeros(n, dtype=np.intp), None
    return as_labels(labels, n, name)
