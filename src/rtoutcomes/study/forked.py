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

A registry study also sends it, before the results, work that needs only the cohort's facts
(the swimmer and waterfall plots: ``ReportProcess.start_early``): the child forks a process of
its own for it at once, while the parent still runs the analyses, and hands its value to the
job.

Work that needs nothing sent to it (a share of an endpoint's Cox models in
``study.analysis``, the analysis CSVs in ``study.run``) runs in a child through
``rtoutcomes.forking.InChild``, the helper this one is built from.

The same code runs on the same data, so the results and files are the bytes of a one-process
run (tests/test_study_forked.py compares them). Where forking is unsafe or unavailable (not
Linux; a process running other threads, such as the web app's server, whose locks a forked
child could inherit held: ``rtoutcomes.forking.can_fork``), or a job cannot be pickled, the work
is done in this process.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import pickle
from collections.abc import Callable
from typing import Any, BinaryIO

from rtoutcomes import forking
from rtoutcomes.study.memory import imported_uncollected

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
    # what the job and the figure workers would otherwise import lazily, each worker again
    # (~0.02 s a worker's first task; the Word file's XML escaping brings urllib.request and
    # http.client along, ~0.06 s while the workers draw): the report process has ~0.5 s with
    # nothing to do before the results come (benchmarks/demo_timeline.py)
    "rtoutcomes.study.run",  # the job's module (unpickling the job imports it)
    "rtoutcomes.report.flow_chart",
    "rtoutcomes.report.raster_thinning",
    "rtoutcomes.report.step_curves",
    "rtoutcomes.report.text_measure",
    "PIL.BmpImagePlugin",  # PIL's preinit() plugins, loaded by the first image saved
    "PIL.GifImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.PpmImagePlugin",
    "xml.sax.saxutils",
    "multiprocessing.popen_fork",
    "multiprocessing.synchronize",
)


class ReportProcess:
    """A child forked now that preloads the report's modules and then runs one job.

    Use as a context manager: ``submit(job, *args)`` once, then ``wait()``; leaving the block
    early (an error in the parent) kills and reaps the child. ``job`` must be a module-level
    function and ``args`` picklable (they are sent); otherwise, or without a child, ``job``
    runs here at ``wait()``.

    ``start_early(early, *args)`` before ``submit``: work the job will need that can start
    before the job's own data exist (the demo's swimmer and waterfall plots need only the
    cohort's facts, not the analyses). The child forks a process of its own for it at once
    (with the report's modules imported: the child is otherwise idle until the job comes); the
    job is then called with the keyword ``early``, a function that waits for ``early(*args)``'s
    value (called once). Without a child, ``early(*args)`` runs here when the job calls it:
    the same code on the same data.
    """

    def __init__(self, fork: bool = True) -> None:
        self.pid: int | None = None
        self._up = self._down = -1
        self._pipe: BinaryIO | None = None
        self._pending: tuple[Callable[..., Any], tuple[Any, ...]] | None = None
        self._early: tuple[Callable[..., Any], tuple[Any, ...]] | None = None
        if not (fork and forking.can_fork()):
            return
        imported_uncollected(SHARED)
        pid, read, write = forking.fork_with_pipes()
        if pid == 0:  # the child: never returns
            # its own ends, closed by the children it forks (the early work's)
            forking.PARENT_ONLY_PIPES.update((read, write))
            forking.reply_and_exit(write, lambda: _preload_and_run(read))
        self.pid, self._up, self._down = pid, read, write
        forking.PARENT_ONLY_PIPES.update((read, write))

    def __enter__(self) -> ReportProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_early(self, early: Callable[..., Any], *args: Any) -> None:
        """Start ``early(*args)`` in a process forked by the child now (here, when the job
        asks for it, without one); the job submitted next is given its value (see above)."""
        self._early = (early, args)
        if not self._send(("early", early, args), last=False):
            self.close()

    def submit(self, job: Callable[..., Any], *args: Any) -> None:
        """Start ``job(*args)`` in the child (here, at ``wait``, without one)."""
        if self._send(("job", job, args), last=True):
            return
        self.close()  # e.g. a progress callback that is a closure: run it here
        self._pending = (job, args)

    def _send(self, message: tuple[str, Callable[..., Any], tuple[Any, ...]], last: bool) -> bool:
        """``message`` written to the child (the pipe closed after the ``last`` one); ``False``
        without a child, where the message cannot be pickled or the child is gone."""
        if self.pid is None:
            return False
        try:
            payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError):
            return False
        if self._pipe is None:
            self._pipe = os.fdopen(self._down, "wb")
        try:
            self._pipe.write(payload)
            if last:
                self._close_pipe()
            else:
                self._pipe.flush()
        except OSError:  # the child ended (killed?): the work is done here instead
            return False
        return True

    def _close_pipe(self) -> None:
        forking.PARENT_ONLY_PIPES.discard(self._down)
        if self._pipe is not None:
            self._pipe.close()  # closes self._down
        elif self._down >= 0:
            os.close(self._down)
        self._pipe, self._down = None, -1

    def wait(self) -> None:
        """Wait for the job; raise its exception (with the child's traceback as a note)."""
        if self._pending is not None:
            job, args = self._pending
            self._pending = None
            if self._early is not None:
                early, early_args = self._early
                job(*args, early=lambda: early(*early_args))
            else:
                job(*args)
            return
        if self.pid is None:
            return
        pid, up = self.pid, self._up
        self.pid, self._up = None, -1
        forking.PARENT_ONLY_PIPES.discard(up)
        forking.receive(pid, up, "report process")

    def close(self) -> None:
        """Stop and reap the child if it is still there (an error in the parent)."""
        forking.PARENT_ONLY_PIPES.difference_update((self._up, self._down))
        if self._pipe is not None:
            with contextlib.suppress(OSError):  # a child that is gone: nothing to flush to
                self._pipe.close()
            self._pipe, self._down = None, -1
        forking.stop(self.pid, self._up, self._down)
        self.pid, self._up, self._down = None, -1, -1


def _preload_and_run(down: int) -> None:
    """The report process: import the report's modules, then run the job sent through
    ``down`` (none if the parent gave up before sending one), after forking a process for the
    early work sent before it, if any."""
    from rtoutcomes.report.lazy_modules import defer_unused

    defer_unused()  # what the backends import but no figure uses: run only if used
    imported_uncollected(PRELOAD, freeze=True)  # the job imports what is missing itself
    with os.fdopen(down, "rb") as pipe, contextlib.ExitStack() as stack:
        early: dict[str, Callable[[], Any]] = {}
        while True:
            try:
                kind, job, args = pickle.load(pipe)
            except EOFError:  # the parent gave up before sending the job
                return
            if kind == "early":
                child = stack.enter_context(forking.InChild(functools.partial(job, *args)))
                early["early"] = child.result
                continue
            # the results too (~120,000 objects at 1e5 rows) out of the collector's reach: the
            # figure workers forked next would otherwise traverse them (and copy their pages)
            gc.freeze()
            job(*args, **early)
            return
