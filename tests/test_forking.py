"""rtoutcomes.forking.InChild: the work's value from a child, its error raised here, the child
reaped when left early, and the work done here where forking is unsafe."""

from __future__ import annotations

import os
import threading
import time

import pytest

from rtoutcomes.forking import InChild


def test_the_value_comes_from_a_child() -> None:
    data = list(range(1000))
    with InChild(lambda: (os.getpid(), sum(data))) as child:
        assert child.forked
        pid, total = child.result()
    assert pid != os.getpid() and total == sum(data)


def test_the_childs_error_is_raised_here_with_its_traceback() -> None:
    def fails() -> None:
        raise ValueError("no such lesion L99")

    with InChild(fails) as child, pytest.raises(ValueError, match="L99") as raised:
        child.result()
    assert any("in the forked process" in note for note in raised.value.__notes__)


def test_leaving_early_kills_and_reaps_the_child() -> None:
    with pytest.raises(KeyError), InChild(lambda: time.sleep(60)) as child:
        pid = child.pid
        raise KeyError("an error here before result()")
    assert pid is not None
    with pytest.raises(ChildProcessError):  # reaped: no such child any more
        os.waitpid(pid, os.WNOHANG)


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with InChild(os.getpid) as child:
            assert not child.forked
            assert child.result() == os.getpid()  # done here
    finally:
        stop.set()
        thread.join()
