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

import gc
import os
import pickle
from collections.abc import Callable
from typing import Any

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
)


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
        if not (fork and forking.can_fork()):
            return
        imported_uncollected(SHARED)
        pid, read, write = forking.fork_with_pipes()
        if pid == 0:  # the child: never returns
            forking.reply_and_exit(write, lambda: _preload_and_run(read))
        self.pid, self._up, self._down = pid, read, write
        forking.PARENT_ONLY_PIPES.update((read, write))

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
                    forking.PARENT_ONLY_PIPES.discard(self._down)
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
        forking.PARENT_ONLY_PIPES.discard(up)
        forking.receive(pid, up, "report process")

    def close(self) -> None:
        """Stop and reap the child if it is still there (an error in the parent)."""
        forking.PARENT_ONLY_PIPES.difference_update((self._up, self._down))
        forking.stop(self.pid, self._up, self._down)
        self.pid, self._up, self._down = None, -1, -1


def _preload_and_run(down: int) -> None:
    """The report process: import the report's modules, then run the job sent through
    ``down`` (none if the parent gave up before sending one)."""
    imported_uncollected(PRELOAD, freeze=True)  # the job imports what is missing itself
    with os.fdopen(down, "rb") as pipe:
        message = pipe.read()
    if message:
        job, args = pickle.loads(message)
        # the results too (~120,000 objects at 1e5 rows) out of the collector's reach: the
        # figure workers forked next would otherwise traverse them (and copy their pages)
        gc.freeze()
        job(*args)
