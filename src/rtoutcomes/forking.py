"""One piece of work done by a forked child while this process goes on (the second core).

``InChild(work)`` forks now; the child runs ``work()`` on this process' data as it was at the
fork (nothing is sent to it), sends back its pickled value or its error, and exits without
running this process' exit handlers or touching anything it inherited (open files, database
connections). ``result()`` waits for the value, or raises the child's error with its traceback
as a note. Leaving the ``with`` block before (an error here) kills and reaps the child. Where
forking is unsafe or impossible (not Linux; another thread running, whose locks the child
could inherit held) ``work()`` runs here, at ``result()``: the same code on the same data, so
the same value.

The registry's write path prepares a large audit batch this way (``registry.changes``);
``study.forked`` does the same for the report and the models of ``analyze``.
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


def can_fork() -> bool:
    """Linux, and no thread but this one."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


class InChild(Generic[T]):
    """``work()`` in a child forked now (where ``can_fork()``); ``result()`` its value."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work: Callable[[], T] | None = work
        self._pid: int | None = None
        self._pipe = -1
        if not can_fork():
            return
        sys.stdout.flush()
        sys.stderr.flush()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _run_and_exit(work, write)
        os.close(write)
        self._pid, self._pipe, self._work = pid, read, None

    def __enter__(self) -> InChild[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pipe >= 0:
            os.close(self._pipe)
            self._pipe = -1
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = None

    @property
    def forked(self) -> bool:
        """The work runs in a child (else it runs here, at ``result()``)."""
        return self._pid is not None

    def result(self) -> T:
        if self._work is not None:
            work, self._work = self._work, None
            return work()
        assert self._pid is not None, "result() asked twice"
        with os.fdopen(self._pipe, "rb") as pipe:
            self._pipe = -1
            message = pipe.read()
        os.waitpid(self._pid, 0)
        self._pid = None
        if not message:
            raise RuntimeError("a forked process ended without its result (killed?)")
        ok, value, text = pickle.loads(message)
        if not ok:
            value.add_note(f"in a forked process:\n{text}")
            raise value
        return value


def _run_and_exit(work: Callable[[], Any], pipe: int) -> None:
    """In the child: ``work()``'s value, or its error (as one the parent can unpickle), down
    ``pipe``; then ``os._exit``."""
    try:
        try:
            outcome: tuple[bool, Any, str] = (True, work(), "")
        except BaseException as error:  # every error goes to the parent
            text = traceback.format_exc()
            try:
                pickle.loads(pickle.dumps(error))
            except Exception:  # not picklable: its text instead
                error = RuntimeError(f"{type(error).__name__}: {error}")
            outcome = (False, error, text)
        with os.fdopen(pipe, "wb") as stream:
            stream.write(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(0)
