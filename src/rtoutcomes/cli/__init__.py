"""The ``rtoutcomes`` command line: thin by design.

Each command lives in its own module (``commands_*.py``) that exposes ``register(subparsers)``;
a command parses its arguments, calls one library function and prints the result. Library
errors (``RtOutcomesError``) become a message on stderr and a non-zero exit code. Heavy
libraries are imported inside the command functions so that ``rtoutcomes --help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from rtoutcomes import __version__
from rtoutcomes.errors import RtOutcomesError

# Order is the order of ``rtoutcomes --help``.
COMMAND_MODULES = (
    "rtoutcomes.cli.commands_demo",
    "rtoutcomes.cli.commands_registry",
    "rtoutcomes.cli.commands_audit",
    "rtoutcomes.cli.commands_dosimetry",
    "rtoutcomes.cli.commands_study",
    "rtoutcomes.cli.commands_federated",
    "rtoutcomes.cli.commands_web",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtoutcomes",
        description="From a radiotherapy treatment registry to a publishable outcomes study.",
    )
    parser.add_argument("--version", action="version", version=f"rtoutcomes {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


# BLAS threads per process for the commands (unless the user sets them): the statistics' matrix
# products are n x p with a handful of columns, where OpenBLAS's extra threads mostly spin
# (the analyses of `analyze` on 1e6 rows: 20.3 CPU s with two threads, 10.1 s with one, on a
# busy machine), and
# one thread sums in one order whatever the machine's cores (the same bits everywhere).
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run() -> NoReturn:
    """The ``rtoutcomes`` program (the console script and ``python -m rtoutcomes``): ``main``,
    then exit with its status.

    By then the command has written and closed its files. The interpreter's objects are frozen
    (``gc.freeze``) before it shuts down: its shutdown would otherwise traverse them all for
    garbage again, several times (~120,000 objects after ``demo``: 0.2-0.3 s of its ~5 s).
    ``main`` itself leaves the garbage collector alone (tests and the web app call it)."""
    import gc

    status = main()
    gc.freeze()
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    import os

    if "numpy" not in sys.modules:  # read by numpy's BLAS when it loads, not later
        for variable in BLAS_THREADS:
            os.environ.setdefault(variable, "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except RtOutcomesError as error:
        print(f"rtoutcomes {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # The reader of our output went away (``rtoutcomes import ... | head``): not an error
        # of ours; stdout is pointed at devnull so that the interpreter's final flush is quiet.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
