"""Biologically effective dose (BED) and equieffective doses (EQD2, EQDx).

Linear-quadratic (LQ) model, per fraction of dose d (Gy) and tissue alpha/beta (Gy)::

    BED = d * (1 + d / (alpha/beta))

summed fraction by fraction, so ``n`` equal fractions of ``D/n`` give
``BED = D * (1 + (D/n) / (alpha/beta))`` (Fowler, Br J Radiol 1989;62:679-694).
The equieffective dose in fractions of x Gy is ``EQDx = BED / (1 + x / (alpha/beta))``
(Bentzen et al., Radiother Oncol 2012;105:266-268); EQD2 is x = 2 Gy.

Linear-quadratic-linear (LQ-L) model (Astrahan M., "Some implications of linear-quadratic-
linear radiation dose-response with regard to hypofractionation", Med Phys 2008;35:4161-4172):
the LQ survival curve continues as a straight line, tangent to it, above the transition dose
d_T, with slope gamma = alpha + 2 * beta * d_T. Per fraction::

    BED = d * (1 + d / (alpha/beta))                                        for d <= d_T
    BED = d_T * (1 + d_T / (alpha/beta)) + (1 + 2 d_T / (alpha/beta)) * (d - d_T)   for d > d_T

so BED and its slope are continuous at d_T, and LQ-L equals LQ for every fraction <= d_T.
With LQ-L, EQDx divides by the BED per Gy of an x-Gy fraction under the same model.

BED values of different alpha/beta are different quantities: the :class:`BED` value type
carries its alpha/beta and refuses to be added to a BED of another alpha/beta.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rtoutcomes.errors import RtOutcomesError

__all__ = [
    "BED",
    "AlphaBetaMismatchError",
    "RadiobiologyError",
    "bed",
    "bed_gy",
    "bed_of_fractions",
    "eqd2",
    "eqdx",
    "eqdx_gy",
]

#: two BED values are taken to share alpha/beta when they agree to this absolute tolerance (Gy)
_ALPHA_BETA_ATOL_GY = 1e-9


class RadiobiologyError(RtOutcomesError, ValueError):
    """Impossible radiobiological input (negative dose, zero fractions, alpha/beta <= 0 ...)."""


class AlphaBetaMismatchError(RadiobiologyError):
    """Two BED values of different alpha/beta were combined."""


def _check_alpha_beta(alpha_beta_gy: float) -> float:
    value = float(alpha_beta_gy)
    if not math.isfinite(value) or value <= 0:
        raise RadiobiologyError(f"alpha/beta must be a finite number > 0 Gy, got {alpha_beta_gy!r}")
    return value


def _check_transition(transition_dose_gy: float | None) -> float | None:
    if transition_dose_gy is None:
        return None
    value = float(transition_dose_gy)
    if not math.isfinite(value) or value <= 0:
        raise RadiobiologyError(
            f"LQ-L transition dose d_T must be a finite number > 0 Gy, got {transition_dose_gy!r}"
        )
    return value


def _check_doses(doses: NDArray[np.float64], what: str) -> None:
    if not np.all(np.isfinite(doses)) or np.any(doses < 0):
        bad = doses[~np.isfinite(doses) | (doses < 0)]
        raise RadiobiologyError(f"{what} must be finite and >= 0 Gy, got {bad[0]!r}")


def _check_fractions(fractions: NDArray[np.float64]) -> None:
    whole = np.isfinite(fractions) & (fractions == np.round(fractions)) & (fractions >= 1)
    if not np.all(whole):
        raise RadiobiologyError(
            f"number of fractions must be a whole number >= 1, got {fractions[~whole][0]!r}"
        )


def _bed_per_fraction(
    dose_per_fraction_gy: NDArray[np.float64],
    alpha_beta_gy: float,
    transition_dose_gy: float | None,
) -> NDArray[np.float64]:
    """BED (Gy) of one fraction of ``dose_per_fraction_gy``, LQ or LQ-L (see module docstring)."""
    d = dose_per_fraction_gy
    lq = d * (1.0 + d / alpha_beta_gy)
    if transition_dose_gy is None:
        return lq
    d_t = transition_dose_gy
    linear = d_t * (1.0 + d_t / alpha_beta_gy) + (1.0 + 2.0 * d_t / alpha_beta_gy) * (d - d_t)
    return np.where(d <= d_t, lq, linear)


def bed_gy(
    total_dose_gy: ArrayLike,
    fractions: ArrayLike,
    alpha_beta_gy: float,
    *,
    transition_dose_gy: float | None = None,
) -> NDArray[np.float64]:
    """BED (Gy) of ``fractions`` equal fractions summing to ``total_dose_gy``; vectorised.

    ``transition_dose_gy`` (d_T, Gy) switches from LQ to the LQ-L model of Astrahan 2008.
    Returns a float array with the broadcast shape of the inputs (0-d for scalars).
    """
    total = np.asarray(total_dose_gy, dtype=float)
    n = np.asarray(fractions, dtype=float)
    ab = _check_alpha_beta(alpha_beta_gy)
    d_t = _check_transition(transition_dose_gy)
    _check_doses(np.atleast_1d(total), "total dose")
    _check_fractions(np.atleast_1d(n))
    return np.asarray(n * _bed_per_fraction(total / n, ab, d_t), dtype=float)


@dataclass(frozen=True, order=False)
class BED:
    """A biologically effective dose (Gy) together with the alpha/beta (Gy) it was computed for.

    Adding two BEDs of the same alpha/beta gives their sum (e.g. a boost on top of a course);
    adding BEDs of different alpha/beta raises :class:`AlphaBetaMismatchError`, because they
    describe different tissues and their sum means nothing.
    """

    gy: float
    alpha_beta_gy: float

    def __post_init__(self) -> None:
        _check_alpha_beta(self.alpha_beta_gy)
        if not math.isfinite(self.gy) or self.gy < 0:
            raise RadiobiologyError(f"a BED must be finite and >= 0 Gy, got {self.gy!r}")

    def _same_alpha_beta(self, other: BED) -> None:
        if abs(self.alpha_beta_gy - other.alpha_beta_gy) > _ALPHA_BETA_ATOL_GY:
            raise AlphaBetaMismatchError(
                f"cannot combine BED{self.alpha_beta_gy:g} ({self.gy:g} Gy) with "
                f"BED{other.alpha_beta_gy:g} ({other.gy:g} Gy): alpha/beta differ "
                f"({self.alpha_beta_gy:g} Gy vs {other.alpha_beta_gy:g} Gy)"
            )

    def __add__(self, other: object) -> BED:
        if not isinstance(other, BED):
            return NotImplemented
        self._same_alpha_beta(other)
        return BED(self.gy + other.gy, self.alpha_beta_gy)

    def __radd__(self, other: object) -> BED:
        # sum() starts from the integer 0
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented

    def __lt__(self, other: BED) -> bool:
        self._same_alpha_beta(other)
        return self.gy < other.gy

    def __le__(self, other: BED) -> bool:
        self._same_alpha_beta(other)
        return self.gy <= other.gy

    def eqdx(self, reference_dose_per_fraction_gy: float) -> float:
        """Equieffective dose (Gy) in fractions of ``reference_dose_per_fraction_gy`` (LQ)."""
        return float(eqdx_gy(self.gy, reference_dose_per_fraction_gy, self.alpha_beta_gy))

    def eqd2(self) -> float:
        """Equieffective dose in 2 Gy fractions (Gy), LQ."""
        return self.eqdx(2.0)

    def __str__(self) -> str:
        return f"BED{self.alpha_beta_gy:g} = {self.gy:.2f} Gy"


def bed(
    total_dose_gy: float,
    fractions: int,
    alpha_beta_gy: float,
    *,
    transition_dose_gy: float | None = None,
) -> BED:
    """BED of ``fractions`` equal fractions summing to ``total_dose_gy`` (Gy).

    >>> round(bed(45, 5, 10).gy, 9)  # 45 x 1.9 in floating point is 85.49999999999999
    85.5
    """
    value = bed_gy(total_dose_gy, fractions, alpha_beta_gy, transition_dose_gy=transition_dose_gy)
    return BED(float(value), float(alpha_beta_gy))


def bed_of_fractions(
    fraction_doses_gy: Sequence[float] | NDArray[np.float64],
    alpha_beta_gy: float,
    *,
    transition_dose_gy: float | None = None,
) -> BED:
    """BED of a list of (possibly unequal) fraction doses (Gy), summed fraction by fraction."""
    doses = np.asarray(fraction_doses_gy, dtype=float).ravel()
    if doses.size == 0:
        raise RadiobiologyError("a schedule needs at least one fraction dose")
    ab = _check_alpha_beta(alpha_beta_gy)
    d_t = _check_transition(transition_dose_gy)
    _check_doses(doses, "fraction dose")
    return BED(float(np.sum(_bed_per_fraction(doses, ab, d_t))), ab)


def eqdx_gy(
    bed_value_gy: ArrayLike,
    reference_dose_per_fraction_gy: float,
    alpha_beta_gy: float,
    *,
    transition_dose_gy: float | None = None,
) -> NDArray[np.float64]:
    """Convert BED (Gy) to the equieffective dose (Gy) in x-Gy fractions; vectorised.

    EQDx = BED / (BED per Gy of one x-Gy fraction); under LQ that is ``1 + x / (alpha/beta)``.
    """
    ab = _check_alpha_beta(alpha_beta_gy)
    d_t = _check_transition(transition_dose_gy)
    x = float(reference_dose_per_fraction_gy)
    if not math.isfinite(x) or x <= 0:
        raise RadiobiologyError(f"reference dose per fraction must be > 0 Gy, got {x!r}")
    per_gy = float(_bed_per_fraction(np.asarray([x]), ab, d_t)[0]) / x
    return np.asarray(np.asarray(bed_value_gy, dtype=float) / per_gy, dtype=float)


def eqdx(
    total_dose_gy: float,
    fractions: int,
    alpha_beta_gy: float,
    reference_dose_per_fraction_gy: float,
    *,
    transition_dose_gy: float | None = None,
) -> float:
    """Equieffective dose (Gy) in x-Gy fractions of ``fractions`` equal fractions."""
    value = bed_gy(total_dose_gy, fractions, alpha_beta_gy, transition_dose_gy=transition_dose_gy)
    return float(
        eqdx_gy(
            value,
            reference_dose_per_fraction_gy,
            alpha_beta_gy,
            transition_dose_gy=transition_dose_gy,
        )
    )


def eqd2(
    total_dose_gy: float,
    fractions: int,
    alpha_beta_gy: float,
    *,
    transition_dose_gy: float | None = None,
) -> float:
    """Equieffective dose in 2 Gy fractions (Gy): ``D * (d + a/b) / (2 + a/b)`` under LQ."""
    return eqdx(total_dose_gy, fractions, alpha_beta_gy, 2.0, transition_dose_gy=transition_dose_gy)
