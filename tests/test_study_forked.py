"""Work in forked processes (``study.forked``): the report drawn and written by a report
process and an endpoint's models fitted in two processes give the bytes of one process; their
errors are raised in the parent as one process raises them, with the output folder untouched;
every child is reaped; a job that cannot be pickled runs in-process."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rtoutcomes import forking
from rtoutcomes.report import build
from rtoutcomes.study import load_study
from rtoutcomes.study.errors import AnalysisTableError, StudyFileError
from rtoutcomes.study.forked import ReportProcess
from rtoutcomes.study.run import analyze_file

HERE = Path(__file__).parent
LUNG = HERE / "reference" / "fixtures" / "study_lung.csv"
STUDY = HERE / "data" / "study_lung.yaml"


def _raised_in(error: BaseException) -> int:
    """The process number in a test error's "... in process N" (compared whole: the parent's
    number may be part of the child's, as 332 is of 3332)."""
    match = re.search(r"in process (\d+)", str(error))
    assert match is not None, str(error)
    return int(match.group(1))


@pytest.fixture(autouse=True)
def _forking_possible() -> None:
    # asked when each test runs: a thread left by an earlier test would stop the forks
    if not forking.can_fork():
        pytest.skip("forks only on Linux, in a process without other threads")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the report processes forked during the test."""
    pids: list[int] = []
    start = ReportProcess.__init__

    def recording(self: ReportProcess, fork: bool = True) -> None:
        start(self, fork)
        if self.pid is not None:
            pids.append(self.pid)

    monkeypatch.setattr(ReportProcess, "__init__", recording)
    return pids


def _recorded(folder: Path, tag: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, leaving in ``folder`` a file named after ``tag`` and the id of the
    process that called it (a forked child inherits the replacement)."""

    def recording(*args: object) -> object:
        (folder / f"{tag}-{os.getpid()}").touch()
        return function(*args)

    return recording


def _callers(folder: Path, tag: str) -> list[int]:
    return [int(p.name.split("-")[1]) for p in folder.glob(f"{tag}-*")]


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_report_process_writes_the_bytes_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    study = load_study(STUDY)
    recording = _recorded(tmp_path, "wrote", build.write_report_while_drawing)
    monkeypatch.setattr(build, "write_report_while_drawing", recording)
    two = analyze_file(study, LUNG, tmp_path / "forked")
    writers = _callers(tmp_path, "wrote")
    assert writers == forked  # the report was written by the forked process
    monkeypatch.setattr(forking, "can_fork", lambda: False)
    one = analyze_file(study, LUNG, tmp_path / "alone")
    assert two == one
    files = _files(tmp_path / "forked")
    assert {"results.json", "report.html", "manuscript.docx", "analysis/OS.csv"} <= set(files)
    assert any(name.startswith("figures/") for name in files)
    assert files == _files(tmp_path / "alone")
    assert all(_reaped(pid) for pid in forked)


def test_an_error_in_the_report_process_is_raised_and_the_folder_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("earlier", encoding="utf-8")

    def failing(*_: object) -> None:
        raise StudyFileError(f"drawing failed in process {os.getpid()}")

    monkeypatch.setattr(build, "write_report_while_drawing", failing)
    with pytest.raises(StudyFileError, match="drawing failed in process") as info:
        analyze_file(load_study(STUDY), LUNG, out)
    assert _raised_in(info.value) != os.getpid()  # raised by the child, re-raised here
    assert any("in the report process" in note for note in info.value.__notes__)
    assert _files(out) == {"results.json": b"earlier"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left
    assert len(forked) == 1 and _reaped(forked[0])


def test_an_error_before_the_report_kills_and_reaps_the_child(
    tmp_path: Path, forked: list[int]
) -> None:
    bad = tmp_path / "bad.csv"
    table = pd.read_csv(LUNG)
    table.loc[3, "time"] = -3
    table.to_csv(bad, index=False)
    with pytest.raises(AnalysisTableError, match="is negative"):
        analyze_file(load_study(STUDY), bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert len(forked) == 1 and _reaped(forked[0])


def _append(target: list[int], value: int) -> None:
    target.append(value)


def test_an_unpicklable_job_runs_in_this_process() -> None:
    seen: list[int] = []
    with ReportProcess() as worker:
        child = worker.pid
        assert child is not None
        worker.submit(lambda: _append(seen, os.getpid()))  # a lambda cannot be pickled
        assert worker.pid is None  # the child was stopped
        worker.wait()
    assert seen == [os.getpid()]
    assert _reaped(child)


@pytest.fixture
def forked_models(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every endpoint's models split between two processes, whatever its rows; the pids of
    the processes forked for them."""
    from rtoutcomes.forking import InChild
    from rtoutcomes.study import analysis

    pids: list[int] = []
    start = InChild.__init__

    def recording(self: InChild[object], work: object, fork: bool = True) -> None:
        start(self, work, fork)  # type: ignore[arg-type]
        if self.pid is not None:
            pids.append(self.pid)

    monkeypatch.setattr(InChild, "__init__", recording)
    monkeypatch.setattr(analysis, "PARALLEL_ROWS", 1)
    return pids


def _lung_analyses(study: object) -> object:
    from rtoutcomes.study.analysis import run_analyses
    from rtoutcomes.study.table import read_table

    table = read_table(LUNG)
    return run_analyses(study, {name: table for name in study.endpoints})  # type: ignore[attr-defined]


def test_models_fitted_in_two_processes_are_the_same(
    monkeypatch: pytest.MonkeyPatch, forked_models: list[int]
) -> None:
    import json

    study = load_study(STUDY)
    two = _lung_analyses(study)
    assert len(forked_models) == 2  # one per endpoint
    assert all(_reaped(pid) for pid in forked_models)
    monkeypatch.setattr(forking, "can_fork", lambda: False)
    one = _lung_analyses(study)
    assert json.dumps(two, sort_keys=False) == json.dumps(one, sort_keys=False)  # order too


def test_a_model_error_is_the_one_process_error(
    monkeypatch: pytest.MonkeyPatch, forked_models: list[int]
) -> None:
    # cox.firth: always on a clustered endpoint: every model of OS_inst is refused; the
    # error raised is the first model's, as in one process
    import yaml

    from rtoutcomes.study import parse_study

    spec = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    spec["cox"]["firth"] = "always"
    spec["data"] = str(LUNG)
    spec["analyses"].pop("nested")
    study = parse_study(spec, source=str(STUDY))
    with pytest.raises(StudyFileError) as two:
        _lung_analyses(study)
    assert forked_models and all(_reaped(pid) for pid in forked_models)
    monkeypatch.setattr(forking, "can_fork", lambda: False)
    with pytest.raises(StudyFileError) as one:
        _lung_analyses(study)
    assert str(two.value) == str(one.value)
    assert "OS_inst univariate model of sex" in str(one.value)


def test_the_first_model_error_in_the_models_order_is_raised() -> None:
    from rtoutcomes.study.analysis import _ModelJobs

    jobs = object.__new__(_ModelJobs)
    jobs.order = ["a", "b", "c"]
    first, later = StudyFileError("model a"), StudyFileError("model c")
    mine: list[tuple[str, object]] = [("b", {"n": 1}), ("c", later)]
    with pytest.raises(StudyFileError, match="model a"):
        jobs.results(mine, [("a", first)])  # the child's error comes first in the order
    jobs.order = ["a", "b"]
    assert jobs.results([("b", {"n": 1})], [("a", {"n": 2})]) == {"a": {"n": 2}, "b": {"n": 1}}


@pytest.fixture
def csv_writers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``analysis/*.csv`` written by a forked child from the first row (each writer leaves a
    file named after its pid in the returned folder)."""
    from rtoutcomes.study import analysis, run

    marks = tmp_path / "marks"
    marks.mkdir()
    write = run._write_analysis_csvs

    def recording(*args: object) -> None:
        (marks / str(os.getpid())).touch()
        write(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "_write_analysis_csvs", recording)
    monkeypatch.setattr(analysis, "PARALLEL_ROWS", 1)
    return marks


def test_analysis_csvs_written_by_a_child_are_the_bytes_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv_writers: Path
) -> None:
    study = load_study(STUDY)
    two = analyze_file(study, LUNG, tmp_path / "forked")
    writers = [int(p.name) for p in csv_writers.iterdir()]
    assert len(writers) == 1 and writers[0] != os.getpid()
    assert _reaped(writers[0])
    monkeypatch.setattr(forking, "can_fork", lambda: False)
    one = analyze_file(study, LUNG, tmp_path / "alone")
    assert two == one
    assert "analysis/OS.csv" in _files(tmp_path / "forked")
    assert _files(tmp_path / "forked") == _files(tmp_path / "alone")


def test_an_error_writing_the_analysis_csvs_is_raised_and_the_folder_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv_writers: Path
) -> None:
    from rtoutcomes.report import tabular_files

    def failing(*_: object) -> None:
        raise StudyFileError(f"writing failed in process {os.getpid()}")

    monkeypatch.setattr(tabular_files, "write_analysis_csvs", failing)
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("earlier", encoding="utf-8")
    with pytest.raises(StudyFileError, match="writing failed in process") as info:
        analyze_file(load_study(STUDY), LUNG, out)
    assert _raised_in(info.value) != os.getpid()  # raised by the child, re-raised here
    assert any("in the forked process" in note for note in info.value.__notes__)
    assert _files(out) == {"results.json": b"earlier"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marks", "out"]  # no staging left


def _nothing() -> None:
    return None


def test_a_later_child_does_not_hold_the_report_process_pipe() -> None:
    """The report process reads its job to the end of the pipe: a child forked after it (a
    model share, the analysis CSVs) must not keep the pipe's write end open, or the report
    would wait for that child to end."""
    import signal

    from rtoutcomes.forking import InChild

    hold_read, hold_write = os.pipe()

    def blocked() -> None:  # ends only when the test lets it
        os.read(hold_read, 1)

    def timeout(*_: object) -> None:
        raise TimeoutError("the report process waited for the other child")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)  # a held pipe would hang the wait below: fail instead
    try:
        with ReportProcess() as report, InChild(blocked) as other:
            assert report.pid is not None and other.pid is not None
            report.submit(_nothing)
            report.wait()  # returns while the other child still runs
            assert not _reaped(other.pid)
            os.write(hold_write, b"x")
            other.result()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.close(hold_read)
        os.close(hold_write)


def _process_of(tag: str) -> tuple[str, int]:
    return tag, os.getpid()


def _record_early(folder: str, early: Callable[[], tuple[str, int]]) -> None:
    tag, pid = early()
    Path(folder, f"{tag}-{pid}-{os.getpid()}").touch()


def _failing_early() -> None:
    raise StudyFileError(f"early work failed in process {os.getpid()}")


def _never_ending_early() -> None:
    import time

    time.sleep(60)


def _ignore_early(folder: str, early: Callable[[], object]) -> None:
    Path(folder, f"job-{os.getpid()}").touch()


@pytest.mark.parametrize("fork", [True, False])
def test_early_work_runs_in_a_process_of_its_own_and_its_value_goes_to_the_job(
    tmp_path: Path, fork: bool
) -> None:
    with ReportProcess(fork=fork) as report:
        child = report.pid
        report.start_early(_process_of, "early")
        report.submit(_record_early, str(tmp_path))
        report.wait()
    [mark] = [p.name for p in tmp_path.iterdir()]
    tag, early, job = mark.split("-")
    assert tag == "early"
    if fork:
        # the job ran in the report process, the early work in a third process, reaped
        assert int(job) == child and int(early) not in (child, os.getpid())
        assert not Path(f"/proc/{early}").exists()
        assert child is not None and _reaped(child)
    else:  # negative control: without a child, both run here
        assert int(job) == int(early) == os.getpid()


def test_an_error_in_the_early_work_is_raised_here() -> None:
    with (
        ReportProcess() as report,
        pytest.raises(StudyFileError, match="early work failed") as info,
    ):
        child = report.pid
        report.start_early(_failing_early)
        report.submit(_record_early, "/nonexistent")
        report.wait()
    assert _raised_in(info.value) not in (os.getpid(), child)  # raised by the early process
    assert any("in the report process" in note for note in info.value.__notes__)


def test_early_work_the_job_never_asks_for_is_stopped_with_it(tmp_path: Path) -> None:
    import signal
    import time

    def timeout(*_: object) -> None:
        raise TimeoutError("the report process waited for its early work")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)  # a wait for the early work would take 60 s: fail instead
    try:
        started = time.monotonic()
        with ReportProcess() as report:
            report.start_early(_never_ending_early)
            report.submit(_ignore_early, str(tmp_path))
            report.wait()
        assert time.monotonic() - started < 20
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert [p.name.split("-")[0] for p in tmp_path.iterdir()] == ["job"]


def test_a_report_process_that_died_leaves_the_work_to_this_process(tmp_path: Path) -> None:
    import signal
    import time

    with ReportProcess() as report:
        assert report.pid is not None
        os.kill(report.pid, signal.SIGKILL)
        while Path(f"/proc/{report.pid}/fd/0").exists():  # its pipe ends closed: a zombie
            time.sleep(0.01)
        report.start_early(_process_of, "early")  # the pipe's reader is gone
        assert report.pid is None  # given up (and reaped)
        report.submit(_record_early, str(tmp_path))
        report.wait()
    [mark] = [p.name for p in tmp_path.iterdir()]
    assert mark == f"early-{os.getpid()}-{os.getpid()}"  # both done here


def test_the_provenance_worked_out_by_a_child_is_this_process_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rtoutcomes.study import run

    study = load_study(STUDY)
    make = run._provenance
    monkeypatch.setattr(run, "_provenance", _recorded(tmp_path, "provenance", make))
    results = analyze_file(study, LUNG, tmp_path / "out")
    makers = _callers(tmp_path, "provenance")
    assert len(makers) == 1 and makers[0] != os.getpid()  # worked out by a child
    assert _reaped(makers[0])
    here = make(study, LUNG)
    assert results["provenance"] == here
    # negative control: another table's provenance differs (its name and hash)
    other = tmp_path / "other.csv"
    other.write_bytes(LUNG.read_bytes() + b"\n")
    assert make(study, other) != here
