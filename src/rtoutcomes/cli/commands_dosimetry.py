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
    _register_import(subparsers)
    _register_deidentify(subparsers)


def _register_deidentify(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "dicom-deidentify",
        help="de-identify a folder of DICOM RT files for sharing; RT references keep linking",
        description=(
            "Replace names, IDs, dates and UIDs of every DICOM file under IN with pseudonyms "
            "derived from the key file's secret (dicognito), write them to the new folder OUT "
            "as <PatientID>/<Modality>_<SOPInstanceUID>.dcm, and check that every dose -> plan "
            "-> structure set link of IN is found again in OUT and that no original PatientID "
            "or UID is left. The key file is the registry's de-identified export's (rtoutcomes "
            "init-key): PatientIDs become that export's patient pseudonyms and plan dates are "
            "shifted as that patient's dates are."
        ),
    )
    parser.add_argument("source", metavar="IN", help="folder of DICOM files")
    parser.add_argument("out", metavar="OUT", help="new (or empty) output folder")
    parser.add_argument(
        "--key-file",
        required=True,
        metavar="KEY",
        help="the registry's de-identification key (rtoutcomes init-key)",
    )
    parser.set_defaults(func=run_deidentify)


def run_deidentify(args: argparse.Namespace) -> int:
    from rtoutcomes.io.dicom_deidentify import deidentify_folder
    from rtoutcomes.io.keyfile import read_key
    from rtoutcomes.registry.deidentify import dicom_identity

    key = read_key(args.key_file)
    pseudonym, shift = dicom_identity(key)
    report = deidentify_folder(
        args.source, args.out, key.hex(), patient_pseudonym=pseudonym, shift_days=shift
    )
    print(report.text())
    return 0


def _register_import(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "dosimetry-import",
        help="link a folder of DICOM RT exports to the registry's courses and store every index",
        description=(
            "Index every RT file under DIR by its header, link doses to plans to structure sets "
            "by their referenced UIDs (Study UID as fall-back), match each plan to a registry "
            "course by PatientID, prescription and date (or by the map file), compute every "
            "structure's DVH statistics and the target's indices in parallel, and store them "
            "(source = computed). Anything ambiguous is listed with its reason, never guessed; "
            "a second run on the same folder changes nothing. See docs/dosimetry.md."
        ),
    )
    parser.add_argument("folder", metavar="DIR", help="folder tree of DICOM RT files")
    parser.add_argument(
        "--db",
        metavar="DB",
        help="registry (SQLite file or URL); default: the study file's db (--study)",
    )
    parser.add_argument(
        "--study",
        metavar="STUDY.yaml",
        help="study file: V(dose) is stored at its dosimetry.dose_levels_gy and at the dose of "
        "every V<dose>Gy row of its tables.dose_metrics (with --dose-levels); its db is "
        "the registry unless --db",
    )
    parser.add_argument(
        "--map",
        metavar="FILE",
        help="CSV pairing dicom_patient_id with patient_id and/or rtplan_uid with course_id "
        "(optional column target: the target ROI)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="overwrite dosimetry a course already has from the TPS or from another plan",
    )
    parser.add_argument(
        "--target-pattern",
        action="append",
        metavar="REGEX",
        help="target naming pattern (matched to the start of ROI names, ignoring case), tried "
        "in the order given when the plan's prescription names no ROI; default: PTV, ITV, "
        "CTV, GTV",
    )
    parser.add_argument(
        "--min-coverage",
        type=float,
        default=80.0,
        metavar="PCT",
        help="warn when the target's coverage is below this (default 80 %%)",
    )
    parser.add_argument(
        "--dose-levels",
        metavar="GY,GY...",
        help="store V(dose) of every structure at these doses (Gy), e.g. 5,10,20 (added to the "
        "study file's, --study)",
    )
    parser.add_argument(
        "--reason",
        metavar="TEXT",
        help="why, for the audit trail (default: computed from DICOM RT files)",
    )
    parser.add_argument("--workers", type=int, metavar="N", help="processes (default: cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(func=run_import)


def _levels(text: str | None) -> tuple[float, ...]:
    if not text:
        return ()
    try:
        levels = tuple(float(part) for part in text.split(","))
    except ValueError as error:
        raise DosimetryCommandError(
            f"--dose-levels {text!r}: give doses in Gy separated by commas, e.g. 5,10,20"
        ) from error
    if any(not level > 0 for level in levels):
        raise DosimetryCommandError(f"--dose-levels {text!r}: every dose must be > 0 Gy")
    return levels


def _progress(quiet: bool) -> Any:
    tty = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if quiet or total == 0:
            return
        if tty:
            end = "\n" if done == total else ""
            print(f"\rcomputing plans: {done}/{total}", end=end, file=sys.stderr, flush=True)
        elif done == total or done % max(1, total // 10) == 0:
            print(f"computing plans: {done}/{total}", file=sys.stderr, flush=True)

    return show


def run_import(args: argparse.Namespace) -> int:
    from rtoutcomes.clinical.dosimetry_import import (
        DEFAULT_TARGET_PATTERNS,
        ImportOptions,
        dosimetry_import,
    )

    if not 0 <= args.min_coverage <= 100:
        raise DosimetryCommandError(
            f"--min-coverage must be within 0..100 %, got {args.min_coverage}"
        )
    if args.workers is not None and args.workers < 1:
        raise DosimetryCommandError(f"--workers must be >= 1, got {args.workers}")
    db, levels = args.db, _levels(args.dose_levels)
    if args.study is not None:
        from rtoutcomes.study import load_study
        from rtoutcomes.study.dose_metrics import import_dose_levels

        study = load_study(args.study, db=args.db)
        db, levels = study.db, import_dose_levels(study, levels)
    if db is None:
        raise DosimetryCommandError(
            "no registry: give --db DB, or a study file that names its registry (db) with --study"
        )
    options = ImportOptions(
        target_patterns=tuple(args.target_pattern or DEFAULT_TARGET_PATTERNS),
        min_coverage=args.min_coverage / 100,
        dose_levels_gy=levels,
        replace=args.replace,
        workers=args.workers,
    )
    summary = dosimetry_import(
        args.folder,
        db,
        map_file=args.map,
        options=options,
        dry_run=args.dry_run,
        progress=_progress(args.quiet),
        reason=args.reason,
    )
    print("\n".join(summary.lines()))
    return 0


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
    # the planning system's own DVHs are not shown here: not read (a tenth of the reading time)
    grid = total_dose_grid(
        read_rtdose(args.rtdose, tps_dvhs=False), plan.fractions if plan else None
    )
    prescription = args.rx if args.rx is not None else (plan.prescription_gy if plan else None)
    if prescription is None:
        raise DosimetryCommandError(
            "no prescription: give --rx GY or an --rtplan with a TargetPrescriptionDose"
        )
    target = choose_target(structure_set, args.target, plan.target_description if plan else None)
    result = plan_dosimetry(structure_set, grid, prescription_gy=prescription, target=target)
    from rtoutcomes.clinical.dosimetry_import import single_plan_warnings

    for warning in single_plan_warnings(
        result, plan.fractions if plan else None, args.db, args.course_id
    ):
        print(f"warning: {warning}", file=sys.stderr)
    if args.db is not None:
        from rtoutcomes.registry.attach import write_dosimetry_row

        write_dosimetry_row(args.db, result.registry_row(args.course_id), replace=args.replace)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(_table(result.as_dict(), result.piv_region, result.skipped))
    if args.db is not None:
        print(
            f"dosimetry of course {args.course_id} written to {args.db} (source computed)",
            file=sys.stderr,
        )
    return 0
