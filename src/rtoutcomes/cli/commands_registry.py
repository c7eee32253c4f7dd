"""CLI commands of the registry: ``init``, ``import``, ``validate``, ``export``.

Thin: parse, call one library function, print. Problems are listed all at once by the library's
``ImportRejected`` (file or sheet, row, column, value, rule) and the command exits non-zero.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
    imp.set_defaults(func=_import)

    validate = subparsers.add_parser("validate", help="run the import checks on a database")
    validate.add_argument("--db", required=True, help=DB_HELP)
    validate.set_defaults(func=_validate)

    export = subparsers.add_parser("export", help="write the registry in the import format")
    export.add_argument("--db", required=True, help=DB_HELP)
    export.add_argument("--out", type=Path, required=True, help="output folder")
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv",
                        help="one CSV file per table (default) or one workbook")
    export.set_defaults(func=_export)


def _init(args: argparse.Namespace) -> int:
    from rtoutcomes.registry.database import describe_database
    from rtoutcomes.registry.migrate import init_registry

    revision = init_registry(args.db)
    print(f"registry ready at {describe_database(args.db)} (schema revision {revision})")
    return 0


def _import(args: argparse.Namespace) -> int:
    from rtoutcomes.registry.database import describe_database
    from rtoutcomes.registry.importer import import_registry

    counts = import_registry(args.path, args.db)
    where = describe_database(args.db)
    print(f"imported {args.path} into {where} ({sum(counts.values())} rows):")
    for table, count in counts.items():
        print(f"  {table:<20} {count:>6}")
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

    files = export_registry(args.db, args.out, args.format)
    print(f"exported {describe_database(args.db)} to {len(files)} file(s) in {args.out}")
    return 0
