"""Dosimetry of a plan from DICOM RT: every structure's DVH statistics and the target's indices.

PIV (prescription isodose volume) and V50% (volume receiving half the prescription) are taken
inside the body outline when the structure set has one (the ROI of interpreted type EXTERNAL,
else one named BODY or External), so that dose in air or in the couch does not count; without
a body outline, over the whole dose grid. TV is the target's whole volume (a part of it outside
the dose grid counts as not covered); Dmax, D2, D50 and D98 of the HI are the target's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from rtoutcomes.clinical.dosimetric_indices import TargetIndices, target_indices
from rtoutcomes.clinical.dvh import DVH, DvhOptions, structure_dvh
from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.tabular_result import TabularResult

if TYPE_CHECKING:
    import pandas as pd

    from rtoutcomes.io.dicom_rt import DoseGrid, Structure, StructureSet

__all__ = [
    "PlanDosimetry",
    "PlanDosimetryError",
    "choose_target",
    "plan_dosimetry",
    "total_dose_grid",
]

_MM3_PER_CC = 1000.0


class PlanDosimetryError(RtOutcomesError):
    """No prescription, no target, or a target that cannot be evaluated."""


@dataclass(frozen=True)
class PlanDosimetry(TabularResult):
    """Result of :func:`plan_dosimetry`; ``as_dict()`` is the CLI's JSON layout, ``to_frame()``
    the per-structure table (one row per ROI; cm3 and Gy)."""

    prescription_gy: float
    target_name: str
    piv_region: str
    indices: TargetIndices
    dvhs: dict[str, DVH] = field(repr=False)
    skipped: tuple[str, ...] = ()

    def registry_row(self, course_id: str) -> dict[str, object]:
        """The course's row of the registry's ``dosimetry`` table, marked ``computed``.

        Volumes to 0.001 cm3, Dmax to 0.001 Gy, coverage to 0.01 %, indices to 0.0001.
        """
        ix = self.indices
        return {
            "course_id": course_id,
            "tv_cc": round(ix.tv_cc, 3),
            "piv_cc": round(ix.piv_cc, 3),
            "tv_piv_cc": round(ix.tv_piv_cc, 3),
            "dmax_gy": round(self.dvhs[self.target_name].dmax_gy, 3),
            "coverage_pct": round(100 * ix.coverage, 2),
            "ci": round(ix.ci_rtog, 4),
            "nci": None if ix.nci is None else round(ix.nci, 4),
            "hi": round(ix.hi_rtog, 4),
            "source": "computed",
            "paddick_ci": round(ix.paddick_ci, 4),
            "hi_icru83": round(ix.hi_icru83, 4),
            "gradient_index": None if ix.gradient_index is None else round(ix.gradient_index, 4),
            "prescription_gy": round(self.prescription_gy, 4),
            "target_structure": self.target_name,
        }

    def structure_rows(
        self, course_id: str, dose_levels_gy: tuple[float, ...] = ()
    ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """Rows of ``structure_metrics`` (every contoured ROI) and ``structure_dose_volumes``
        (each ROI at each of ``dose_levels_gy``) for ``course_id``.

        Volumes to 0.001 cm3, doses to 0.0001 Gy, percentages to 0.01 %.
        """
        from rtoutcomes.clinical.structure_names import tg263_name

        metrics: list[dict[str, object]] = []
        levels: list[dict[str, object]] = []
        for name, dvh in self.dvhs.items():
            row: dict[str, object] = {
                "metric_id": f"{course_id} / {name}",
                "course_id": course_id,
                "structure": name,
                "tg263_name": tg263_name(name),
                "volume_cc": round(dvh.volume_cc, 3),
                "outside_grid_cc": round(dvh.outside_grid_cc, 3),
                "source": "computed",
            }
            empty = dvh.exact_max_gy is None
            doses = {
                "dmin_gy": None if empty else dvh.dmin_gy,
                "dmean_gy": None if empty else dvh.dmean_gy,
                "dmax_gy": None if empty else dvh.dmax_gy,
                **{f"d{p}_gy": None if empty else dvh.d_percent(p) for p in (2, 50, 95, 98)},
                "d0_03cc_gy": None if empty else dvh.d_cc(min(0.03, dvh.in_grid_cc)),
            }
            row.update({k: None if v is None else round(v, 4) for k, v in doses.items()})
            metrics.append(row)
            for level in dose_levels_gy:
                volume = dvh.v_cc(level)
                levels.append(
                    {
                        "dose_volume_id": f"{course_id} / {name} / V{level:g}Gy",
                        "course_id": course_id,
                        "structure": name,
                        "dose_gy": level,
                        "volume_cc": round(volume, 3),
                        "volume_pct": None if empty else round(100 * volume / dvh.in_grid_cc, 2),
                    }
                )
        return metrics, levels

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = {name: dvh.summary() for name, dvh in self.dvhs.items()}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("structure")

    def as_dict(self) -> dict[str, object]:
        target: dict[str, object] = {"name": self.target_name}
        target.update(self.indices.as_dict())
        return {
            "prescription_gy": self.prescription_gy,
            "structures": {name: dvh.summary() for name, dvh in self.dvhs.items()},
            "target": target,
        }


def choose_target(
    structure_set: StructureSet,
    requested: str | None,
    plan_description: str | None,
    *,
    roi_number: int | None = None,
    patterns: tuple[str, ...] = (),
) -> Structure:
    """The target ROI, by the first rule that finds one.

    ``requested`` (a name given by hand); else the ROI the plan's dose reference names: its
    ReferencedROINumber, else its description matched to a ROI name (ignoring case); else the
    first of ``patterns`` (regular expressions, matched ignoring case to the start of each
    ROI name, in the order given) that matches exactly one contoured ROI.
    """
    if requested is not None:
        return structure_set.by_name(requested)
    contoured = [s for s in structure_set.structures.values() if not s.is_empty]
    if roi_number is not None:
        for structure in contoured:
            if structure.number == roi_number:
                return structure
    if plan_description:
        for structure in contoured:
            if structure.name.lower() == plan_description.lower():
                return structure
    for pattern in patterns:
        rule = re.compile(pattern, re.IGNORECASE)
        found = [s for s in contoured if rule.match(s.name)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(s.name for s in found)
            raise PlanDosimetryError(
                f"no single target: pattern {pattern!r} matches {len(found)} ROIs ({names}); "
                "name the target by hand"
            )
    names = ", ".join(s.name for s in contoured)
    tried = f" nor the naming patterns {', '.join(patterns)}" if patterns else ""
    raise PlanDosimetryError(
        f"no target: neither the plan's prescription ({plan_description!r}){tried} names a "
        f"contoured ROI of the structure set ({names}); give the target ROI's name (--target)"
    )


def _unique_names(structures: list[Structure]) -> dict[str, Structure]:
    names: dict[str, Structure] = {}
    for structure in structures:
        clash = sum(1 for s in structures if s.name == structure.name) > 1
        names[f"{structure.name} (ROI {structure.number})" if clash else structure.name] = structure
    return names


#: dose summation types whose grid is not a whole plan's (or fraction's) dose
_PARTIAL_DOSES = ("BEAM", "BEAM_SESSION", "CONTROL_POINT", "BRACHY", "BRACHY_SESSION")


def total_dose_grid(grid: DoseGrid, fractions: int | None) -> DoseGrid:
    """The grid as a whole course's dose: one FRACTION's dose times the fractions planned.

    A PLAN (or MULTI_PLAN, RECORD ...) dose is returned as it is; a beam's, control point's or
    brachytherapy component's dose is refused, because a prescription does not apply to it.
    """
    kind = grid.summation_type.upper()
    if kind in _PARTIAL_DOSES:
        raise PlanDosimetryError(
            f"{grid.path}: DoseSummationType {kind} is part of a plan's dose; export the plan sum"
        )
    if kind in ("FRACTION", "FRACTION_SESSION"):
        if not fractions:
            raise PlanDosimetryError(
                f"{grid.path}: the dose is one fraction's (DoseSummationType {kind}); give the "
                "plan (--rtplan) so that it can be multiplied by the fractions planned"
            )
        return replace(grid, dose_gy=grid.dose_gy * fractions, summation_type="PLAN")
    return grid


def _grid_volume_at_least(grid: DoseGrid, dose_gy: float) -> float:
    """Volume (cm3) of the dose grid's voxels receiving at least ``dose_gy``."""
    dx, dy, dz = grid.spacing_mm
    return float(np.count_nonzero(grid.dose_gy >= dose_gy)) * dx * dy * dz / _MM3_PER_CC


def plan_dosimetry(
    structure_set: StructureSet,
    grid: DoseGrid,
    *,
    prescription_gy: float,
    target: Structure,
    options: DvhOptions | None = None,
) -> PlanDosimetry:
    """DVH statistics of every contoured ROI and the indices of ``target`` at the prescription."""
    if not prescription_gy > 0:
        raise PlanDosimetryError(f"prescription must be > 0 Gy, got {prescription_gy!r}")
    if target.is_empty:
        raise PlanDosimetryError(f"target {target.name!r} has no contours")
    frames = (structure_set.frame_of_reference_uid, grid.frame_of_reference_uid)
    if None not in frames and frames[0] != frames[1]:
        raise PlanDosimetryError(
            f"{structure_set.path} and {grid.path} are in different frames of reference "
            f"({frames[0]} vs {frames[1]}): the structures do not belong to this dose"
        )
    contoured = [s for s in structure_set.structures.values() if not s.is_empty]
    skipped = tuple(s.name for s in structure_set.structures.values() if s.is_empty)
    named = _unique_names(contoured)
    dvhs = {name: structure_dvh(structure, grid, options) for name, structure in named.items()}
    target_key = next(name for name, s in named.items() if s.number == target.number)
    target_dvh = dvhs[target_key]
    if target_dvh.exact_max_gy is None:
        raise PlanDosimetryError(f"target {target.name!r} lies entirely outside the dose grid")
    body = structure_set.external()
    if body is not None:
        body_dvh = dvhs[next(name for name, s in named.items() if s.number == body.number)]
        piv, v50 = body_dvh.v_cc(prescription_gy), body_dvh.v_cc(prescription_gy / 2)
        region = f"inside {body.name}"
    else:
        piv = _grid_volume_at_least(grid, prescription_gy)
        v50 = _grid_volume_at_least(grid, prescription_gy / 2)
        region = "whole dose grid"
    tv_piv = min(target_dvh.v_cc(prescription_gy), piv)  # the target may stick out of the body
    indices = target_indices(
        tv_cc=target_dvh.volume_cc,
        piv_cc=piv,
        tv_piv_cc=tv_piv,
        v50_cc=max(v50, piv),
        dmax_gy=target_dvh.dmax_gy,
        d2_gy=target_dvh.d_percent(2),
        d50_gy=target_dvh.d_percent(50),
        d98_gy=target_dvh.d_percent(98),
        prescription_gy=prescription_gy,
    )
    return PlanDosimetry(prescription_gy, target_key, region, indices, dvhs, skipped)
