"""CLI commands of the registry: ``init``, ``import``, ``validate``, ``export``.

Thin: parse, call one library function, print. Problems are listed all at once by the library's
``ImportRejected`` (file or sheet, row, column, value, rule) and the command exits non-zero.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rtoutcomes.errors import RtOutcomesError


class CommandLineError(RtOutcomesError):
    """Options that do not go together."""

    exit_code = 2


DB_HELP = "registry database: a SQLite file path or a URL (postgresql+psycopg://user@host/db)"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
    init = subparsers.add_parser("init", help="create an empty registry at the current schema")
    init.add_argument("--db", required=True, help=DB_HELP)
    init.set_defaults(func=_init)

    imp = subparsers.add_parser(
        "import", help="import a folder of CSV files or an Excel workbook, all or nothing"
    )
    imp.add_argument("path", type=Path, help="folder with one <table>.csv per table, or .xlsx")
    imp.add_argument("--db", required=True, help=DB_HELP)
    imp.add_argument(
        "--update",
        action="store_true",
        help="apply the files as changes to a registry that holds data: rows "
        "matched by key, blank cells keep the stored value, <erase> empties one",
    )
    imp.add_argument("--reason", help="why (needed when stored values change or rows go)")
    imp.add_argument("--user", help="who (default: the operating-system login)")
    imp.add_argument(
        "--dry-run",
        action="store_true",
        help="with --update: show what would change and write nothing",
    )
    imp.add_argument("--json", action="store_true", help="with --update: the changes as JSON")
    imp.add_argument(
        "--delete",
        type=Path,
        metavar="KEYS.csv",
        help="with --update: delete the rows listed (CSV with header table,key)",
    )
    imp.set_defaults(func=_import)

    validate = subparsers.add_parser("validate", help="run the import checks on a database")
    validate.add_argument("--db", required=True, help=DB_HELP)
    validate.set_defaults(func=_validate)

    export = subparsers.add_parser("export", help="write the registry in the import format")
    export.add_argument("--db", required=True, help=DB_HELP)
    export.add_argument("--out", type=Path, required=True, help="output folder")
    export.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        default="csv",
        help="one CSV file per table (default) or one workbook",
    )
    export.add_argument(
        "--as-of",
        metavar="LABEL|BATCH|TIME",
        help="the registry as it was then: a freeze label, a batch number or a "
        "UTC time (YYYY-MM-DD = end of that day)",
    )
    export.add_argument(
        "--deidentify",
        action="store_true",
        help="pseudonymised ids, dates shifted per patient, no birth dates or "
        "free text (needs --key-file)",
    )
    export.add_argument(
        "--key-file",
        type=Path,
        help="the secret key of --deidentify (made by init-key; readable by its owner only)",
    )
    export.set_defaults(func=_export)

    init_key = subparsers.add_parser(
        "init-key", help="make a secret key file (mode 0600) for de-identified exports"
    )
    init_key.add_argument("key", type=Path, help="the key file to create (never overwritten)")
    init_key.set_defaults(func=_init_key)


def _init(args: argparse.Namespace) -> int:
    from rtoutcomes.registry.database import describe_database
    from rtoutcomes.registry.migrate import init_registry

    revision = init_registry(args.db)
    print(f"registry ready at {describe_database(args.db)} (schema revision {revision})")
    return 0


def _import(args: argparse.Namespace) -> int:
    # the database library is imported by the import while the files are read
    from rtoutcomes.registry.importer import import_registry

    if args.update:
        return _update(args)
    for flag, given in (
        ("--dry-run", args.dry_run),
        ("--json", args.json),
        ("--delete", args.delete),
    ):
        if given:
            raise CommandLineError(f"{flag} goes with --update")
    counts = import_registry(args.path, args.db, user=args.user, reason=args.reason)
    from rtoutcomes.registry.database import describe_database

    where = describe_database(args.db)
    print(f"imported {args.path} into {where} ({sum(counts.values())} rows):")
    for table, count in counts.items():
        print(f"  {table:<20} {count:>6}")
    return 0


def _update(args: argparse.Namespace) -> int:
    """Preview, then (unless --dry-run) apply exactly the previewed changes."""
    import json

    from rtoutcomes.registry.database import describe_database
    from rtoutcomes.registry.update import update_registry

    command = f"rtoutcomes import --update {args.path.name}"
    options = {
        "reason": args.reason,
        "user": args.user,
        "delete_file": args.delete,
        "command": command,
    }
    preview = update_registry(args.path, args.db, dry_run=True, **options)
    if args.json and args.dry_run:
        print(json.dumps(preview.as_json(), indent=2, ensure_ascii=False, sort_keys=True))
        return 0
    if not args.json:
        print(f"update of {describe_database(args.db)} from {args.path}:")
        print(preview.text())
    if args.dry_run:
        print("dry run: nothing was written")
        return 0
    if preview.empty:
        print("nothing to change: the registry already holds these rows")
        return 0
    report = update_registry(args.path, args.db, expected_head=preview.head_before, **options)
    if args.json:
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False, sort_keys=True))
    else:
        print(
            f"written as batch {report.batch} of the audit trail "
            f"(chain hash {report.head_after[:16]})"
        )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from rtoutcomes.registry.database import describe_database
    from rtoutcomes.registry.importer import validate_database
    from rtoutcomes.registry.validation import ImportRejected

    problems = validate_database(args.db)
    if problems:
        raise ImportRejected(problems, f"{describe_database(args.db)} is not valid")
    print(f"{describe_database(args.db)}: no problems found")
    return 0


def _export(args: argparse.Namespace) -> int:
    from rtoutcomes.registry.database import describe_database
    from rtoutcomes.registry.export import export_registry

    if args.deidentify != (args.key_file is not None):
        raise RegistryArgumentError("--deidentify and --key-file go together")
    summary: list[str] = []
    files = export_registry(
        args.db,
        args.out,
        args.format,
        as_of=args.as_of,
        key_file=args.key_file,
        deidentified=summary,
    )
    when = f" as of {args.as_of}" if args.as_of else ""
    what = "a de-identified copy of " if args.deidentify else ""
    print(
        f"exported {what}{describe_database(args.db)}{when} to {len(files)} file(s) in {args.out}"
    )
    for line in summary:
        print(f"  {line}")
    return 0


def _init_key(args: argparse.Namespace) -> int:
    from rtoutcomes.io.keyfile import init_key

    print(
        f"wrote a new secret key to {init_key(args.key)} (mode 0600); keep it: the same key "
        "gives the same pseudonyms on the next export"
    )
    return 0


class RegistryArgumentError(RtOutcomesError):
    """Command-line options that do not go together."""

    exit_code = 2
