"""The one audited write path of the registry: ``apply_changes``.

Every writer (the first import, ``import --update``, dosimetry from DICOM, the web app, DICOM
import, exports that write back...) describes what it wants as a ``ChangeSet`` and calls
``apply_changes``, which, in ONE database transaction holding the registry's writer lock:

1. reads the registry as it is now;
2. parses every given cell as an import does (text, numbers, dates...; rule errors name the
   row by its key and, when the caller says where the row came from, the file and row); a
   first import's files are parsed and checked once, by ``validation.validate_import``, whose
   ``CheckedRegistry`` (a token no caller can make or change) is written as it is into an
   empty registry, the registry after being exactly the rows checked;
3. works out what actually changes: new keys are added, given cells that differ are updated
   (cells not given are left as stored), identical rows are left alone, listed keys deleted;
4. runs every check of an import on the registry as it would be after (references, unique
   identifiers, conditional cells, dates in order); any problem refuses the whole change.
   The checks read the rows of the patients the change touches (``scope.py``: every rule
   across rows relates rows of one patient), and the whole registry only when the change
   reaches further or a problem is found (so that messages number rows as ``validate`` does);
5. writes the rows, and one audit entry per change (``audit.py``: who, when, why, command,
   batch, old -> new, hash-chained), then commits. A crash at any moment leaves the registry
   exactly as before or exactly as after. (A whole-registry first import into a new SQLite
   file has its rows and entries written into scratch files first, by two processes at once,
   and copies them in this one transaction: ``staged.py``.)

Example (a corrected lesion size and a new scan)::

    from rtoutcomes.registry.changes import ChangeSet, apply_changes

    changes = ChangeSet(rows={
        "lesions": [{"lesion_id": "L13", "size_cm": 4.1}],          # update one cell
        "assessments": [{"assessment_id": "A0231", "lesion_id": "L13",
                         "assessment_date": "2024-03-02", "modality": "CT",
                         "longest_diameter_mm": 38}],               # a new row
    })
    report = apply_changes("registry.db", changes, user="jdoe",
                           reason="size re-measured on the planning CT", command="web form")
    print(report.text())             # per table: added, changed (old -> new), deleted

Values may be typed (``datetime.date``, ``float``, ``int``, ``bool``, ``str``) or text as in a
CSV cell; ``None`` in a given column erases that cell. A change of an existing value or a
deletion needs a ``reason`` (``ReasonRequired``); additions alone may go without one.
``dry_run=True`` does steps 1-4 and writes nothing (the preview). ``expected_head`` (a
preview's ``report.head_before``) refuses to write if the registry changed since the preview.

Writers are serialised: a second writer waits up to ``wait_s`` seconds for the first to finish
and then gets ``RegistryBusy`` (SQLite: ``BEGIN IMMEDIATE`` with a busy timeout; PostgreSQL:
``LOCK TABLE audit_head IN EXCLUSIVE MODE`` under ``lock_timeout``). Readers are never blocked
and see the state before or after a write (``tables.reading``).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.io.problems import Problem
from rtoutcomes.registry import audit, staged
from rtoutcomes.registry.cells import CellError, parse_cell, shown
from rtoutcomes.registry.database import (
    WRITER_WAIT_OPTION,
    database_errors,
    database_url,
    describe_database,
    insert_rows,
    make_engine,
)
from rtoutcomes.registry.schema import AUDIT_LOG, REGISTRY_TABLES
from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES, ColumnSpec, TableSpec
from rtoutcomes.registry.tables import Rows, check_schema, fetch_rows
from rtoutcomes.registry.validation import (
    CheckedRegistry,
    ImportRejected,
    Record,
    validate_records,
)

if TYPE_CHECKING:
    from rtoutcomes.forking import InChild

__all__ = [
    "AuditAhead",
    "CellChange",
    "ChangeReport",
    "ChangeSet",
    "ReasonRequired",
    "RegistryBusy",
    "RegistryChanged",
    "RegistryNotEmpty",
    "TableChanges",
    "apply_changes",
    "audit_ahead",
    "freeze",
]

DEFAULT_WAIT_S = 10.0
"""How long a writer waits for another writer to finish before ``RegistryBusy``."""


class RegistryBusy(RtOutcomesError):
    """Another writer held the registry for longer than the caller would wait."""


class RegistryChanged(RtOutcomesError):
    """The registry changed since the preview the caller confirmed (``expected_head``)."""


class RegistryNotEmpty(RtOutcomesError):
    """A first import goes into an empty registry only."""


class ReasonRequired(RtOutcomesError):
    """Existing values change or rows are deleted, and no reason was given."""

    exit_code = 2


@dataclass
class ChangeSet:
    """What a writer asks for.

    ``rows``: per table, rows to add or update, each a mapping with the primary key and the
    columns to set (columns left out keep their stored value; ``None`` erases).
    ``deletes``: per table, primary keys of rows to delete.
    ``locations``: optional ``(table, key) -> (source, row number)``, where a row came from
    (``"assessments.csv", 57``), so that problems point at the user's file.
    """

    rows: dict[str, list[Mapping[str, object]]] = field(default_factory=dict)
    deletes: dict[str, list[str]] = field(default_factory=dict)
    locations: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class CellChange:
    """One changed cell: values as an export shows them (``None`` = empty)."""

    key: str
    column: str
    old: str | None
    new: str | None


@dataclass
class TableChanges:
    """What a change does to one table."""

    added: list[str] = field(default_factory=list)
    changed: list[CellChange] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0  # given rows identical to the stored ones

    @property
    def changed_rows(self) -> int:
        return len({c.key for c in self.changed})


@dataclass
class ChangeReport:
    """What ``apply_changes`` did (or, for a dry run, would do), per table in format order."""

    tables: dict[str, TableChanges]
    written: bool = False
    batch: int | None = None
    head_before: str = audit.GENESIS
    head_after: str = audit.GENESIS
    reason_needed: bool = False
    ignored: list[str] = field(default_factory=list)  # set by importers: files not read

    @property
    def empty(self) -> bool:
        return not any(t.added or t.changed or t.deleted for t in self.tables.values())

    def counts(self) -> dict[str, int]:
        return {
            "added": sum(len(t.added) for t in self.tables.values()),
            "changed": sum(t.changed_rows for t in self.tables.values()),
            "deleted": sum(len(t.deleted) for t in self.tables.values()),
            "unchanged": sum(t.unchanged for t in self.tables.values()),
        }

    def as_json(self) -> dict[str, object]:
        return {
            "written": self.written,
            "batch": self.batch,
            "head_before": self.head_before,
            "head_after": self.head_after,
            "reason_needed": self.reason_needed,
            "ignored": list(self.ignored),
            "totals": self.counts(),
            "tables": {
                name: {
                    "added": t.added,
                    "deleted": t.deleted,
                    "unchanged": t.unchanged,
                    "changed": [
                        {"key": c.key, "column": c.column, "old": c.old, "new": c.new}
                        for c in t.changed
                    ],
                }
                for name, t in self.tables.items()
            },
        }

    def text(self, limit: int = 200) -> str:
        """The preview as lines: one summary line per table, then its changes."""
        lines = [f"ignored: {name}" for name in self.ignored]
        shown_lines = 0
        for name, t in self.tables.items():
            lines.append(
                f"{name}: {len(t.added)} added, {t.changed_rows} changed, "
                f"{len(t.deleted)} deleted, {t.unchanged} unchanged"
            )
            items = (
                [f"  + {k}" for k in t.added]
                + [f"  ~ {c.key} {c.column}: {_cell(c.old)} -> {_cell(c.new)}" for c in t.changed]
                + [f"  - {k}" for k in t.deleted]
            )
            room = max(limit - shown_lines, 0)
            lines += items[:room]
            if len(items) > room:
                lines.append(f"  ... and {len(items) - room} more (--json lists them all)")
            shown_lines += min(len(items), room)
        return "\n".join(lines)


def _cell(value: str | None) -> str:
    return "(empty)" if value is None else repr(value)


# --- the write path --------------------------------------------------------------------------


def apply_changes(
    db_url: str | Path,
    changes: ChangeSet | CheckedRegistry,
    *,
    user: str | None = None,
    reason: str | None = None,
    command: str = "rtoutcomes API",
    dry_run: bool = False,
    require_empty: bool = False,
    refuse_existing: bool = False,
    expected_head: str | None = None,
    wait_s: float = DEFAULT_WAIT_S,
    now: dt.datetime | None = None,
    ahead: AuditAhead | None = None,
) -> ChangeReport:
    """Apply ``changes`` to the registry at ``db_url`` (SQLite path or URL) in one audited
    transaction; see the module docstring. Returns the ``ChangeReport``.

    ``user``: who (default: the operating-system login). ``command``: what wrote (e.g.
    ``"rtoutcomes import --update month-12/"``). ``require_empty``: refuse unless the registry
    holds no rows (``RegistryNotEmpty``; the first import). ``refuse_existing``: a given key
    that is already stored is a problem instead of an update. ``now``: the time recorded
    (default: the clock; tests fix it). Raises ``ImportRejected`` (every problem, nothing
    written), ``ReasonRequired``, ``RegistryBusy``, ``RegistryChanged``.

    ``changes`` may be a ``validation.CheckedRegistry`` (a first import's files, parsed and
    checked as a whole registry by ``validation.validate_import``): with ``require_empty`` its
    rows are written as they are, since the registry after the import is exactly the rows
    that were checked; otherwise they are parsed and checked like any caller's. ``ahead``:
    the audit batch of a first import prepared before this call (``audit_ahead``), used only
    where it fits exactly (else the batch is prepared here).
    """
    if isinstance(changes, CheckedRegistry) and not require_empty:
        changes = _as_change_set(changes)
    if isinstance(changes, ChangeSet):
        unknown = sorted((set(changes.rows) | set(changes.deletes)) - set(TABLE_BY_NAME))
        if unknown:
            raise RtOutcomesError(f"no registry table(s) {', '.join(unknown)}")
    staging = None
    if (
        ahead is not None
        and isinstance(changes, CheckedRegistry)
        and user is not None
        and now is not None
        and not dry_run
        and expected_head is None
    ):
        staging = ahead.stage(changes, user, command, reason, now)
    arguments = (db_url, changes, user, reason, command, dry_run, require_empty)
    options = (refuse_existing, expected_head, wait_s, now)
    try:
        return _apply(*arguments, *options, ahead, staging)
    except staged.Unusable:  # rolled back: written the usual way
        return _apply(*arguments, *options, None, None)


def _apply(
    db_url: str | Path,
    changes: ChangeSet | CheckedRegistry,
    user: str | None,
    reason: str | None,
    command: str,
    dry_run: bool,
    require_empty: bool,
    refuse_existing: bool,
    expected_head: str | None,
    wait_s: float,
    now: dt.datetime | None,
    ahead: AuditAhead | None,
    staging: _Staging | None,
) -> ChangeReport:
    """``apply_changes`` once its arguments are checked (``staging``: a first import's rows
    and entries in scratch files, copied in the transaction)."""
    engine = make_engine(db_url, must_exist=True)
    try:
        with database_errors(db_url):
            check_schema(engine)
        with database_errors(db_url), writing(engine, db_url, wait_s, staging) as connection:
            head = audit.read_head(connection)
            if expected_head is not None and head.entry_hash != expected_head:
                raise RegistryChanged(
                    "the registry changed since the preview was made; nothing was written "
                    "(preview again)"
                )
            plan = _planned(connection, changes, require_empty, refuse_existing)
            if plan.problems:
                raise ImportRejected(plan.problems, "changes refused, nothing was written")
            report = plan.report
            report.head_before = report.head_after = head.entry_hash
            report.reason_needed = any(t.changed or t.deleted for t in report.tables.values())
            if dry_run or report.empty:
                connection.rollback()
                return report
            if report.reason_needed and not (reason or "").strip():
                count = report.counts()
                raise ReasonRequired(
                    f"{count['changed']} stored row(s) would change and {count['deleted']} be "
                    "deleted: give the reason for the change (--reason); nothing was written"
                )
            new_head = _write_audited(
                connection,
                plan,
                head,
                user=user or audit.login_name(),
                command=command,
                reason=reason,
                now=now or dt.datetime.now(dt.UTC),
                ahead=ahead,
                staging=staging,
            )
            connection.commit()
    except sa.exc.IntegrityError as error:
        raise RtOutcomesError(
            f"the database refused the change, nothing was written: {error.orig}"
        ) from error
    finally:
        engine.dispose()
    report.written, report.batch, report.head_after = True, new_head.batch, new_head.entry_hash
    return report


def freeze(
    db_url: str | Path,
    label: str,
    *,
    user: str | None = None,
    reason: str | None = None,
    command: str = "rtoutcomes freeze",
    wait_s: float = DEFAULT_WAIT_S,
    now: dt.datetime | None = None,
) -> audit.RegistryState:
    """Name the registry's state now ``label`` (a ``freeze`` entry on the audit chain) so that
    ``export --as-of`` and ``run --as-of`` can come back to it. Labels are unique and are not
    numbers or dates (those name batches and times)."""
    label = label.strip()
    if not label or label.isdigit() or audit.parse_time(label, end_of_day=False) is not None:
        raise RtOutcomesError(
            f"freeze label {label!r}: give a name (e.g. paper-2026-submitted); plain numbers "
            "and dates name batches and times in --as-of"
        )
    engine = make_engine(db_url, must_exist=True)
    try:
        with database_errors(db_url):
            check_schema(engine)
        with database_errors(db_url), writing(engine, db_url, wait_s) as connection:
            taken = connection.execute(
                sa.select(AUDIT_LOG.c.seq).where(AUDIT_LOG.c.label == label)
            ).first()
            if taken is not None:
                raise RtOutcomesError(
                    f"freeze label {label!r} already names audit entry {taken.seq}; choose "
                    "another label"
                )
            head = audit.append_batch(
                connection,
                [audit.Change("freeze", label=label)],
                user=user or audit.login_name(),
                command=command,
                reason=reason,
                now=now or dt.datetime.now(dt.UTC),
            )
            connection.commit()
    finally:
        engine.dispose()
    return audit.RegistryState(head.seq, head.batch, head.entry_hash, label)


@contextmanager
def writing(
    engine: sa.Engine, db_url: str | Path, wait_s: float, staging: _Staging | None = None
) -> Iterator[sa.Connection]:
    """A connection in a transaction that holds the registry's writer lock (waits at most
    ``wait_s`` s for another writer, then ``RegistryBusy``). The caller commits; anything else
    (an exception, a crash) rolls back. ``staging``: its files attached first (SQLite)."""
    wait_ms = max(int(wait_s * 1000), 1)
    with engine.connect() as connection:
        try:
            if connection.dialect.name == "sqlite":
                if staging is not None:
                    staged.attach(connection, staging.files)
                connection.execution_options(**{WRITER_WAIT_OPTION: wait_ms})
                connection.begin()
            else:
                connection.begin()
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{wait_ms}ms'")
                connection.exec_driver_sql("LOCK TABLE audit_head IN EXCLUSIVE MODE")
                connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
        except sa.exc.OperationalError as error:
            if _lock_refused(error):
                raise RegistryBusy(
                    f"another write to the registry {describe_database(db_url)} is in "
                    f"progress; waited {wait_s:g} s, nothing was written: try again when it "
                    "has finished"
                ) from error
            raise
        yield connection


def _lock_refused(error: sa.exc.OperationalError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate == "55P03" or "database is locked" in str(error.orig)


def _refuse_if_not_empty(current: Rows) -> None:
    for spec in TABLES:
        if current[spec.name]:
            raise RegistryNotEmpty(
                f"the registry already holds data ({len(current[spec.name])} rows in "
                f"{spec.name}); import into a new database, or add --update to apply the files "
                "as changes"
            )


# --- planning: what changes, and is the result valid ----------------------------------------


@dataclass
class _Plan:
    report: ChangeReport
    inserts: dict[str, list[tuple[object, ...]]]  # rows in spec.column_names order
    updates: dict[str, list[tuple[str, dict[str, object]]]]  # key, changed columns
    deletes: dict[str, list[dict[str, object]]]  # the stored rows
    old_values: dict[tuple[str, str], dict[str, object]]
    problems: list[Problem]
    checked: bool = False  # the checks across rows ran (no problem in the given cells)
    first_import: CheckedRegistry | None = None  # the rows written as they are (_plan_checked)

    def audit_changes(self) -> audit.ChangeColumns:
        changes = _inserted(self.inserts)
        for spec in TABLES:
            columns = {c.name: c for c in spec.columns}
            for key, values in self.updates.get(spec.name, []):
                old = self.old_values[(spec.name, key)]
                for name, value in values.items():
                    column = columns[name]
                    changes.append(
                        audit.Change(
                            "update",
                            spec.name,
                            key,
                            name,
                            audit.canonical_json(audit.encode_value(old.get(name), column)),
                            audit.canonical_json(audit.encode_value(value, column)),
                        )
                    )
        for spec in reversed(TABLES):
            for row in self.deletes.get(spec.name, []):
                changes.append(
                    audit.Change(
                        "delete",
                        spec.name,
                        str(row[spec.primary_key]),
                        old=audit.canonical_json(audit.encode_row(spec.name, row)),
                    )
                )
        return changes


def _inserted(
    inserts: Mapping[str, Sequence[tuple[object, ...]]],
    texts: Mapping[str, Sequence[str]] | None = None,
) -> audit.ChangeColumns:
    """The audit changes of new rows (tuples in ``spec.column_names`` order), tables in
    format order; ``texts``: some tables' rows' texts, written already."""
    changes = audit.ChangeColumns()
    for spec in TABLES:
        written = (texts or {}).get(spec.name)
        changes.extend(audit.inserted_rows(spec.name, inserts.get(spec.name, []), written))
    return changes


def _planned(
    connection: sa.Connection,
    changes: ChangeSet | CheckedRegistry,
    require_empty: bool,
    refuse_existing: bool,
) -> _Plan:
    """What ``changes`` do to the registry, read in the writer's transaction."""
    if isinstance(changes, CheckedRegistry):  # only with require_empty (apply_changes)
        _refuse_if_not_empty(fetch_rows(connection))
        return _plan_checked(changes)
    plan = None if require_empty else _plan_in_scope(connection, changes, refuse_existing)
    if plan is None:
        current = fetch_rows(connection)
        if require_empty:
            _refuse_if_not_empty(current)
        plan = _plan(current, changes, refuse_existing)
    return plan


def _plan_checked(checked: CheckedRegistry) -> _Plan:
    """A first import's rows, checked as a whole registry by ``validate_import``: every row
    added, nothing to check again (the registry after is exactly these rows)."""
    plan = _Plan(ChangeReport({}), {}, {}, {}, {}, [], checked=True, first_import=checked)
    for spec in TABLES:
        rows = checked.rows(spec.name)
        if not rows:
            continue
        key = spec.column_names.index(spec.primary_key)
        plan.report.tables[spec.name] = TableChanges(added=[str(row[key]) for row in rows])
        plan.inserts[spec.name] = list(rows)
    return plan


def _as_change_set(checked: CheckedRegistry) -> ChangeSet:
    """The rows as a caller's change (parsed and checked again by ``apply_changes``)."""
    return ChangeSet(
        rows={
            spec.name: [dict(zip(spec.column_names, row, strict=True)) for row in rows]
            for spec in TABLES
            if (rows := checked.rows(spec.name))
        }
    )


def _plan_in_scope(
    connection: sa.Connection, changes: ChangeSet, refuse_existing: bool
) -> _Plan | None:
    """``_plan`` on the stored rows the change can affect (``scope.change_scope``); ``None``
    when the whole registry is to be read: the change reaches beyond its patients, or a check
    across rows found a problem (reported as the whole registry's check numbers it)."""
    from rtoutcomes.registry.scope import change_scope

    scope = change_scope(connection, changes.rows, changes.deletes)
    if scope is None:
        return None
    plan = _plan(scope.rows, changes, refuse_existing, scope.elsewhere)
    return None if plan.checked and plan.problems else plan


def _plan(
    current: Rows,
    changes: ChangeSet,
    refuse_existing: bool,
    elsewhere: frozenset[str] = frozenset(),
) -> _Plan:
    """What ``changes`` do to ``current`` (the whole registry, or the rows the change can
    affect with ``elsewhere`` naming the tables that hold other rows), and the problems of the
    registry after them."""
    problems: list[Problem] = []
    plan = _Plan(ChangeReport({}), {}, {}, {}, {}, problems)
    after: dict[str, list[Record]] = {}
    touched: list[Record] = []
    for spec in TABLES:
        stored = {str(r[spec.primary_key]): r for r in current[spec.name]}
        given = changes.rows.get(spec.name, [])
        doomed = [str(k).strip() for k in changes.deletes.get(spec.name, [])]
        if not given and not doomed:
            after[spec.name] = [Record(i, r) for i, r in enumerate(current[spec.name], 2)]
            continue
        table = plan.report.tables.setdefault(spec.name, TableChanges())
        columns = {c.name: c for c in spec.columns}
        names = spec.column_names
        results: dict[str, Record] = {}
        unchanged: set[str] = set()
        for index, row in enumerate(given):
            parsed = _parse_row(spec, columns, row, index, changes.locations, problems)
            if parsed is None:
                continue
            key, values, invalid = parsed
            where = changes.locations.get((spec.name, key))
            if key in results or key in unchanged:
                problems.append(
                    _problem(spec, key, where, spec.primary_key, f"{key} is given twice")
                )
                continue
            old = stored.get(key)
            if old is None:
                new = {c: values.get(c) for c in names}
                table.added.append(key)
                plan.inserts.setdefault(spec.name, []).append(tuple(new.values()))
            elif refuse_existing:
                problems.append(
                    _problem(
                        spec,
                        key,
                        where,
                        spec.primary_key,
                        f"{spec.name} {key} is already in the registry",
                    )
                )
                continue
            else:
                diff = {
                    name: value
                    for name, value in values.items()
                    if name not in invalid
                    and audit.encode_value(value, columns[name])
                    != audit.encode_value(old.get(name), columns[name])
                }
                if not diff and not invalid:
                    table.unchanged += 1
                    unchanged.add(key)
                    continue
                plan.updates.setdefault(spec.name, []).append((key, diff))
                plan.old_values[(spec.name, key)] = old
                table.changed += [
                    CellChange(
                        key,
                        name,
                        _shown(old.get(name), columns[name]),
                        _shown(value, columns[name]),
                    )
                    for name, value in diff.items()
                ]
                new = {**old, **diff}
            results[key] = Record(
                where[1] if where else 0, new, invalid, where[0] if where else None
            )
        for key in doomed:
            if key in results:
                problems.append(
                    _problem(
                        spec,
                        key,
                        None,
                        spec.primary_key,
                        f"{key} is both given and listed for deletion",
                    )
                )
            elif key not in stored:
                problems.append(
                    _problem(
                        spec,
                        key,
                        None,
                        spec.primary_key,
                        f"cannot delete {spec.name} {key}: not in the registry",
                    )
                )
            elif key not in table.deleted:
                table.deleted.append(key)
                plan.deletes.setdefault(spec.name, []).append(stored[key])
        deleted = set(table.deleted)
        records: list[Record] = []
        for position, key in enumerate(sorted((set(stored) | set(results)) - deleted), 2):
            record = results.get(key) or Record(position, stored[key])
            record.row = record.row or position
            records.append(record)
        after[spec.name] = records
        touched += results.values()
    if not problems:
        sources = {spec.name: f"table {spec.name}" for spec in TABLES}
        problems += validate_records(after, sources, touched, elsewhere).problems
        plan.checked = True
    return plan


def _parse_row(
    spec: TableSpec,
    columns: Mapping[str, ColumnSpec],
    row: Mapping[str, object],
    index: int,
    locations: Mapping[tuple[str, str], tuple[str, int]],
    problems: list[Problem],
) -> tuple[str, dict[str, object], set[str]] | None:
    """The key, typed values and invalid columns of one given row of ``spec`` (``columns``:
    its columns by name; problems reported)."""
    try:
        key = parse_cell(row.get(spec.primary_key), columns[spec.primary_key], None)
    except CellError as error:
        key, rule = None, error.rule
    else:
        rule = "the key is empty: every row needs one"
    if key is None:
        problems.append(Problem(f"changes to {spec.name}", index + 1, spec.primary_key, None, rule))
        return None
    key = str(key)
    where = locations.get((spec.name, key))
    values: dict[str, object] = {}
    invalid: set[str] = set()
    for name, cell in row.items():
        column = columns.get(name)
        if column is None:
            problems.append(_problem(spec, key, where, name, f"{spec.name} has no column {name!r}"))
            continue
        try:
            values[name] = parse_cell(cell, column, None)
        except CellError as error:
            invalid.add(name)
            problems.append(_problem(spec, key, where, name, error.rule, shown(cell)))
    values[spec.primary_key] = key
    return key, values, invalid


def _problem(
    spec: TableSpec,
    key: str,
    where: tuple[str, int] | None,
    column: str | None,
    rule: str,
    value: str | None = None,
) -> Problem:
    source, row = where if where else (f"table {spec.name}", None)
    return Problem(source, row, column, value, rule, key)


def _shown(value: object, column: ColumnSpec) -> str | None:
    """A value as the registry's files show it (``None`` for an empty cell)."""
    from rtoutcomes.registry.export import format_number

    if value is None:
        return None
    if column.kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if column.kind == "yes/no":
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


FORK_ENTRIES = 20_000
"""From this many audit entries on, the batch is prepared by a forked process (texts and hash
chain, ``audit.prepare_batch``) while this one writes the registry's rows: a whole-registry
import's entries take about as long to prepare as its rows to insert."""


LARGE_CACHE_KIB = 65536
"""SQLite's page cache (KiB) of a connection writing a large batch: the indexes of tens of
thousands of rows and audit entries (a whole-registry import's 44 MB file) stay in memory
instead of being evicted and read back (~5 % of the import's insert time)."""


class AuditAhead:
    """A first import's audit batch being prepared by a forked process (``audit_ahead``)
    while the import's checks end and the new database is made. ``apply_changes`` takes its
    result only for a first import of the very rows it was prepared from (the same tuples),
    the same user, command, reason and time, and a chain that still ends where it was
    prepared to follow; anything else, and the batch is prepared there as for any change."""

    def __init__(
        self,
        rows: Mapping[str, Sequence[tuple[object, ...]]],
        head: audit.Head,
        batch: tuple[str, str, str | None, dt.datetime],
        child: InChild[audit.PreparedBatch | audit.Head],
        scratch: Path | None = None,
    ) -> None:
        self._rows, self._head, self._batch, self._child = rows, head, batch, child
        self._scratch = scratch

    def stage(
        self,
        checked: CheckedRegistry,
        user: str,
        command: str,
        reason: str | None,
        now: dt.datetime,
    ) -> _Staging | None:
        """Where the child writes the batch into a scratch file (``staged.py``) and this is
        the first import it was prepared for (the very rows, the same user, command, reason
        and time): the rows written into a scratch file here, while the child writes the
        entries, then the child's end awaited; else ``None``. Also ``None`` when a scratch
        file cannot be written (a full or missing temporary folder): the import is then
        written the usual way, where a problem of the registry's own disk is reported."""
        if self._scratch is None or (user, command, reason, now) != self._batch:
            return None
        if not all(
            _same_objects(checked.rows(spec.name), self._rows.get(spec.name, ())) for spec in TABLES
        ):
            return None
        rows = self._scratch / "rows.db"
        try:
            with staged.scratch(rows) as connection:
                _write(connection, _plan_checked(checked))
            head_after = self.result()
        except (sa.exc.SQLAlchemyError, OSError):
            return None
        assert isinstance(head_after, audit.Head)
        files = {staged.ROWS: rows, staged.AUDIT: self._scratch / "audit.db"}
        return _Staging(files, self._head, head_after)

    def fits(
        self,
        plan: _Plan,
        head: audit.Head,
        user: str,
        command: str,
        reason: str | None,
        now: dt.datetime,
    ) -> bool:
        if plan.first_import is None or head != self._head or self._scratch is not None:
            return False  # (a batch written into a scratch file is taken by ``stage`` only)
        if (user, command, reason, now) != self._batch:
            return False
        return all(
            _same_objects(plan.first_import.rows(spec.name), self._rows.get(spec.name, ()))
            for spec in TABLES
        )

    def result(self) -> audit.PreparedBatch | audit.Head:
        """The prepared batch, or where the child wrote it into a scratch file, the chain's
        head after it."""
        return self._child.result()


@dataclass(frozen=True)
class _Staging:
    """A first import's rows and audit entries in scratch files (``staged.py``), attached to
    the writer's connection under their schema names (``files``): the batch follows
    ``head_before`` and ends at ``head_after``."""

    files: Mapping[str, Path]
    head_before: audit.Head
    head_after: audit.Head

    def copy(self, connection: sa.Connection, plan: _Plan, head: audit.Head) -> None:
        """The staged rows and entries copied into the registry (the writer's transaction),
        and the chain's head moved to the batch's end; ``staged.Unusable`` if the chain no
        longer ends where the batch follows."""
        if head != self.head_before:
            raise staged.Unusable("the audit trail moved since its batch was prepared")
        tables = [spec.name for spec in TABLES if plan.inserts.get(spec.name)]
        rows = staged.copy(connection, staged.ROWS, tables)
        entries = staged.copy(connection, staged.AUDIT, ["audit_log"])["audit_log"]
        expected = {name: len(plan.inserts[name]) for name in tables}
        if rows != expected or entries != self.head_after.seq - head.seq:
            raise RuntimeError(
                f"the staged import copied {rows} rows and {entries} audit entries, not "
                f"{expected} and {self.head_after.seq - head.seq}"
            )
        audit.move_head(connection, self.head_after)


def _same_objects(a: Sequence[object], b: Sequence[object]) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))


@contextmanager
def audit_ahead(
    db_url: str | Path,
    rows: Mapping[str, Sequence[tuple[object, ...]]],
    *,
    user: str,
    command: str,
    reason: str | None,
    now: dt.datetime,
    texts: Mapping[str, object] | None = None,
) -> Iterator[AuditAhead | None]:
    """For a first import of ``FORK_ENTRIES`` rows or more (``rows``: each table's, as typed
    by its checks) into a new SQLite file (whose chain starts empty), a forked process
    prepares its audit batch from now on (as ``_write_audited`` would), while the caller
    finishes its checks, creates the database and calls ``apply_changes(..., ahead=...)``;
    otherwise ``None``. Leaving the block ends the child. ``texts``: some tables' rows'
    ``audit_text.row_texts``, written already from these very rows (by the process that
    read them: ``validation.validate_files``)."""
    from rtoutcomes.forking import InChild

    if sum(map(len, rows.values())) < FORK_ENTRIES or not _new_sqlite_file(db_url):
        yield None
        return
    head = audit.Head(0, 0, audit.GENESIS)
    with ExitStack() as stack:
        try:
            scratch = stack.enter_context(staged.folder()) if staged.possible() else None
        except OSError:  # no temporary folder: the batch prepared ahead as it is
            scratch = None

        def prepare() -> audit.PreparedBatch | audit.Head:
            written = {n: t for n, t in (texts or {}).items() if isinstance(t, list)}
            prepared = audit.prepare_batch(
                head, _inserted(rows, written), user=user, command=command, reason=reason, now=now
            )
            if scratch is None:
                return prepared
            with staged.scratch(scratch / "audit.db") as connection:
                return audit.write_batch(connection, prepared)

        child = stack.enter_context(InChild(prepare))
        yield AuditAhead(rows, head, (user, command, reason, now), child, scratch)


def _new_sqlite_file(db_url: str | Path) -> bool:
    """``db_url`` names a SQLite file that does not exist yet or is empty (0 bytes); a URL
    that cannot be used is not (the import reports it when it opens the database, after the
    files' checks, as before)."""
    try:
        url = database_url(db_url)
    except RtOutcomesError:
        return False
    if url.get_backend_name() != "sqlite":
        return False
    path = Path(url.database or "")
    return not path.exists() or (path.is_file() and path.stat().st_size == 0)


def _write_audited(
    connection: sa.Connection,
    plan: _Plan,
    head: audit.Head,
    *,
    user: str,
    command: str,
    reason: str | None,
    now: dt.datetime,
    ahead: AuditAhead | None = None,
    staging: _Staging | None = None,
) -> audit.Head:
    """The plan's rows, then its audit entries as the batch after ``head``, in the caller's
    transaction. A large batch is prepared by a forked child (it computes, from the plan as
    this process holds it, exactly what this process would, and writes nothing: the rows and
    entries are written here, by the one audited path) while the rows are written; a first
    import's by the child ``ahead`` started, if it was prepared for exactly this. A first
    import ``staging`` (``AuditAhead.stage``) copies its rows and entries from the scratch
    files where that child and this process wrote them (``staged.py``); ``staged.Unusable``
    if the chain no longer ends where its batch follows, or the schema differs."""

    def prepare() -> audit.PreparedBatch:
        return audit.prepare_batch(
            head, plan.audit_changes(), user=user, command=command, reason=reason, now=now
        )

    if staging is not None:
        staging.copy(connection, plan, head)
        return staging.head_after
    if ahead is not None and ahead.fits(plan, head, user, command, reason, now):
        _write(connection, plan)
        prepared = ahead.result()
        assert isinstance(prepared, audit.PreparedBatch)
        return audit.write_batch(connection, prepared)
    entries = sum(len(rows) for rows in plan.inserts.values())
    if entries < FORK_ENTRIES:
        _write(connection, plan)
        return audit.write_batch(connection, prepare())
    if connection.dialect.name == "sqlite":  # this connection's page cache: 64 MB, not 2 MB
        connection.exec_driver_sql(f"PRAGMA cache_size = -{LARGE_CACHE_KIB}")
    from rtoutcomes.forking import InChild

    with InChild(prepare) as child:
        _write(connection, plan)
        prepared = child.result()
    return audit.write_batch(connection, prepared)


def _write(connection: sa.Connection, plan: _Plan) -> None:
    """Rows in: parents' inserts first, then updates, then deletes children first."""
    for spec in TABLES:
        insert_rows(
            connection,
            REGISTRY_TABLES[spec.name],
            spec.column_names,
            plan.inserts.get(spec.name, ()),
        )
    for spec in TABLES:
        table = REGISTRY_TABLES[spec.name]
        groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for key, values in plan.updates.get(spec.name, []):
            bound = {"_key": key, **{f"_new_{c}": v for c, v in values.items()}}
            groups.setdefault(tuple(sorted(values)), []).append(bound)
        for names, params in groups.items():
            statement = (
                sa.update(table)
                .where(table.c[spec.primary_key] == sa.bindparam("_key"))
                .values({n: sa.bindparam(f"_new_{n}") for n in names})
            )
            connection.execute(statement, params)
    for spec in reversed(TABLES):
        table = REGISTRY_TABLES[spec.name]
        keys = [row[spec.primary_key] for row in plan.deletes.get(spec.name, [])]
        for start in range(0, len(keys), 500):
            connection.execute(
                sa.delete(table).where(table.c[spec.primary_key].in_(keys[start : start + 500]))
            )
