"""Work done by forked processes on the second core: the report, and a share of the models.

``analyze`` and ``run`` import about a second of libraries for the report (matplotlib with its
SVG and PDF backends, python-docx; tables.xlsx needs no openpyxl, see
``report.tabular_files.write_xlsx``) and then draw the figures and write results.json,
HTML, Word and Excel: none of it needs the analysis table, only the results. A
``ReportProcess`` forks when the command starts. The child imports the report's modules while
the parent reads the table and runs the analyses; it is then sent the results (pickled through
a pipe), builds the report and writes its files into the staging folder, and sends back
``None`` or its exception. The parent meanwhile writes ``analysis/<endpoint>.csv``, then
waits for it.

``Forked(work)`` runs ``work()`` in a child forked now (it sees this process' data as it is:
nothing is sent) and ``result()`` gives back its pickled return value: the analyses fit a
share of an endpoint's Cox models this way (``study.analysis``).

The same code runs on the same data, so the results and files are the bytes of a one-process
run (tests/test_study_forked.py compares them). Where forking is unsafe or unavailable (not
Linux; a process running other threads, such as the web app's server, whose locks a forked
child could inherit held), or a job cannot be pickled, the work is done in this process.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Imported by both processes: imported once, before the report process is forked, so that it
# inherits them (the parent imports numpy with pandas anyway; ~0.12 CPU s the child saves).
SHARED = ("numpy",)

# Imported by the report process while the parent works: what building and writing the report
# loads.
PRELOAD = (
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "matplotlib.backends.backend_svg",
    "matplotlib.backends.backend_pdf",
    "matplotlib.font_manager",
    "PIL.PngImagePlugin",
    "PIL.TiffImagePlugin",
    "docx",
    "concurrent.futures.process",  # the figure workers' pool
    "rtoutcomes.report.build",
    "rtoutcomes.report.figures",
    "rtoutcomes.report.survival_figures",
    "rtoutcomes.report.response_report",
    "rtoutcomes.report.forest",
    "rtoutcomes.report.parallel_figures",
    "rtoutcomes.report.docx_file",
    "rtoutcomes.report.html",
    "rtoutcomes.report.jsonio",
    "rtoutcomes.report.tabular_files",
)


def can_fork() -> bool:
    """Forking is safe here: Linux, and no other thread whose locks the child could inherit."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


# This process' ends of the pipes to its report process: a child forked later (a share of the
# models, the analysis CSVs) closes its copies, or the report process would wait for that child
# to end before it saw the end of its job's message.
_REPORT_PIPES: set[int] = set()


def _fork() -> tuple[int, int, int] | None:
    """Fork with a pipe each way: (pid, read end, write end) in each process, pid 0 in the
    child; ``None`` where forking is not safe."""
    if not can_fork():
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    down_read, down_write = os.pipe()  # parent -> child
    up_read, up_write = os.pipe()  # child -> parent
    pid = os.fork()
    if pid == 0:
        os.close(down_write)
        os.close(up_read)
        for fd in _REPORT_PIPES:
            os.close(fd)
        _REPORT_PIPES.clear()
        return 0, down_read, up_write
    os.close(down_read)
    os.close(up_write)
    return pid, up_read, down_write


def _reply_and_exit(up: int, work: Callable[[], Any]) -> None:
    """In a child: run ``work``, send back its value or its exception (with the traceback's
    text), exit without running the parent's exit handlers."""
    try:
        outcome: tuple[bool, Any, str] = (True, work(), "")
    except BaseException as error:  # every error goes back to the parent
        text = traceback.format_exc()
        try:
            pickle.loads(pickle.dumps(error))  # the parent must be able to rebuild it
        except Exception:  # one that cannot be pickled
            error = RuntimeError(f"{type(error).__name__}: {error}")
        outcome = (False, error, text)
    try:
        with os.fdopen(up, "wb") as pipe:
            pipe.write(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(0)


def _receive(pid: int, up: int, what: str) -> Any:
    """In the parent: the child's value (its exception raised, its traceback as a note)."""
    with os.fdopen(up, "rb") as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    if not message:
        raise RuntimeError(f"the {what} ended without a word (killed?)")
    ok, value, text = pickle.loads(message)
    if not ok:
        value.add_note(f"in the {what}:\n{text}")
        raise value
    return value


def _stop(pid: int | None, *fds: int) -> None:
    """Close our pipe ends and kill and reap the child if it is still there."""
    for fd in fds:
        if fd >= 0:
            os.close(fd)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


class Forked(Generic[T]):
    """``work()`` in a child forked now; ``result()`` its value. Use as a context manager: leaving
    the block before ``result()`` (an error here) kills and reaps the child. Without a child
    (``can_fork()`` false, or ``fork=False``) ``work`` runs at ``result()``."""

    def __init__(self, work: Callable[[], T], fork: bool = True) -> None:
        self._work: Callable[[], T] | None = work
        self.pid: int | None = None
        self._up = self._down = -1
        forked = _fork() if fork else None
        if forked is None:
            return
        pid, read, write = forked
        if pid == 0:  # the child: never returns
            os.close(read)
            _reply_and_exit(write, work)
        os.close(write)  # nothing is sent to this child
        self.pid, self._up, self._work = pid, read, None

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self.pid, self._up)
        self.pid, self._up = None, -1

    def result(self) -> T:
        if self._work is not None:
            work, self._work = self._work, None
            return work()
        pid, up = self.pid, self._up
        assert pid is not None, "result() asked twice"
        self.pid, self._up = None, -1
        value: T = _receive(pid, up, "forked process")
        return value


class ReportProcess:
    """A child forked now that preloads the report's modules and then runs one job.

    Use as a context manager: ``submit(job, *args)`` once, then ``wait()``; leaving the block
    early (an error in the parent) kills and reaps the child. ``job`` must be a module-level
    function and ``args`` picklable (they are sent); otherwise, or without a child, ``job``
    runs here at ``wait()``.
    """

    def __init__(self, fork: bool = True) -> None:
        self.pid: int | None = None
        self._up = self._down = -1
        self._pending: tuple[Callable[..., Any], tuple[Any, ...]] | None = None
        if fork and can_fork():
            for name in SHARED:
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)
        forked = _fork() if fork else None
        if forked is None:
            return
        pid, read, write = forked
        if pid == 0:  # the child: never returns
            _reply_and_exit(write, lambda: _preload_and_run(read))
        self.pid, self._up, self._down = pid, read, write
        _REPORT_PIPES.update((read, write))

    def __enter__(self) -> ReportProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, job: Callable[..., Any], *args: Any) -> None:
        """Start ``job(*args)`` in the child (here, at ``wait``, without one)."""
        if self.pid is not None:
            try:
                payload = pickle.dumps((job, args), protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, AttributeError, TypeError):
                self.close()  # e.g. a progress callback that is a closure: run it here
            else:
                with os.fdopen(self._down, "wb") as pipe:
                    _REPORT_PIPES.discard(self._down)
                    self._down = -1
                    pipe.write(payload)
                return
        self._pending = (job, args)

    def wait(self) -> None:
        """Wait for the job; raise its exception (with the child's traceback as a note)."""
        if self._pending is not None:
            job, args = self._pending
            self._pending = None
            job(*args)
            return
        if self.pid is None:
            return
        pid, up = self.pid, self._up
        self.pid, self._up = None, -1
        _REPORT_PIPES.discard(up)
        _receive(pid, up, "report process")

    def close(self) -> None:
        """Stop and reap the child if it is still there (an error in the parent)."""
        _REPORT_PIPES.difference_update((self._up, self._down))
        _stop(self.pid, self._up, self._down)
        self.pid, self._up, self._down = None, -1, -1


def _preload_and_run(down: int) -> None:
    """The report process: import the report's modules, then run the job sent through
    ``down`` (none if the parent gave up before sending one)."""
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # the job imports what it needs itself
            importlib.import_module(name)
    with os.fdopen(down, "rb") as pipe:
        message = pipe.read()
    if message:
        job, args = pickle.loads(message)
        job(*args)
