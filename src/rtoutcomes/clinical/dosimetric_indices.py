"""Plan quality indices of a target from volumes (cm3) and doses (Gy).

Notation: TV target volume, PIV prescription isodose volume (everything receiving at least the
prescription dose), TV_PIV the part of TV inside PIV, V50% the volume receiving at least half
the prescription; D2, D50, D98 the doses covering 2, 50, 98 % of TV; Dmax, Drx (Gy).

Every function checks its input against geometry (TV_PIV can exceed neither TV nor PIV,
V50% cannot be smaller than PIV, volumes and doses are finite and positive) and raises
:class:`DosimetricIndexError` naming the quantity and the rule otherwise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from rtoutcomes.errors import RtOutcomesError

__all__ = [
    "DosimetricIndexError",
    "TargetIndices",
    "ci_rtog",
    "coverage",
    "gradient_index",
    "hi_icru83",
    "hi_rtog",
    "nci",
    "paddick_ci",
    "target_indices",
]

#: relative slack for volume inequalities, for volumes computed on a grid in floating point
_REL_TOL = 1e-9


class DosimetricIndexError(RtOutcomesError, ValueError):
    """Volumes or doses that no plan can have (TV_PIV > TV, negative volume ...)."""


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise DosimetricIndexError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _non_negative(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise DosimetricIndexError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _at_most(name: str, value: float, bound_name: str, bound: float) -> None:
    if value > bound * (1 + _REL_TOL):
        raise DosimetricIndexError(
            f"{name} ({value:g}) cannot exceed {bound_name} ({bound:g}): impossible geometry"
        )


def _overlap(tv_cc: float, piv_cc: float, tv_piv_cc: float) -> tuple[float, float, float]:
    tv = _positive("TV (cm3)", tv_cc)
    piv = _non_negative("PIV (cm3)", piv_cc)
    tv_piv = _non_negative("TV_PIV (cm3)", tv_piv_cc)
    _at_most("TV_PIV (cm3)", tv_piv, "TV", tv)
    _at_most("TV_PIV (cm3)", tv_piv, "PIV", piv)
    return tv, piv, tv_piv


def coverage(tv_cc: float, tv_piv_cc: float) -> float:
    """Target coverage TV_PIV / TV (fraction, 0..1).

    The target coverage ratio of Paddick I., "A simple scoring ratio to index the conformity
    of radiosurgical treatment plans", J Neurosurg 2000;93(Suppl 3):219-222.
    """
    tv = _positive("TV (cm3)", tv_cc)
    tv_piv = _non_negative("TV_PIV (cm3)", tv_piv_cc)
    _at_most("TV_PIV (cm3)", tv_piv, "TV", tv)
    return tv_piv / tv


def ci_rtog(piv_cc: float, tv_cc: float) -> float:
    """RTOG conformity index PIV / TV (1 = ideal; it cannot see a PIV that misses the target).

    Shaw E. et al., "Radiation Therapy Oncology Group: radiosurgery quality assurance
    guidelines", Int J Radiat Oncol Biol Phys 1993;27:1231-1239.
    """
    return _non_negative("PIV (cm3)", piv_cc) / _positive("TV (cm3)", tv_cc)


def paddick_ci(tv_cc: float, piv_cc: float, tv_piv_cc: float) -> float:
    """Paddick conformity index TV_PIV^2 / (TV x PIV), 0..1 (1 = ideal).

    Paddick I., J Neurosurg 2000;93(Suppl 3):219-222.
    """
    tv, piv, tv_piv = _overlap(tv_cc, piv_cc, tv_piv_cc)
    if piv == 0:
        return 0.0
    return tv_piv**2 / (tv * piv)


def nci(tv_cc: float, piv_cc: float, tv_piv_cc: float) -> float:
    """New conformity index TV x PIV / TV_PIV^2 (>= 1; 1 = ideal), the inverse of Paddick's.

    Nakamura J.L. et al., "Dose conformity of gamma knife radiosurgery and risk factors for
    complications", Int J Radiat Oncol Biol Phys 2001;51:1313-1319.
    """
    tv, piv, tv_piv = _overlap(tv_cc, piv_cc, tv_piv_cc)
    if tv_piv == 0:
        raise DosimetricIndexError(
            "nCI is undefined when TV_PIV = 0 (the isodose misses the target)"
        )
    return tv * piv / tv_piv**2


def hi_rtog(dmax_gy: float, prescription_gy: float) -> float:
    """RTOG homogeneity index Dmax / Dprescription (maximum dose over prescription dose).

    Shaw E. et al., Int J Radiat Oncol Biol Phys 1993;27:1231-1239.
    """
    return _positive("Dmax (Gy)", dmax_gy) / _positive("prescription dose (Gy)", prescription_gy)


def hi_icru83(d2_gy: float, d98_gy: float, d50_gy: float) -> float:
    """ICRU 83 homogeneity index (D2 - D98) / D50 (0 = perfectly homogeneous).

    ICRU Report 83, "Prescribing, recording, and reporting photon-beam intensity-modulated
    radiation therapy (IMRT)", J ICRU 2010;10(1), section 3.7.
    """
    d2 = _non_negative("D2 (Gy)", d2_gy)
    d98 = _non_negative("D98 (Gy)", d98_gy)
    d50 = _positive("D50 (Gy)", d50_gy)
    if not d98 <= d50 * (1 + _REL_TOL) or not d50 <= d2 * (1 + _REL_TOL):
        raise DosimetricIndexError(
            f"doses must satisfy D98 <= D50 <= D2, got D98={d98:g}, D50={d50:g}, D2={d2:g} Gy"
        )
    return (d2 - d98) / d50


def gradient_index(v50_cc: float, piv_cc: float) -> float:
    """Paddick gradient index V50% / PIV (>= 1; lower = steeper fall-off outside the target).

    Paddick I., Lippitz B., "A simple dose gradient measurement tool to complement the
    conformity index", J Neurosurg 2006;105(Suppl):194-201.
    """
    v50 = _non_negative("V50% (cm3)", v50_cc)
    piv = _positive("PIV (cm3)", piv_cc)
    if v50 < piv * (1 - _REL_TOL):
        raise DosimetricIndexError(
            f"V50% ({v50:g} cm3) cannot be smaller than PIV ({piv:g} cm3): impossible geometry"
        )
    return v50 / piv


@dataclass(frozen=True)
class TargetIndices:
    """All indices of one target; volumes in cm3, doses in Gy, coverage as a fraction."""

    tv_cc: float
    piv_cc: float
    tv_piv_cc: float
    coverage: float
    ci_rtog: float
    paddick_ci: float
    nci: float | None
    hi_rtog: float
    hi_icru83: float
    gradient_index: float | None

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def target_indices(
    *,
    tv_cc: float,
    piv_cc: float,
    tv_piv_cc: float,
    v50_cc: float,
    dmax_gy: float,
    d2_gy: float,
    d50_gy: float,
    d98_gy: float,
    prescription_gy: float,
) -> TargetIndices:
    """Every index at once; nCI is None when TV_PIV = 0 and the gradient index when PIV = 0."""
    tv, piv, tv_piv = _overlap(tv_cc, piv_cc, tv_piv_cc)
    return TargetIndices(
        tv_cc=tv,
        piv_cc=piv,
        tv_piv_cc=tv_piv,
        coverage=coverage(tv, tv_piv),
        ci_rtog=ci_rtog(piv, tv),
        paddick_ci=paddick_ci(tv, piv, tv_piv),
        nci=nci(tv, piv, tv_piv) if tv_piv > 0 else None,
        hi_rtog=hi_rtog(dmax_gy, prescription_gy),
        hi_icru83=hi_icru83(d2_gy, d98_gy, d50_gy),
        gradient_index=gradient_index(v50_cc, piv) if piv > 0 else None,
    )
