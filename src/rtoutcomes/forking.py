"""Work done by a forked child while this process goes on (the second core): the one helper
every layer uses.

``InChild(work)`` forks now; the child runs ``work()`` on this process' data as it was at the
fork (nothing is sent to it), sends back its pickled value or its error, and exits without
running this process' exit handlers or touching anything it inherited (open files, database
connections). ``result()`` waits for the value, or raises the child's error with its traceback
as a note. Leaving the ``with`` block before (an error here) kills and reaps the child. Where
forking is unsafe or impossible (``can_fork()``: not Linux; another thread running, whose
locks the child could inherit held) or not asked for (``fork=False``), ``work()`` runs here, at
``result()``: the same code on the same data, so the same value.

The pieces below it (``fork_with_pipes``, ``reply_and_exit``, ``receive``, ``stop``) are what a
child that is sent its job later is built from (``study.forked.ReportProcess``). A process
that keeps pipes to such a child lists their ends in ``PARENT_ONLY_PIPES``: every child forked
afterwards closes its copies, or the child reading to the end of its pipe would wait for them.

Users: the registry's write path (a large audit batch, the largest files' checks), the demo
(the registry import, the console summary), ``analyze`` and ``run`` (a share of the Cox
models, the analysis CSVs) and the report's figure workers (``can_fork``).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# This process' ends of pipes to a child that reads its job to the end of the pipe: a child
# forked later closes its copies of them (see ``fork_with_pipes``). The file descriptors are
# the process' own state, so the set that tracks them is too.
PARENT_ONLY_PIPES: set[int] = set()


def can_fork() -> bool:
    """Forking is safe here: Linux, and no other thread whose locks the child could inherit."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def fork_with_pipes() -> tuple[int, int, int]:
    """Fork with a pipe each way: ``(pid, read end, write end)`` in each process, pid 0 in the
    child (which has closed its copies of ``PARENT_ONLY_PIPES``). The caller checks
    ``can_fork()`` first."""
    sys.stdout.flush()
    sys.stderr.flush()
    down_read, down_write = os.pipe()  # parent -> child
    up_read, up_write = os.pipe()  # child -> parent
    pid = os.fork()
    if pid == 0:
        os.close(down_write)
        os.close(up_read)
        for fd in PARENT_ONLY_PIPES:
            os.close(fd)
        PARENT_ONLY_PIPES.clear()
        return 0, down_read, up_write
    os.close(down_read)
    os.close(up_write)
    return pid, up_read, down_write


def reply_and_exit(up: int, work: Callable[[], Any]) -> None:
    """In a child: run ``work``, send its value or its error (with the traceback's text) down
    ``up``, and exit without running the parent's exit handlers. Never returns."""
    try:
        try:
            outcome: tuple[bool, Any, str] = (True, work(), "")
        except BaseException as error:  # every error goes back to the parent
            text = traceback.format_exc()
            try:
                pickle.loads(pickle.dumps(error))  # the parent must be able to rebuild it
            except Exception:  # one that cannot be pickled: its text instead
                error = RuntimeError(f"{type(error).__name__}: {error}")
            outcome = (False, error, text)
        with os.fdopen(up, "wb") as pipe:
            pipe.write(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(0)


def receive(pid: int, up: int, what: str) -> Any:
    """In the parent: the child's value, read to the end of ``up`` (closed), the child reaped;
    its error raised, with the child's traceback as a note ("in the WHAT: ...")."""
    with os.fdopen(up, "rb") as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    if not message:
        raise RuntimeError(f"the {what} ended without its result (killed?)")
    ok, value, text = pickle.loads(message)
    if not ok:
        value.add_note(f"in the {what}:\n{text}")
        raise value
    return value


def stop(pid: int | None, *fds: int) -> None:
    """Close these pipe ends (those that are open, ``>= 0``) and kill and reap the child if it
    is still there."""
    for fd in fds:
        if fd >= 0:
            os.close(fd)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


class InChild(Generic[T]):
    """``work()`` in a child forked now (where ``fork`` and ``can_fork()``); ``result()`` its
    value. ``pid`` is the child's (``None`` once reaped, or without one)."""

    def __init__(self, work: Callable[[], T], fork: bool = True) -> None:
        self._work: Callable[[], T] | None = work
        self.pid: int | None = None
        self._up = -1
        if not (fork and can_fork()):
            return
        pid, read, write = fork_with_pipes()
        if pid == 0:  # the child: never returns
            os.close(read)  # nothing is sent to it
            reply_and_exit(write, work)
        os.close(write)
        self.pid, self._up, self._work = pid, read, None

    def __enter__(self) -> InChild[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self.pid, self._up)
        self.pid, self._up = None, -1

    @property
    def forked(self) -> bool:
        """The work runs in a child that has not yet been waited for (without a child it runs
        here, at ``result()``)."""
        return self.pid is not None

    def result(self) -> T:
        if self._work is not None:
            work, self._work = self._work, None
            return work()
        pid, up = self.pid, self._up
        assert pid is not None, "result() asked twice"
        self.pid, self._up = None, -1
        value: T = receive(pid, up, "forked process")
        return value
