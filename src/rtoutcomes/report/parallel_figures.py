"""Draw a report's figures on the available cores, with the bytes of a serial run.

Each figure is drawn from the results alone (no shared state between figures), so the set can
be split into tasks and drawn in worker processes. The workers are forked (Linux): they inherit
the results and the task list, and only the rendered files travel back. Elsewhere, with one
core, or in a process running other threads, the tasks run here, one after the other. Either
way the figures come back in task order.

``start`` forks the workers and returns at once, so that the caller writes the outputs that
need no figure (results.json, CSV, Excel) while they draw. ``Helper`` is a process forked at
the start of a command: it imports the plotting libraries while the caller reads and analyses,
runs small jobs on the otherwise idle core, and draws the figures (forking its own workers)
when given the results.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rtoutcomes.report.document import Figure

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

Task = Callable[[], list[Figure]]
_TASKS: Sequence[Task] = ()  # the tasks of the pool being run (read by the forked workers)


def available_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


def _run(index: int) -> list[Figure]:
    return _TASKS[index]()


def can_fork() -> bool:
    """Whether worker processes may be forked here: on Linux (fork is the default there), and
    only from a single-threaded process (a forked copy of a threaded one, a web server's, may
    inherit a lock held by another thread)."""
    import threading

    return sys.platform.startswith("linux") and threading.active_count() == 1


def import_backends() -> None:
    """The plotting libraries every figure needs, imported once (forked workers inherit them
    instead of importing their own: the PDF backend brings fontTools, ~0.3 s a process)."""
    import matplotlib.backends.backend_agg
    import matplotlib.backends.backend_pdf
    import matplotlib.backends.backend_svg
    import matplotlib.font_manager  # noqa: F401
    import PIL.PngImagePlugin
    import PIL.TiffImagePlugin  # noqa: F401


def draw(
    tasks: Sequence[Task], workers: int | None = None, costs: Sequence[float] | None = None
) -> list[Figure]:
    """Every task's figures, in task order; ``workers`` processes (default: available cores).
    ``costs`` (rough, any unit) start the costliest tasks first, so that the workers finish
    together; the order of the result does not depend on them."""
    return start(tasks, workers, costs)()


def start(
    tasks: Sequence[Task], workers: int | None = None, costs: Sequence[float] | None = None
) -> Callable[[], list[Figure]]:
    """``draw``, begun: the workers are forked and given the tasks now; the returned function
    waits for the figures (in task order). Drawn here (when it is called) where workers
    cannot be forked or are not worth it."""
    global _TASKS

    workers = available_cores() if workers is None else workers
    workers = min(workers, len(tasks))
    if workers <= 1 or not can_fork():

        def serial() -> list[Figure]:
            return [figure for task in tasks for figure in task()]

        return serial
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import_backends()
    order = sorted(range(len(tasks)), key=lambda i: -costs[i]) if costs else range(len(tasks))
    _TASKS = tasks
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        futures = {i: pool.submit(_run, i) for i in order}
    finally:
        _TASKS = ()  # the workers hold their copy (forked when the first task was submitted)

    def collect() -> list[Figure]:
        with pool:
            drawn = [futures[i].result() for i in range(len(tasks))]
        return [figure for figures in drawn for figure in figures]

    return collect


class HelperError(RuntimeError):
    """The helper process ended without an answer (killed, or out of memory)."""


class Helper:
    """A process forked now that runs jobs (a picklable function and its arguments) one after
    the other and sends back their results; it imports the plotting libraries first.

    ``submit`` returns at once (unless the previous job is still being read) and gives a
    function that waits for the job's result (or raises the job's exception). Use it as a
    context manager: leaving the block ends the process. Where processes cannot be forked
    (``can_fork``), jobs run here, when their result is asked for.
    """

    def __init__(self) -> None:
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._answers: dict[int, tuple[bool, Any]] = {}
        self._sent = 0
        if not can_fork():
            return
        import multiprocessing

        context = multiprocessing.get_context("fork")
        here, there = context.Pipe()
        self._process = context.Process(target=_serve, args=(there, here), daemon=False)
        self._process.start()
        there.close()
        self._connection = here

    def submit(self, function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        if self._connection is None:
            return lambda: function(*args)
        job = self._sent
        self._sent += 1
        self._connection.send((job, function, args))
        return lambda: self._answer(job)

    def _answer(self, job: int) -> Any:
        assert self._connection is not None
        while job not in self._answers:
            try:
                number, ok, value = self._connection.recv()
            except EOFError:
                raise HelperError("the figure process ended without an answer") from None
            self._answers[number] = (ok, value)
        ok, value = self._answers.pop(job)
        if not ok:
            raise value
        return value

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(connection: Connection, parent_end: Connection) -> None:
    parent_end.close()  # the parent's end of the pipe, inherited: closed, so that EOF is seen
    import_backends()
    while True:
        try:
            job, function, args = connection.recv()
        except EOFError:
            return
        try:
            answer: tuple[int, bool, Any] = (job, True, function(*args))
        except Exception as error:  # sent back, raised in the caller
            answer = (job, False, error)
        try:
            connection.send(answer)
        except Exception as error:  # an answer that cannot be pickled: said, not lost
            connection.send((job, False, HelperError(f"{type(error).__name__}: {error}")))
