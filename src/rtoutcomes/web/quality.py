"""The data-quality problems of the registry (the import checks run on its content), with the
record each one is about, computed in the background and kept until the next change."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Executor
from dataclasses import dataclass

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.spec import TABLE_BY_NAME

SHOWN = 200


@dataclass(frozen=True)
class QualityProblem:
    """One problem: table, the record's key (when the problem is about one row), column, value
    and rule."""

    table: str
    key: str | None
    column: str | None
    value: str | None
    rule: str


@dataclass(frozen=True)
class QualityReport:
    problems: tuple[QualityProblem, ...]
    checked_at: float
    seconds: float
    error: str = ""


def check_registry(db: str) -> QualityReport:
    """Run ``validate`` on the database's content and locate each problem's record."""
    from rtoutcomes.registry.importer import database_as_raw
    from rtoutcomes.registry.validation import validate_registry

    start = time.monotonic()
    try:
        raw = database_as_raw(db)
        problems = validate_registry(raw).problems
    except RtOutcomesError as error:
        return QualityReport((), time.time(), time.monotonic() - start, str(error))
    by_source = {t.source: t for t in raw.tables.values()}
    found = []
    for p in problems:
        table = by_source.get(p.source)
        key = p.key
        rows = len(table.rows) if table is not None else 0
        if key is None and table is not None and p.row is not None and 2 <= p.row < rows + 2:
            pk = TABLE_BY_NAME[table.name].primary_key
            key = str(table.rows[p.row - 2].cells.get(pk))
        found.append(
            QualityProblem(table.name if table else p.source, key, p.column, p.value, p.rule)
        )
    return QualityReport(tuple(found), time.time(), time.monotonic() - start)


class QualityCache:
    """The latest ``QualityReport`` of ``db``; ``refresh()`` recomputes it in a thread (the
    overview shows the previous one, or 'checking', meanwhile). With ``executor`` (a process
    pool: ``rtoutcomes serve`` gives one) the check itself runs in that other process, so that
    its seconds of Python do not hold the server's interpreter lock while pages are served."""

    def __init__(self, db: str, executor: Executor | None = None) -> None:
        self.db = db
        self.executor = executor
        self.report: QualityReport | None = None
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    @property
    def checking(self) -> bool:
        return self._running

    def refresh(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        threading.Thread(target=self._work, name="rtoutcomes-quality", daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                report = (
                    check_registry(self.db)
                    if self.executor is None
                    else self.executor.submit(check_registry, self.db).result()
                )
            except Exception as error:  # a dead worker process: say so on the overview
                report = QualityReport((), time.time(), 0.0, f"the check failed: {error}")
            with self._lock:
                self.report = report
                if not self._again:
                    self._running = False
                    return
                self._again = False
