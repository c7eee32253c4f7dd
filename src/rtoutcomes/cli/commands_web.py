"""CLI commands of the web app: ``serve`` and ``adduser``."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import Any

from rtoutcomes.errors import RtOutcomesError


class ServeRefused(RtOutcomesError):
    """The server would be reachable from other machines without a users file."""

    exit_code = 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add this module's commands to ``subparsers``."""
    serve = subparsers.add_parser("serve", help="the web app over a registry (or the demo)")
    where = serve.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", help="registry database: SQLite file path or URL")
    where.add_argument("--demo", action="store_true", help="a fresh synthetic demo registry")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; any other needs --users)",
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--users",
        type=Path,
        help="users file (rtoutcomes adduser); without it, loopback only and "
        "the local user is admin",
    )
    serve.add_argument(
        "--workdir",
        type=Path,
        help="folder for study runs (default rtoutcomes-web/ here, or the demo's folder)",
    )
    serve.set_defaults(func=_serve)

    user = subparsers.add_parser("adduser", help="add or update a user of the web app")
    user.add_argument("name", help="user name (letters, digits, _ . @ -)")
    user.add_argument("--users", type=Path, required=True, help="users file (created if missing)")
    user.add_argument(
        "--role",
        choices=("viewer", "editor", "admin"),
        required=True,
        help="viewer reads; editor also changes records and runs studies; admin "
        "also freezes and verifies",
    )
    user.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    user.set_defaults(func=_user_add)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    import getpass
    import logging
    import tempfile

    if not is_loopback(args.host) and args.users is None:
        raise ServeRefused(
            f"refusing to serve on {args.host} without --users: anyone on the network could "
            "read and change the registry (create a users file with `rtoutcomes adduser`)"
        )
    try:
        import uvicorn

        from rtoutcomes.web import WebConfig, create_app
        from rtoutcomes.web.auth import load_users
    except ImportError as error:
        raise RtOutcomesError(
            f"the web app needs its extra dependencies ({error.name} is missing): "
            "pip install 'rtoutcomes[web]'"
        ) from None
    users = load_users(args.users) if args.users else None
    if args.demo:
        from rtoutcomes.demo import build_demo_registry

        folder = Path(tempfile.mkdtemp(prefix="rtoutcomes-demo-"))
        build_demo_registry(folder)
        db = str(folder / "registry.db")
        workdir = args.workdir or folder / "studies"
    else:
        db, workdir = args.db, args.workdir or Path("rtoutcomes-web")
    try:
        local = getpass.getuser()
    except (KeyError, OSError):
        local = "local"
    app = create_app(
        WebConfig(
            db=db,
            workdir=Path(workdir),
            users=users,
            local_user=local,
            host=args.host,
            check_in_process=True,
        )
    )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("rtoutcomes.web").setLevel(logging.INFO)
    print(
        f"rtoutcomes serve: {db} on http://{args.host}:{args.port}/ "
        f"({'users file ' + str(args.users) if users is not None else 'local user ' + local})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0


def _user_add(args: argparse.Namespace) -> int:
    import getpass

    from rtoutcomes.web.auth import add_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise RtOutcomesError("the two passwords differ")
    add_user(args.users, args.name, args.role, password)
    print(f"{args.users}: user {args.name} ({args.role})")
    return 0
