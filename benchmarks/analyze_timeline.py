"""The timeline of one ``rtoutcomes analyze`` run, every process of it: what each does when.

    python benchmarks/analyze_timeline.py [--rows 1e5] [-- ANALYZE ARGS...]

Runs ``analyze`` in this process (on the benchmark table of ``end_to_end.py`` with ``--rows``,
else on the given arguments) with the stages of the analyze path wrapped: each start and end is
logged with the seconds since the start, the process id and that process' user and system CPU
seconds (``os.times()``). The report process, the models' and CSV children and the figure
workers are forked, so they log too; the imports of the heavy libraries and of the wrapped
modules are logged too. Printed sorted by time. docs/performance.md's timelines come from it.
Not a test, and the wrapping costs a little: read the CPU columns, not the last digit.
"""

from __future__ import annotations

import argparse
import functools
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

STAGES = {
    "rtoutcomes.study.table": ["read_table"],
    "rtoutcomes.study.analysis": ["run_analyses", "_group_results", "_cox_results"],
    "rtoutcomes.study.characteristics": ["characteristics"],
    "rtoutcomes.study.analysis_export": ["analysis_frames"],
    "rtoutcomes.study.run": ["_finish", "write_report", "_write_analysis_csvs"],
    "rtoutcomes.report.tabular_files": ["write_analysis_csvs", "write_csvs", "write_xlsx"],
    "rtoutcomes.report.build": ["start_figures", "_write_docx", "_write_figures_and_html"],
    "rtoutcomes.report.parallel_figures": ["_run"],
    "rtoutcomes.report.jsonio": ["write_json"],
    "rtoutcomes.report.provenance": ["provenance"],
    "rtoutcomes.report.cohort_tables": ["characteristics_table"],
    "rtoutcomes.study.summaries": ["km_summary"],
}
LIBRARIES = ("pandas", "scipy.special", "matplotlib", "docx", "openpyxl")
START = time.monotonic()
_FD = -1


def log(what: str) -> None:
    user, system = os.times()[:2]
    line = f"{time.monotonic() - START:8.3f} {os.getpid():>8} {user:6.2f} {system:6.2f}  {what}\n"
    os.write(_FD, line.encode())


def wrapped(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def logging(*args: Any, **kwargs: Any) -> Any:
        label = f"{name}[{args[0]}]" if name == "_run" else name
        log(f"> {label}")
        try:
            return function(*args, **kwargs)
        finally:
            log(f"< {label}")

    return logging


class Stages(importlib.abc.MetaPathFinder):
    """Wraps the stages of a module when it is imported; logs the imports of the libraries."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in STAGES and fullname not in LIBRARIES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        execute = spec.loader.exec_module  # type: ignore[attr-defined]

        def exec_module(module: ModuleType) -> None:
            log(f"import> {fullname}")
            execute(module)
            log(f"import< {fullname}")
            for name in STAGES.get(fullname, ()):
                setattr(module, name, wrapped(getattr(module, name), name))

        spec.loader.exec_module = exec_module  # type: ignore[attr-defined]
        return spec


def main(argv: list[str] | None = None) -> int:
    global _FD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e5)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        command = [c for c in args.command if c != "--"]
        if not command:
            from benchmarks.end_to_end import write_analysis_table, write_study

            data, study = folder / "table.csv", folder / "study.yaml"
            write_analysis_table(int(args.rows), data)
            write_study(study, data)
            command = [str(data), "--config", str(study), "--out", str(folder / "out")]
        log_path = folder / "timeline.log"
        _FD = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        sys.meta_path.insert(0, Stages())
        log("start")
        from rtoutcomes.cli import main as cli_main

        status = cli_main(["analyze", *command, "--quiet"])
        log("end")
        lines = sorted(log_path.read_text().splitlines(), key=lambda line: float(line.split()[0]))
    print(f"{'seconds':>8} {'pid':>8} {'user':>6} {'system':>6}  stage")
    for line in lines:
        print(line)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
