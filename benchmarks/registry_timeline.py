"""The timeline of one whole-registry ``rtoutcomes import``, every process of it: what each does
when.

    PYTHONPATH=src:. python -m benchmarks.registry_timeline [--copies 100] [--folder CSV]

Imports the demo registry copied ``--copies`` times (``registry_import.replicate``; or the CSV
folder given) into a new SQLite file, in this process, through the command line's entry point,
with the stages of the import path wrapped (as ``analyze_timeline.py`` does for ``analyze``):
each start and end is logged with the seconds since the start, the process id and that
process' user and system CPU seconds. The forked reader and the forked audit process log too.
Printed sorted by time; then the process' CPU seconds (children included) and wall seconds,
exit included. Not a test, and the wrapping costs a little: read the CPU columns, not the last
digit.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from benchmarks import analyze_timeline as timeline

ROOT = Path(__file__).resolve().parents[1]

STAGES = {
    "rtoutcomes.io.tabular": ["read_registry_files", "read_csv_table"],
    "rtoutcomes.registry.validation": [
        "validate_files",
        "validate_import",
        "_checked_files",
        "_check_rows",
        "_check_unique",
    ],
    "rtoutcomes.registry.rules": ["check_rules"],
    "rtoutcomes.registry.changes": [
        "apply_changes",
        "_planned",
        "_write",
        "audit_ahead",
        "AuditAhead.stage",
        "_Staging.copy",
    ],
    "rtoutcomes.registry.staged": ["scratch", "copy"],
    "rtoutcomes.registry.audit": [
        "prepare_batch",
        "write_batch",
        "chain_hashes",
        "inserted_rows",
        "read_head",
    ],
    "rtoutcomes.registry.database": ["insert_columns", "make_engine"],
    "rtoutcomes.registry.migrate": ["upgrade"],
    "rtoutcomes.registry.tables": ["check_schema", "fetch_rows"],
    "rtoutcomes.forking": ["receive"],
    "sqlalchemy.engine.base": ["Connection.commit"],
}
LIBRARIES = ("sqlalchemy", "rtoutcomes.registry.changes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--folder", type=Path, help="a registry's CSV folder (else the copies)")
    parser.add_argument("--child", nargs=3, metavar=("CSV", "DB", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    if args.child:
        return _import(*args.child)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = args.folder
        if csv is None:
            from benchmarks.registry_import import replicate

            csv = folder / "csv"
            replicate(args.copies, csv)
        log_path = folder / "timeline.log"
        command = [sys.executable, "-m", "benchmarks.registry_timeline", "--child"]
        start = time.monotonic()
        # the import in a process of its own, so that its start and exit are timed too
        child = subprocess.Popen([*command, str(csv), str(folder / "registry.db"), str(log_path)])
        _, status, usage = os.wait4(child.pid, 0)
        end = time.monotonic()
        lines = sorted(log_path.read_text().splitlines(), key=lambda line: float(line.split()[0]))
        child_start = float(Path(f"{log_path}.start").read_text())
    print(f"{'seconds':>8} {'pid':>8} {'user':>6} {'system':>6}  stage")
    for line in lines:
        print(line)
    print(
        f"import: {usage.ru_utime + usage.ru_stime:.2f} CPU s (children included), "
        f"{end - start:.2f} s wall, status {os.waitstatus_to_exitcode(status)}; of which "
        f"{child_start - start:.2f} s before the log's 0 (Python's start) and "
        f"{end - child_start - float(lines[-1].split()[0]):.2f} s after its end (exit)"
    )
    return 0


def _import(csv: str, db: str, log_path: str) -> int:
    timeline.STAGES.clear()
    timeline.STAGES.update(STAGES)
    timeline.LIBRARIES = LIBRARIES
    timeline._FD = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    sys.meta_path.insert(0, _Stages())
    Path(f"{log_path}.start").write_text(repr(timeline.START))
    timeline.log("start (after Python's start)")
    from rtoutcomes.cli import main as cli_main

    status = cli_main(["import", csv, "--db", db])
    timeline.log("end (then the interpreter's exit)")
    import gc

    gc.freeze()  # as rtoutcomes.cli.run does
    return status


class _Stages(timeline.Stages):
    """``analyze_timeline.Stages``, which also wraps ``Class.method`` entries of ``STAGES``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        spec = super().find_spec(fullname, path, target)
        if spec is None or spec.loader is None or fullname not in STAGES:
            return spec
        execute = spec.loader.exec_module  # type: ignore[attr-defined]
        methods = [name for name in STAGES[fullname] if "." in name]
        timeline.STAGES[fullname] = [name for name in STAGES[fullname] if "." not in name]

        def exec_module(module: ModuleType) -> None:
            execute(module)
            for name in methods:
                owner, method = name.split(".")
                cls = getattr(module, owner)
                setattr(cls, method, timeline.wrapped(getattr(cls, method), name))

        spec.loader.exec_module = exec_module  # type: ignore[attr-defined]
        return spec


if __name__ == "__main__":
    raise SystemExit(main())
