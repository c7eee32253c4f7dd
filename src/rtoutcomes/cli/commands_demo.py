"""CLI command ``rtoutcomes demo``: build the SYNTHETIC demo registry and summarise it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("rtoutcomes-demo")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
    parser = subparsers.add_parser(
        "demo",
        help="build the SYNTHETIC demo registry (modelled on Feng et al. 2022) and summarise it",
        description=(
            "Build the demo registry, a SYNTHETIC cohort (no real patient) modelled on Feng et "
            "al. 2022, as DIR/registry.db (SQLite) through the validated import, and print its "
            "cohort summary."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
        help=f"output folder (default: ./{DEFAULT_OUT})",
    )
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from rtoutcomes.demo import build_demo_registry

    summary = build_demo_registry(args.out)
    print(summary)
    return 0
