"""CLI commands of the audit trail: ``audit`` (history, ``--verify``) and ``freeze``."""

from __future__ import annotations

import argparse
from typing import Any

from rtoutcomes.cli.commands_registry import DB_HELP
from rtoutcomes.errors import RtOutcomesError


class AuditBroken(RtOutcomesError):
    """``audit --verify`` found a break."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
    log = subparsers.add_parser(
        "audit", help="the registry's history (who changed what, when, why); --verify checks it"
    )
    log.add_argument("--db", required=True, help=DB_HELP)
    log.add_argument("--record", metavar="TABLE:KEY", help="one row's history, e.g. lesions:L13")
    log.add_argument("--since", metavar="DATE", help="entries from this UTC date or time on")
    log.add_argument("--json", action="store_true", help="entries (or the verification) as JSON")
    log.add_argument(
        "--verify",
        action="store_true",
        help="check the hash chain and that replaying it gives the registry",
    )
    log.set_defaults(func=_audit)

    freeze = subparsers.add_parser(
        "freeze", help="name the registry's state now (for export/run --as-of)"
    )
    freeze.add_argument("--db", required=True, help=DB_HELP)
    freeze.add_argument("--label", required=True, help="the name, e.g. paper-2026-submitted")
    freeze.add_argument("--reason", help="why (e.g. the analysis it is for)")
    freeze.add_argument("--user", help="who (default: the operating-system login)")
    freeze.set_defaults(func=_freeze)


def _audit(args: argparse.Namespace) -> int:
    import json

    from rtoutcomes.registry import audit

    if args.verify:
        result = audit.verify(args.db)
        if args.json:
            print(json.dumps(result.as_json(), indent=2, sort_keys=True, ensure_ascii=False))
        if not result.ok:
            raise AuditBroken(f"audit trail broken at {result.first_break}")
        if not args.json:
            print(
                f"audit trail verified: {result.entries} entries in {result.batches} batches, "
                f"hash chain intact, replay equals the registry (chain hash "
                f"{result.head.entry_hash})"
            )
        return 0
    entries = audit.list_entries(args.db, record=args.record, since=args.since)
    if args.json:
        print(
            json.dumps(
                {"entries": [e.as_json() for e in entries]},
                indent=1,
                sort_keys=True,
                ensure_ascii=False,
            )
        )
        return 0
    print(audit.history_text(entries))
    return 0


def _freeze(args: argparse.Namespace) -> int:
    from rtoutcomes.registry.changes import freeze
    from rtoutcomes.registry.database import describe_database

    state = freeze(args.db, args.label, user=args.user, reason=args.reason)
    print(
        f"froze {describe_database(args.db)} as {state.label!r} (batch {state.batch}, audit "
        f"entry {state.seq}, chain hash {state.chain_hash})"
    )
    return 0
