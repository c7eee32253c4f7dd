"""CLI command ``dosimetry``: DVH statistics and target indices from DICOM RT files."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rtoutcomes.errors import RtOutcomesError


class DosimetryCommandError(RtOutcomesError):
    """The command's arguments do not allow a computation (no prescription ...)."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
    parser = subparsers.add_parser(
        "dosimetry",
        help="DVHs and target indices (coverage, CI, nCI, HI, GI) from DICOM RT files",
        description=(
            "Compute every structure's DVH statistics (volume, Dmax, Dmean, D2, D50, D95, D98) "
            "from an RT Structure Set and an RT Dose, and the target's coverage, conformity "
            "(RTOG, Paddick, Nakamura nCI), homogeneity (RTOG, ICRU 83) and gradient indices. "
            "PIV and V50%% are taken inside the body outline (EXTERNAL/BODY ROI) when there is "
            "one, else over the whole dose grid."
        ),
    )
    parser.add_argument("--rtstruct", required=True, metavar="FILE", help="RT Structure Set")
    parser.add_argument("--rtdose", required=True, metavar="FILE", help="RT Dose (Gy)")
    parser.add_argument(
        "--rtplan", metavar="FILE", help="RT Plan: prescription (total Gy) and target ROI"
    )
    parser.add_argument(
        "--rx", type=float, metavar="GY", help="prescription dose (total Gy); overrides the plan"
    )
    parser.add_argument(
        "--target", metavar="NAME", help="target ROI (default: the ROI the plan prescribes to)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    registry = parser.add_argument_group(
        "registry", "attach the result to an SBRT course of a registry (source = computed)"
    )
    registry.add_argument("--db", metavar="DB", help="registry database (SQLite file or URL)")
    registry.add_argument("--course-id", metavar="ID", help="the course the plan delivered")
    registry.add_argument(
        "--replace", action="store_true", help="overwrite the course's existing dosimetry row"
    )
    parser.set_defaults(func=run)


def _fmt(value: object, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(result: dict[str, Any], region: str, skipped: tuple[str, ...]) -> str:
    columns = (
        "volume_cc",
        "outside_grid_cc",
        "dmax_gy",
        "dmean_gy",
        "d2_gy",
        "d50_gy",
        "d95_gy",
        "d98_gy",
    )
    headers = (
        "ROI",
        "volume cc",
        "outside cc",
        "Dmax Gy",
        "Dmean Gy",
        "D2 Gy",
        "D50 Gy",
        "D95 Gy",
        "D98 Gy",
    )
    rows = [
        [name] + [_fmt(stats[c]) for c in columns] for name, stats in result["structures"].items()
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [f"Prescription: {result['prescription_gy']:g} Gy", ""]
    lines.append(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    )
    for row in rows:
        lines.append(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    if skipped:
        lines.append(f"(no contours: {', '.join(skipped)})")
    target = result["target"]
    lines += ["", f"Target {target['name']} (PIV and V50% {region})"]
    labels = (
        ("tv_cc", "TV (cm3)"),
        ("piv_cc", "PIV (cm3)"),
        ("tv_piv_cc", "TV_PIV (cm3)"),
        ("coverage", "coverage TV_PIV/TV"),
        ("ci_rtog", "CI (RTOG) PIV/TV"),
        ("paddick_ci", "Paddick CI"),
        ("nci", "nCI (Nakamura)"),
        ("hi_rtog", "HI (RTOG) Dmax/Rx"),
        ("hi_icru83", "HI (ICRU 83)"),
        ("gradient_index", "gradient index V50%/PIV"),
    )
    for key, label in labels:
        lines.append(f"  {label:<26}{_fmt(target[key], 3)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from rtoutcomes.clinical.plan_dosimetry import choose_target, plan_dosimetry, total_dose_grid
    from rtoutcomes.io.dicom_rt import read_rtdose, read_rtplan, read_rtstruct

    if (args.db is None) != (args.course_id is None):
        raise DosimetryCommandError("--db and --course-id go together")

    structure_set = read_rtstruct(args.rtstruct)
    plan = read_rtplan(args.rtplan) if args.rtplan else None
    grid = total_dose_grid(read_rtdose(args.rtdose), plan.fractions if plan else None)
    prescription = args.rx if args.rx is not None else (plan.prescription_gy if plan else None)
    if prescription is None:
        raise DosimetryCommandError(
            "no prescription: give --rx GY or an --rtplan with a TargetPrescriptionDose"
        )
    target = choose_target(structure_set, args.target, plan.target_description if plan else None)
    result = plan_dosimetry(structure_set, grid, prescription_gy=prescription, target=target)
    if args.db is not None:
        from rtoutcomes.registry.attach import write_dosimetry_row

        write_dosimetry_row(args.db, result.registry_row(args.course_id), replace=args.replace)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(_table(result.as_dict(), result.piv_region, result.skipped))
    if args.db is not None:
        print(f"dosimetry of course {args.course_id} written to {args.db} (source computed)",
              file=sys.stderr)
    return 0
