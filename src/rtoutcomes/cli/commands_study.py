"""CLI commands: ``run`` (a study file on a registry or its analysis table) and ``analyze``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


class StderrProgress:
    """Progress lines on stderr with the elapsed time; silent with ``--quiet``."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(
                f"[{time.monotonic() - self.start:6.1f} s] {message}", file=sys.stderr, flush=True
            )


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
    run = subparsers.add_parser(
        "run", help="run a study file (registry database or analysis table) and write the report"
    )
    run.add_argument("study", type=Path, help="the study file (YAML)")
    run.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    run.add_argument("--db", help="registry database URL (overrides the study file's 'db')")
    run.add_argument("--quiet", action="store_true", help="no progress display")
    run.add_argument(
        "--as-of",
        metavar="LABEL|BATCH|TIME",
        help="analyse the registry as it was then (a freeze label, a batch number "
        "or a UTC time); overrides the study file's 'as_of'",
    )
    run.set_defaults(func=_run)

    analyze = subparsers.add_parser(
        "analyze", help="run a study file's analyses on a flat analysis table (CSV or XLSX)"
    )
    analyze.add_argument("data", type=Path, help="analysis table: one row per patient or lesion")
    analyze.add_argument("--config", type=Path, required=True, help="the study file (YAML)")
    analyze.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    analyze.add_argument("--quiet", action="store_true", help="no progress display")
    analyze.set_defaults(func=_analyze)


def _run(args: argparse.Namespace) -> int:
    from rtoutcomes.study import load_study
    from rtoutcomes.study.run import analyze_file, resolve_data, run_registry

    progress = StderrProgress(args.quiet)
    study = load_study(args.study, db=args.db, as_of=args.as_of)
    if study.db:
        run_registry(study, study.db, args.out, progress)
    else:
        analyze_file(study, resolve_data(study, None), args.out, progress)
    progress(f"report written to {args.out}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from rtoutcomes.study import load_study
    from rtoutcomes.study.memory import keep_freed_memory
    from rtoutcomes.study.run import analyze_file

    keep_freed_memory()  # a batch process: freed arrays reused, not faulted in again
    progress = StderrProgress(args.quiet)
    study = load_study(args.config)
    analyze_file(study, args.data, args.out, progress)
    progress(f"report written to {args.out}")
    return 0
