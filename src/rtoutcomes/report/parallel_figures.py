"""Draw a report's figures on the available cores, with the bytes of a serial run.

Each figure is drawn from the results alone (no shared state between figures), so the set can
be split into tasks and drawn in worker processes. The workers are forked (Linux): they inherit
the results and the task list, and only the rendered files travel back. Elsewhere, with one
core, or in a process running other threads, the tasks run here, one after the other. Either
way the figures come back in task order.

``start`` forks the workers and returns at once, so that the caller writes the outputs that
need no figure (results.json, CSV, Excel, the Word file's tables) while they draw.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence

from rtoutcomes import forking
from rtoutcomes.collector import collector_paused
from rtoutcomes.report.document import Figure

Task = Callable[[], list[Figure]]
_TASKS: Sequence[Task] = ()  # the tasks of the pool being run (read by the forked workers)
# a forked worker's end of the pipe on which it says that it has begun its first task (-1 after)
_STARTED = -1
FIRST_TASKS_WAIT = 0.05  # seconds ``start`` waits at most for the workers' first tasks to begin


def available_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


def _start_worker() -> None:
    """A forked worker's first step: what it inherited (the plotting libraries, the results)
    is put out of the garbage collector's reach (``gc.freeze``), so that its collections scan
    only the objects its own figures make (the figures' bytes do not depend on when garbage
    is collected)."""
    import gc

    gc.freeze()


def _run(index: int) -> list[Figure]:
    global _STARTED
    if _STARTED >= 0:  # the first task of this worker: say so (see ``_wait_for_first_tasks``)
        with contextlib.suppress(OSError):  # no longer waited for
            os.write(_STARTED, b"+")
        os.close(_STARTED)
        _STARTED = -1
    return _collected(_TASKS[index])


def _wait_for_first_tasks(started: int, workers: int) -> None:
    """Wait (at most ``FIRST_TASKS_WAIT`` seconds: a worker may get no task, when another
    took them all) until each of ``workers`` workers has begun its first task, reading their
    word from ``started`` (then closed). The pool's threads hand the tasks to the workers, and each
    needs the interpreter to do it: while this thread ran the caller's next CPU-bound work
    (results.json, the tables) the first tasks began 25-40 ms after ``start`` was called (both
    cores idle at the start of the demo's figures); waiting here, blocked in a read, leaves
    them the interpreter."""
    import select
    import time

    deadline = time.monotonic() + FIRST_TASKS_WAIT
    seen = 0
    try:
        while seen < workers:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([started], [], [], left)[0]:
                return
            word = os.read(started, workers - seen)
            if not word:  # every worker's end closed
                return
            seen += len(word)
    finally:
        os.close(started)


def _collected(task: Task) -> list[Figure]:
    """``task`` drawn with the garbage collector paused (matplotlib's artists make objects by
    the ten thousand; collections during the drawing were ~5 % of its CPU), then the task's
    garbage collected at once: a figure's artists are reference cycles, freed only by a
    collection, and with no collection during the task every object it made is still in the
    youngest generation, so collecting that one frees them without scanning older objects.
    The collector is left as it was (paused where the caller had paused it)."""
    import gc

    try:
        with collector_paused():
            return task()
    finally:
        gc.collect(0)


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


class Pending:
    """Figures being drawn: ``pending()`` waits for all of them (in task order),
    ``pending.of(indices)`` for those tasks' only (in task order); ``tasks``: how many."""

    def __init__(self, result: Callable[[int], list[Figure]], count: int) -> None:
        self._result = result
        self.tasks = count

    def of(self, indices: Sequence[int]) -> list[Figure]:
        return [figure for i in sorted(indices) for figure in self._result(i)]

    def __call__(self) -> list[Figure]:
        return self.of(range(self.tasks))


def start(
    tasks: Sequence[Task],
    workers: int | None = None,
    costs: Sequence[float] | None = None,
    first: Sequence[int] = (),
    elsewhere: Sequence[int] = (),
) -> Pending:
    """``draw``, begun: the workers are forked and given the tasks now; the returned ``Pending``
    waits for the figures. ``first``: tasks started before the others (each group costliest
    first), e.g. those whose figures the caller needs before the rest. ``elsewhere``: tasks
    whose figures are being drawn by another process already (the task waits for them): called
    here when waited for, not given to the workers. Drawn here (when waited for) where workers
    cannot be forked or are not worth it."""
    global _TASKS

    here = set(elsewhere)
    pooled = [i for i in range(len(tasks)) if i not in here]
    workers = available_cores() if workers is None else workers
    workers = min(workers, len(pooled))
    drawn: dict[int, list[Figure]] = {}

    def serial(i: int) -> list[Figure]:
        if i not in drawn:
            drawn[i] = _collected(tasks[i])
        return drawn[i]

    if workers <= 1 or not forking.can_fork():
        return Pending(serial, len(tasks))
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import_backends()
    early = set(first)
    order = sorted(pooled, key=lambda i: (i not in early, -costs[i] if costs else 0.0))
    global _STARTED
    started, _STARTED = os.pipe()
    _TASKS = tasks
    try:
        pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker
        )
        futures = {i: pool.submit(_run, i) for i in order}
    finally:
        # the workers hold their copies (forked when the first task was submitted)
        _TASKS = ()
        os.close(_STARTED)
        _STARTED = -1
    _wait_for_first_tasks(started, workers)
    waited: set[int] = set()

    def result(i: int) -> list[Figure]:
        try:
            if i in here:
                return serial(i)
            figures = futures[i].result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
        waited.add(i)
        if len(waited) == len(pooled):  # all collected: the workers end
            pool.shutdown()
        return figures

    return Pending(result, len(tasks))
