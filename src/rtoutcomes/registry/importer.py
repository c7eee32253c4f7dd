"""Import a registry (CSV folder or Excel workbook) into a database: all or nothing.

Every row is validated before the database is touched; if anything is wrong, every problem is
reported at once (``ImportRejected``) and nothing is written - not even an empty database file.
Otherwise the whole registry is written in one transaction through the audited write path
(``changes.apply_changes``).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from rtoutcomes.collector import collector_paused
from rtoutcomes.io.problems import Problem
from rtoutcomes.io.tabular import RawRegistry, RawRow, RawTable
from rtoutcomes.registry.audit_text import row_texts
from rtoutcomes.registry.spec import TABLES
from rtoutcomes.registry.validation import validate_files, validate_registry

if TYPE_CHECKING:
    from rtoutcomes.registry.changes import AuditAhead

__all__ = ["database_as_raw", "import_registry", "validate_database"]

WRITE_PATH = "rtoutcomes.registry.changes"
"""The write path (SQLAlchemy, the tables, the audit trail), imported by ``import_registry``
while a forked process reads the largest files (``validation.validate_files``), not before
the files' reading can start."""


def import_registry(
    path: str | Path,
    db_url: str | Path,
    *,
    user: str | None = None,
    reason: str | None = None,
    command: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Validate the registry at ``path`` (folder of CSV files or .xlsx), then write it to
    ``db_url`` (SQLite file path or database URL) in one audited transaction
    (``changes.apply_changes``: the first batch of the audit trail).

    The database is created and brought to the current schema if needed; it must hold no
    registry rows yet. Returns the number of rows written per table. Raises ``ImportRejected``
    listing every problem (nothing written) or ``changes.RegistryNotEmpty``. ``user``, ``reason``,
    ``command`` and ``now`` are recorded in the audit trail (``changes.apply_changes``).
    """
    # an import makes millions of objects (cells, rows, audit texts) that live until it ends
    # and form no cycles: the collector's full passes over them were ~20 % of a
    # whole-registry import
    with collector_paused(), ExitStack() as stack:
        batch = _Batch(user, command or f"rtoutcomes import {Path(path).name}", reason, now)
        # every cell parsed and every rule checked once, here; apply_changes trusts the result
        # (a CheckedRegistry, which only validate_import makes) because the registry is empty
        checked = validate_files(
            path,
            meanwhile=lambda: importlib.import_module(WRITE_PATH),
            # a new file's audit batch prepared by a forked process from the typed rows on,
            # while the rows are checked across tables and the file is made
            typed=lambda rows, texts: batch.ahead.append(
                stack.enter_context(batch.audit_ahead(db_url, rows, texts))
            ),
            # the audit texts of the rows the forked reader checks, written there
            derive=row_texts,
        )
        from rtoutcomes.registry.changes import apply_changes
        from rtoutcomes.registry.database import database_errors, make_engine
        from rtoutcomes.registry.migrate import upgrade

        engine = make_engine(db_url)
        try:
            with database_errors(db_url):
                upgrade(engine)
        finally:
            engine.dispose()
        apply_changes(
            db_url,
            checked,
            user=batch.user,
            reason=reason,
            require_empty=True,
            now=batch.now,
            command=batch.command,
            ahead=batch.ahead[0] if batch.ahead else None,
        )
    return checked.counts()


class _Batch:
    """Who, what, why and when an import's audit batch records: fixed before the files are
    checked, so that it can be prepared ahead (``changes.audit_ahead``)."""

    def __init__(
        self, user: str | None, command: str, reason: str | None, now: dt.datetime | None
    ) -> None:
        self.user, self.command, self.reason = user, command, reason
        self.now = now or dt.datetime.now(dt.UTC)
        self.ahead: list[AuditAhead | None] = []

    def audit_ahead(
        self,
        db_url: str | Path,
        rows: Mapping[str, Sequence[tuple[object, ...]]],
        texts: Mapping[str, object],
    ) -> AbstractContextManager[AuditAhead | None]:
        from rtoutcomes.registry.audit import login_name
        from rtoutcomes.registry.changes import audit_ahead

        self.user = self.user or login_name()
        return audit_ahead(
            db_url,
            rows,
            user=self.user,
            command=self.command,
            reason=self.reason,
            now=self.now,
            texts=texts,
        )


def validate_database(db_url: str | Path) -> list[Problem]:
    """The import checks applied to a registry database's content (empty list: all good).

    Rows are numbered as in ``export_registry``'s files (header = row 1, sorted by primary key).
    """
    return validate_registry(database_as_raw(db_url)).problems


def database_as_raw(db_url: str | Path) -> RawRegistry:
    """A database's registry tables as raw cells (typed values), for validation."""
    from rtoutcomes.registry.tables import read_rows

    rows = read_rows(db_url)
    raw = RawRegistry(str(db_url), "database")
    for spec in TABLES:
        raw.tables[spec.name] = RawTable(
            spec.name,
            f"table {spec.name}",
            list(spec.column_names),
            [RawRow(i, dict(r)) for i, r in enumerate(rows[spec.name], start=2)],
            "database",
        )
    return raw
