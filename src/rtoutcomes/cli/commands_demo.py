"""CLI command ``rtoutcomes demo``: build the SYNTHETIC demo registry and run the model study."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("rtoutcomes-demo")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
    parser = subparsers.add_parser(
        "demo",
        help="build the SYNTHETIC demo registry (modelled on Feng et al. 2022) and run the "
        "model study on it",
        description=(
            "Build the demo registry, a SYNTHETIC cohort (no real patient) modelled on Feng et "
            "al. 2022, as DIR/registry.db (SQLite) through the validated import, print its "
            "cohort summary, and run the model study (the packaged study file feng2022.yaml) on "
            "it, writing the full report (report.html, tables, figures, results.json) into DIR."
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output folder (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from rtoutcomes.cli.commands_study import StderrProgress
    from rtoutcomes.demo import run_demo as run

    summary = run(args.out, StderrProgress(args.quiet))
    print(summary)
    print(f"Model study report (SYNTHETIC data): {Path(args.out) / 'report.html'}")
    return 0
