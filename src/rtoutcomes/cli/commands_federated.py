"""CLI command ``federated simulate``: a federated study on one machine (vantage6 mock)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rtoutcomes.errors import RtOutcomesError


class FederatedArgumentError(RtOutcomesError):
    """A malformed --site or --policy argument."""

    exit_code = 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
    federated = subparsers.add_parser(
        "federated", help="multi-centre analysis without pooling patient rows (vantage6)"
    )
    actions = federated.add_subparsers(dest="action", metavar="ACTION")
    simulate = actions.add_parser(
        "simulate",
        help="run a study federated over centres' tables on this machine "
        "(vantage6's mock client) and write the report",
    )
    simulate.add_argument("study", type=Path, help="the study file (YAML)")
    simulate.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="NAME=TABLE",
        help="a centre and its analysis table (CSV/XLSX); give one per centre",
    )
    simulate.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="a centre's disclosure policy, e.g. "
        '\'A={"min_rows": 10, "min_cell": 5, "time_resolution": 1}\'',
    )
    simulate.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    simulate.add_argument("--quiet", action="store_true", help="no progress display")
    simulate.set_defaults(func=_simulate)
    federated.set_defaults(func=None)


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise FederatedArgumentError(f"{what} {value!r}: expected NAME=VALUE")
        pairs.append((name.strip(), rest.strip()))
    return pairs


def _simulate(args: argparse.Namespace) -> int:
    import json

    from rtoutcomes.cli.commands_study import StderrProgress
    from rtoutcomes.federated.disclosure import DisclosurePolicy
    from rtoutcomes.federated.simulate import simulate

    sites = [(name, Path(path)) for name, path in _pairs(args.site, "--site")]
    policies = {}
    for name, raw in _pairs(args.policy, "--policy"):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as error:
            raise FederatedArgumentError(f"--policy {name}: not valid JSON: {error}") from None
        policies[name] = DisclosurePolicy.from_mapping(parsed, f"--policy {name}")
    unknown = sorted(set(policies) - {name for name, _ in sites})
    if unknown:
        raise FederatedArgumentError(f"--policy {unknown[0]}: no --site of that name")
    progress = StderrProgress(args.quiet)
    simulate(args.study, sites, args.out, policies, progress)
    progress(f"report written to {args.out}")
    return 0
