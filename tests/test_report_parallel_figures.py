"""The report's figures drawn by several worker processes are the serial run's, byte for byte
and in the same order."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rtoutcomes import forking
from rtoutcomes.report.build import build_report
from rtoutcomes.report.parallel_figures import draw
from test_report_render import results


def _many_figures() -> dict[str, Any]:
    out = results()
    for k in range(2, 5):  # the same endpoint under four names: eight figures
        out["endpoints"][f"OS{k}"] = copy.deepcopy(out["endpoints"]["OS"])
    return out


def test_parallel_figures_identical_to_serial() -> None:
    serial = build_report(_many_figures(), workers=1).figures
    parallel = build_report(_many_figures(), workers=3).figures
    assert len(serial) >= 8
    assert [f.key for f in parallel] == [f.key for f in serial]
    assert [f.caption for f in parallel] == [f.caption for f in serial]
    assert [f.rendered.files for f in parallel] == [f.rendered.files for f in serial]


def test_tasks_come_back_in_order() -> None:
    # negative control for the ordering: tasks that finish in reverse order still come back
    # in task order
    import time

    from rtoutcomes.report.document import Figure

    def task(i: int) -> list[Figure]:
        time.sleep(0.05 * (3 - i))
        return [Figure(key=f"f{i}", caption="", rendered=None)]  # type: ignore[arg-type]

    drawn = draw([lambda i=i: task(i) for i in range(4)], workers=4)
    assert [f.key for f in drawn] == ["f0", "f1", "f2", "f3"]


def test_costs_change_the_start_order_not_the_result_order() -> None:
    import os

    from rtoutcomes.report.document import Figure

    def task(i: int) -> list[Figure]:
        return [Figure(key=f"f{i}:{os.getpid()}", caption="", rendered=None)]  # type: ignore[arg-type]

    drawn = draw([lambda i=i: task(i) for i in range(5)], workers=2, costs=[1, 5, 2, 4, 3])
    assert [f.key.split(":")[0] for f in drawn] == ["f0", "f1", "f2", "f3", "f4"]
    assert all(int(f.key.split(":")[1]) != os.getpid() for f in drawn)  # drawn by the workers


def test_report_written_while_drawing_is_the_serial_report(tmp_path: Any) -> None:
    """The figures drawn by workers while results.json, the tables, Excel and the Word file's
    tables are written: every file the bytes of building the report serially, then writing."""
    from rtoutcomes.report.build import write_report_files, write_report_while_drawing

    serial, overlapped = tmp_path / "serial", tmp_path / "overlapped"
    serial.mkdir()
    overlapped.mkdir()
    write_report_files(build_report(_many_figures(), workers=1), serial, lambda _: None)
    write_report_while_drawing(_many_figures(), None, None, overlapped)
    names = sorted(p.relative_to(serial) for p in serial.rglob("*") if p.is_file())
    assert len(names) > 20 and any(n.suffix == ".docx" for n in names)
    assert names == sorted(p.relative_to(overlapped) for p in overlapped.rglob("*") if p.is_file())
    for name in names:
        assert (serial / name).read_bytes() == (overlapped / name).read_bytes(), name


@pytest.mark.parametrize("fork", [True, False])
def test_the_figures_of_some_tasks_waited_for_first(
    fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the Word file waits for the main figures only: they come in task order, then all of them
    import rtoutcomes.report.parallel_figures as parallel
    from rtoutcomes.report.document import Figure

    if not fork:
        monkeypatch.setattr(forking, "can_fork", lambda: False)

    def task(i: int) -> list[Figure]:
        return [Figure(key=f"f{i}", caption="", rendered=None)]  # type: ignore[arg-type]

    pending = parallel.start(
        [lambda i=i: task(i) for i in range(5)], workers=2, costs=[1, 5, 2, 4, 3], first=[4, 2]
    )
    assert [f.key for f in pending.of([4, 2])] == ["f2", "f4"]
    assert [f.key for f in pending()] == ["f0", "f1", "f2", "f3", "f4"]


def test_tasks_drawn_elsewhere_are_called_here_in_their_place() -> None:
    """A task whose figures another process draws already (the demo's swimmer and waterfall
    plots, begun before the analyses) is called here when waited for, never by a worker; the
    figures come back in task order."""
    import os

    from rtoutcomes.report.document import Figure

    def task(i: int) -> list[Figure]:
        return [Figure(key=f"f{i}:{os.getpid()}", caption="", rendered=None)]  # type: ignore[arg-type]

    import rtoutcomes.report.parallel_figures as parallel

    pending = parallel.start(
        [lambda i=i: task(i) for i in range(5)], workers=2, first=[0, 3], elsewhere=[3]
    )
    drawn = [f.key.split(":") for f in pending()]
    assert [key for key, _ in drawn] == ["f0", "f1", "f2", "f3", "f4"]
    here = [key for key, pid in drawn if int(pid) == os.getpid()]
    assert here == ["f3"]  # negative control: without ``elsewhere`` a worker draws it
    again = parallel.start([lambda i=i: task(i) for i in range(5)], workers=2, first=[0, 3])
    assert all(int(pid) != os.getpid() for _, pid in (f.key.split(":") for f in again()))


def _marked(folder: str, i: int) -> list[Any]:
    import os
    import time
    from pathlib import Path

    Path(folder, f"{i}-{os.getpid()}").touch()
    time.sleep(0.3)
    return []


def test_start_returns_once_each_worker_has_its_first_task(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the caller's work after ``start`` (results.json, the tables) must not keep the pool's
    # threads from handing the first tasks over: start waits for each worker's word that it
    # has begun one (a word is sent before the task runs: its mark follows at once)
    import time

    import rtoutcomes.report.parallel_figures as parallel

    waited: list[int] = []
    wait = parallel._wait_for_first_tasks

    def recording(started: int, workers: int) -> None:
        wait(started, workers)
        waited.append(workers)

    monkeypatch.setattr(parallel, "_wait_for_first_tasks", recording)
    monkeypatch.setattr(parallel, "FIRST_TASKS_WAIT", 30.0)  # the machine may be busy
    returned = time.monotonic()
    pending = parallel.start(
        [lambda i=i: _marked(str(tmp_path), i) for i in range(4)], workers=2, costs=[4, 3, 2, 1]
    )
    returned = time.monotonic() - returned
    try:
        assert waited == [2]
        assert returned < 25  # the words came (the cap was not what ended the wait)
        deadline = time.monotonic() + 5
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        begun = sorted(p.name for p in tmp_path.iterdir())
        assert [name.split("-")[0] for name in begun][:2] == ["0", "1"]
        assert len({name.split("-")[1] for name in begun[:2]}) == 2  # one task in each worker
    finally:
        pending()  # the pool ends (its threads would stop later tests' forks)


def test_the_wait_for_the_first_tasks_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import time

    import rtoutcomes.report.parallel_figures as parallel

    def waited(words: bytes, close: bool, cap: float) -> float:
        monkeypatch.setattr(parallel, "FIRST_TASKS_WAIT", cap)
        read, write = os.pipe()
        os.write(write, words)
        if close:
            os.close(write)
        began = time.monotonic()
        parallel._wait_for_first_tasks(read, 2)
        took = time.monotonic() - began
        if not close:
            os.close(write)
        with pytest.raises(OSError):
            os.fstat(read)  # closed by the wait
        return took

    assert waited(b"++", close=False, cap=30.0) < 5  # every word there: no wait for the cap
    assert waited(b"+", close=True, cap=30.0) < 5  # a worker's end closed without its word
    assert 0.2 <= waited(b"+", close=False, cap=0.2) < 5  # a word missing: the cap


def test_single_panels_with_more_curves_are_started_first() -> None:
    # a panel's cost counts its curves: the cheapest panels are drawn last, so that no costly
    # one is left alone on a core at the end (the order of the figures is the tasks')
    from rtoutcomes.report.build import figure_tasks
    from rtoutcomes.report.survival_figures import all_panels

    out = results()
    panels = list(all_panels(out).values())
    curves = [len(named.panel.curves) for named in panels]
    assert len(set(curves)) > 1  # panels of one curve and of several
    _, costs, main = figure_tasks(out, workers=2)  # a panel a task, whatever the workers
    singles = costs[main:]
    assert len(singles) == len(panels)
    assert singles == [2 * (1 + c) for c in curves]
    assert len(set(singles)) > 1  # a cost per task alone (as before) would be one value


def _collector_state() -> list[Any]:
    import gc

    return [(gc.isenabled(), gc.get_freeze_count() > 0)]


def test_workers_draw_with_the_collector_paused_and_the_inherited_objects_frozen() -> None:
    """In a forked worker a task runs with the garbage collector paused and what the worker
    inherited frozen; this process's collector is left as it was."""
    import gc

    if not forking.can_fork():
        pytest.skip("no forked workers here")
    frozen = gc.get_freeze_count()
    assert draw([_collector_state, _collector_state], workers=2) == [(False, True)] * 2
    assert gc.isenabled() and gc.get_freeze_count() == frozen


class _Node:
    """An object in a reference cycle (as a figure's artists are)."""

    def __init__(self) -> None:
        self.itself = self


_MADE: list[Any] = []


def _cyclic_task() -> list[Any]:
    import weakref

    _MADE.append(weakref.ref(_Node()))
    return []


def test_a_task_s_garbage_is_collected_after_it_where_the_caller_paused_the_collector() -> None:
    """Drawn here (one worker) by a caller that paused the collector (the demo's processes
    do): the task's cycles are freed after it and the collector stays paused; the same cycle
    made outside a task is not freed (negative control)."""
    import gc

    gc.disable()
    try:
        assert draw([_cyclic_task, _collector_state], workers=1) == [(False, False)]  # type: ignore[list-item]
        assert _MADE[-1]() is None and not gc.isenabled()
        _cyclic_task()
        assert _MADE[-1]() is not None
    finally:
        gc.enable()
        gc.collect()
