"""The report's figures drawn by several worker processes are the serial run's, byte for byte
and in the same order."""

from __future__ import annotations

import copy
from typing import Any

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


def test_helper_process_draws_the_serial_bytes() -> None:
    """The demo's helper process (forked before the analysis) draws the figures of a serial
    run, byte for byte, and returns its other jobs' results in any order asked."""
    import os

    from rtoutcomes.io.outputs import xml_safe_tree
    from rtoutcomes.report.build import draw_figures
    from rtoutcomes.report.parallel_figures import Helper

    results = xml_safe_tree(_many_figures())
    serial = build_report(_many_figures(), workers=1).figures
    with Helper() as helper:
        pid = helper.submit(os.getpid)
        figures = helper.submit(draw_figures, results, 2)
        assert [f.rendered.files for f in figures()] == [f.rendered.files for f in serial]
        assert pid() != os.getpid()  # asked after a later job: kept until asked


def test_helper_raises_the_jobs_error_and_keeps_serving() -> None:
    import pytest

    from rtoutcomes.report.parallel_figures import Helper

    with Helper() as helper:
        failing = helper.submit(int, "not a number")
        after = helper.submit(int, "42")
        with pytest.raises(ValueError, match="not a number"):
            failing()
        assert after() == 42


def test_helper_runs_jobs_here_where_it_cannot_fork() -> None:
    import os
    import threading

    from rtoutcomes.report.parallel_figures import Helper

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()  # a second thread: forking would be unsafe
    try:
        with Helper() as helper:
            assert helper.submit(os.getpid)() == os.getpid()
    finally:
        stop.set()
        other.join()
