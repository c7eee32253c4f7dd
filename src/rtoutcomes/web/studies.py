"""Study runs started from the web app: one at a time in a background thread, with progress.

Each run gets a folder ``<workdir>/<run id>/`` holding the study file it ran (``study.yaml``),
``run.json`` (who, when, state, progress lines, the registry's content hash) and ``report/``
(everything ``rtoutcomes run`` writes). Runs found in the folder at start-up are listed too.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rtoutcomes.errors import RtOutcomesError

RUN_ID_LENGTH = 12
WORD_NAMES = {"tables.docx": "manuscript.docx", "manuscript.docx": "tables.docx"}


@dataclass
class StudyRun:
    """One run: ``state`` is queued, running, done or failed; ``progress`` its (seconds,
    message) lines; ``error`` the library's message when it failed."""

    run_id: str
    title: str
    user: str
    started: str
    state: str = "queued"
    progress: list[tuple[float, str]] = field(default_factory=list)
    error: str = ""
    registry_sha256: str = ""  # the audit chain's hash at the frozen state
    frozen_as: str = ""
    seconds: float = 0.0

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def study_from_form(form: dict[str, Any]) -> dict[str, Any]:
    """A registry study file (as a mapping) from the simple form's choices: ``title``,
    ``endpoints`` (OS/PFS/LC), ``groups``, ``univariate``, ``multivariate`` (covariate names of
    the standard set) and ``local_failure`` (a rule name)."""
    endpoints = [e for e in ("OS", "PFS", "LC") if e in form.get("endpoints", [])]
    study: dict[str, Any] = {
        "title": str(form.get("title") or "Registry study").strip()[:200],
        "time_unit": "months",
        "rates_at": [12, 24, 36],
        "endpoints": {name: {} for name in endpoints},
        "endpoint_rules": {"local_failure": str(form.get("local_failure") or "RECIST 1.1")},
        "analyses": {},
    }
    analyses = study["analyses"]
    for key in ("groups", "univariate"):
        if form.get(key):
            analyses[key] = list(form[key])
    if form.get("multivariate"):
        analyses["multivariate"] = {name: list(form["multivariate"]) for name in endpoints}
    return study


class StudyRunner:
    """Runs registry studies on ``db`` one at a time, writing under ``workdir``."""

    def __init__(self, db: str, workdir: Path) -> None:
        self.db = db
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._runs: dict[str, StudyRun] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rtoutcomes-study")
        for folder in sorted(self.workdir.iterdir()):
            found = _load_run(folder)
            if found is not None:
                self._runs[found.run_id] = found

    def runs(self) -> list[StudyRun]:
        """Every run, newest first."""
        with self._lock:
            return sorted(self._runs.values(), key=lambda r: r.started, reverse=True)

    def get(self, run_id: str) -> StudyRun | None:
        with self._lock:
            return self._runs.get(run_id)

    def folder(self, run_id: str) -> Path:
        return self.workdir / run_id

    def submit(self, study_yaml: bytes, user: str) -> StudyRun:
        """Check the study file (errors raise ``StudyFileError`` at once), then queue it."""
        from rtoutcomes.study import load_study

        run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        folder = self.folder(run_id)
        folder.mkdir(parents=True)
        path = folder / "study.yaml"
        path.write_bytes(study_yaml)
        try:
            study = load_study(path, db=self.db)
        except RtOutcomesError:
            path.unlink()
            folder.rmdir()
            raise
        run = StudyRun(
            run_id, study.title, user, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        )
        with self._lock:
            self._runs[run_id] = run
        _save_run(folder, run)
        self._pool.submit(self._run, run, study)
        return run

    def _run(self, run: StudyRun, study: Any) -> None:
        from dataclasses import replace

        from rtoutcomes.registry.changes import freeze
        from rtoutcomes.study.run import run_registry

        start = time.monotonic()
        folder = self.folder(run.run_id)

        def progress(message: str) -> None:
            with self._lock:
                run.progress.append((round(time.monotonic() - start, 1), message))

        run.state = "running"
        try:
            # Freeze the state read (a label on the audit trail) and read the registry as of
            # it, so the report's provenance names that state and ``run --as-of`` gives it back.
            label = f"study-{run.run_id}"
            progress(f"freezing the registry's state as {label}")
            state = freeze(
                self.db,
                label,
                user=run.user or None,
                command="rtoutcomes serve: study run",
                reason=f"state used by the study {run.title!r}",
            )
            run.frozen_as, run.registry_sha256 = label, state.chain_hash
            run_registry(replace(study, as_of=label), self.db, folder / "report", progress)
            run.state = "done"
            progress("report written")
        except RtOutcomesError as error:
            run.state, run.error = "failed", str(error)
        except Exception as error:  # a bug must not kill the worker; the page shows it
            run.state, run.error = "failed", f"unexpected error: {type(error).__name__}: {error}"
        run.seconds = round(time.monotonic() - start, 1)
        _save_run(folder, run)

    def files(self, run_id: str) -> list[tuple[str, int]]:
        """The report's files (path relative to the report folder, bytes), sorted."""
        report = self.folder(run_id) / "report"
        if not report.is_dir():
            return []
        return sorted(
            (p.relative_to(report).as_posix(), p.stat().st_size)
            for p in report.rglob("*")
            if p.is_file()
        )

    def report_file(self, run_id: str, relative: str) -> Path | None:
        """A file of a run's report, or ``None`` when the path leaves the report folder."""
        if self.get(run_id) is None:
            return None
        report = (self.folder(run_id) / "report").resolve()
        target = (report / relative).resolve()
        if not target.is_relative_to(report):
            return None
        if not target.is_file() and relative in WORD_NAMES:
            # the Word file was tables.docx before it became manuscript.docx: a run or a link
            # of either age finds it under both names
            target = report / WORD_NAMES[relative]
        return target if target.is_file() else None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _save_run(folder: Path, run: StudyRun) -> None:
    data = asdict(run)
    (folder / "run.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


def _load_run(folder: Path) -> StudyRun | None:
    try:
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        run = StudyRun(**{k: v for k, v in data.items() if k != "progress"})
        run.progress = [(float(s), str(m)) for s, m in data.get("progress", [])]
    except (OSError, ValueError, TypeError):
        return None
    if not run.finished:
        run.state, run.error = "failed", "the server stopped during the run"
    return run
