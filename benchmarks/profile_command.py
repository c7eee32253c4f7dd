"""Profile one rtoutcomes command in this process, CPU time (not wall: the machine is shared).

    python benchmarks/profile_command.py [--top 25] -- analyze DATA.csv --config STUDY.yaml ...

Prints the total CPU seconds, the CPU seconds spent importing modules and the top entries by
cumulative CPU time (cProfile with ``time.process_time`` as its clock), restricted to rtoutcomes'
own functions and the libraries' entry points that they call. docs/performance.md quotes it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--filter",
        default="rtoutcomes|importlib._bootstrap.*_find_and_load'|read_csv|savefig|concordance",
    )
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="no forked report process or model share (rtoutcomes.forking): profile all "
        "of the work here; otherwise the forked processes' CPU is only totalled",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"]
    sys.path.insert(0, str(ROOT / "src"))
    if args.one_process:
        import rtoutcomes.forking as forking

        forking.can_fork = lambda: False
    profile = cProfile.Profile(time.process_time)
    start = time.process_time()
    profile.enable()
    try:
        from rtoutcomes.cli import main as cli_main

        status = cli_main(command)
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    profile.disable()
    total = time.process_time() - start
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("cumulative").print_stats(args.filter, args.top)
    imports = sum(
        v[3]
        for k, v in stats.stats.items()  # type: ignore[attr-defined]
        if k[2] == "_find_and_load" and k[0].startswith("<frozen")
    )
    print(f"command: rtoutcomes {' '.join(command)}  (exit status {status})")
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    forked_cpu = children.ru_utime + children.ru_stime
    print(f"CPU seconds: {total:.2f} total; module imports (outermost) <= {imports:.2f}")
    print(f"CPU seconds of forked processes (not profiled): {forked_cpu:.2f}")
    print(stream.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
