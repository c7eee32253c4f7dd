"""The audit trail: every change to the registry, chained by hash, and the registry replayed.

Each entry of ``audit_log`` records one change: a whole-row ``insert`` or ``delete`` (the row as
canonical JSON), one cell's ``update`` (old and new value as canonical JSON), or a ``freeze``
label; with when (UTC, ISO text), who, which command, why, and its batch (one call of
``changes.apply_changes``). Entries are numbered 1, 2, 3... (``seq``) and chained:

    entry_hash = SHA-256(canonical JSON of the entry's content + ``prev_hash``)

where ``prev_hash`` is the previous entry's ``entry_hash`` (64 zeros for the first). The one row of
``audit_head`` repeats the last entry's hash, so that a deleted tail is caught too.

``verify`` recomputes the chain and replays every entry from an empty registry: the result must
equal the registry's tables exactly, so that an edited, deleted or reordered audit row, and a
registry cell changed behind rtoutcomes' back, are each reported with the place they first show.
``rows_as_of`` replays up to a freeze label, a batch or a time: the registry as it was then.

Canonical JSON: keys sorted, no spaces, UTF-8 (not ``\\u`` escapes); values typed by column kind:
dates ``"YYYY-MM-DD"``, numbers as floats, integers as integers, yes/no as booleans.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.audit_text import canonical_json, json_string, row_texts
from rtoutcomes.registry.database import insert_columns
from rtoutcomes.registry.reading import GENESIS, RegistryState, Rows, Snapshot
from rtoutcomes.registry.schema import AUDIT_HEAD, AUDIT_LOG
from rtoutcomes.registry.spec import TABLE_BY_NAME, TABLES, ColumnSpec

State = dict[str, dict[str, dict[str, object]]]  # table -> key -> row


class AuditError(RtOutcomesError):
    """The audit trail cannot answer (no such label, a broken chain under ``--as-of``...)."""


# --- values ----------------------------------------------------------------------------------


def _entry_text(
    action: str,
    batch: str,
    column: str,
    command: str,
    key: str,
    label: str,
    new: str,
    old: str,
    prev_hash: str,
    reason: str,
    recorded_at: str,
    seq: str,
    table: str,
    user: str,
) -> str:
    """The canonical JSON of an audit entry's content from its fields' JSON texts, in the
    sorted key order (hashing every entry of a whole-registry import through the JSON encoder
    is a large part of its time)."""
    return (
        f'{{"action":{action},"batch":{batch},"column":{column},"command":{command},'
        f'"key":{key},"label":{label},"new":{new},"old":{old},"prev_hash":{prev_hash},'
        f'"reason":{reason},"recorded_at":{recorded_at},"seq":{seq},"table":{table},'
        f'"user":{user}}}'
    )


def encode_value(value: object, column: ColumnSpec) -> object:
    """A typed registry value as a JSON value (``None`` stays ``None``)."""
    if value is None:
        return None
    if column.kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if column.kind == "number":
        return float(value)  # type: ignore[arg-type]
    if column.kind == "integer":
        return int(value)  # type: ignore[call-overload]
    if column.kind == "yes/no":
        return bool(value)
    return str(value)


def decode_value(value: object, column: ColumnSpec) -> object:
    """The typed registry value of a JSON value written by ``encode_value``."""
    if value is None:
        return None
    if column.kind == "date":
        return dt.date.fromisoformat(str(value))
    return value if column.kind != "number" else float(value)  # type: ignore[arg-type]


def encode_row(table: str, row: Mapping[str, object]) -> dict[str, object]:
    """A whole row as a JSON object (every column of the table)."""
    return {c.name: encode_value(row.get(c.name), c) for c in TABLE_BY_NAME[table].columns}


def decode_row(table: str, data: Mapping[str, object]) -> dict[str, object]:
    return {c.name: decode_value(data.get(c.name), c) for c in TABLE_BY_NAME[table].columns}


def timestamp(moment: dt.datetime) -> str:
    """``2026-11-30T04:39:31.123456Z``: a UTC time as stored in ``recorded_at``."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def login_name() -> str:
    """The operating-system login: who is recorded when no user is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return os.environ.get("USER") or os.environ.get("USERNAME") or f"uid {os.getuid()}"


# --- entries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    """One row of ``audit_log``; ``old``/``new`` are canonical JSON text (or ``None``)."""

    seq: int
    batch: int
    recorded_at: str
    user: str
    command: str
    reason: str | None
    action: str
    table: str | None
    key: str | None
    column: str | None
    old: str | None
    new: str | None
    label: str | None
    prev_hash: str
    entry_hash: str = ""

    def content(self) -> dict[str, object]:
        """What the hash covers: every field but ``entry_hash`` (``prev_hash`` included)."""
        return {
            "seq": self.seq,
            "batch": self.batch,
            "recorded_at": self.recorded_at,
            "user": self.user,
            "command": self.command,
            "reason": self.reason,
            "action": self.action,
            "table": self.table,
            "key": self.key,
            "column": self.column,
            "old": self.old,
            "new": self.new,
            "label": self.label,
            "prev_hash": self.prev_hash,
        }

    def canonical_text(self) -> str:
        """``canonical_json(self.content())``, written by ``_entry_text`` (a test checks that
        they are equal)."""
        text = json_string
        return _entry_text(
            text(self.action),
            int.__repr__(self.batch),
            text(self.column),
            text(self.command),
            text(self.key),
            text(self.label),
            text(self.new),
            text(self.old),
            text(self.prev_hash),
            text(self.reason),
            text(self.recorded_at),
            int.__repr__(self.seq),
            text(self.table),
            text(self.user),
        )

    def computed_hash(self) -> str:
        return hashlib.sha256(self.canonical_text().encode("utf-8")).hexdigest()

    def as_json(self) -> dict[str, object]:
        """For ``audit --json``: ``old``/``new`` as JSON values, not text."""
        data = self.content()
        data["old"] = None if self.old is None else json.loads(self.old)
        data["new"] = None if self.new is None else json.loads(self.new)
        data["entry_hash"] = self.entry_hash
        return data


AUDIT_COLUMNS = (
    "seq",
    "batch",
    "recorded_at",
    "user_name",
    "command",
    "reason",
    "action",
    "table_name",
    "record_key",
    "column_name",
    "old_value",
    "new_value",
    "label",
    "prev_hash",
    "entry_hash",
)
"""The ``audit_log`` columns in the order ``append_batch`` writes them."""


@dataclass(frozen=True)
class Change:
    """A change to record (``append_batch`` numbers, dates and chains it)."""

    action: str
    table: str | None = None
    key: str | None = None
    column: str | None = None
    old: str | None = None
    new: str | None = None
    label: str | None = None


FIELDS = ("action", "table", "key", "column", "old", "new", "label")
"""The fields of a ``Change``, in its order."""


@dataclass
class ChangeColumns:
    """Changes to record as columns, one list per field of ``Change`` (a whole-registry import
    records tens of thousands of entries; ``append_batch`` writes them a column at a time)."""

    action: list[str] = field(default_factory=list)
    table: list[str | None] = field(default_factory=list)
    key: list[str | None] = field(default_factory=list)
    column: list[str | None] = field(default_factory=list)
    old: list[str | None] = field(default_factory=list)
    new: list[str | None] = field(default_factory=list)
    label: list[str | None] = field(default_factory=list)

    @classmethod
    def of(cls, changes: Iterable[Change]) -> ChangeColumns:
        found = cls()
        for change in changes:
            found.append(change)
        return found

    def __len__(self) -> int:
        return len(self.action)

    def columns(self, *names: str) -> tuple[list[str | None], ...]:
        return tuple(getattr(self, name) for name in names)

    def append(self, change: Change) -> None:
        for name in FIELDS:
            getattr(self, name).append(getattr(change, name))

    def extend(self, other: ChangeColumns) -> None:
        for name in FIELDS:
            getattr(self, name).extend(getattr(other, name))


@dataclass(frozen=True)
class Head:
    """The chain's end: last ``seq``, last ``batch`` and its ``entry_hash``."""

    seq: int
    batch: int
    entry_hash: str


def read_head(connection: sa.Connection) -> Head:
    row = connection.execute(
        sa.select(AUDIT_HEAD.c.seq, AUDIT_HEAD.c.batch, AUDIT_HEAD.c.entry_hash).where(
            AUDIT_HEAD.c.id == 1
        )
    ).one_or_none()
    if row is None:
        return Head(0, 0, GENESIS)
    return Head(int(row.seq), int(row.batch), str(row.entry_hash))


def append_batch(
    connection: sa.Connection,
    changes: Iterable[Change] | ChangeColumns,
    *,
    user: str,
    command: str,
    reason: str | None,
    now: dt.datetime,
) -> Head:
    """Append ``changes`` as the next batch (inside the caller's writer transaction)."""
    found = changes if isinstance(changes, ChangeColumns) else ChangeColumns.of(changes)
    head = read_head(connection)
    return write_batch(
        connection, prepare_batch(head, found, user=user, command=command, reason=reason, now=now)
    )


@dataclass(frozen=True)
class PreparedBatch:
    """A batch's entries, numbered, dated and chained after ``head`` (``prepare_batch``), to
    be written by ``write_batch`` in a transaction whose chain still ends at ``head``."""

    head: Head
    batch: int
    recorded_at: str
    user: str
    command: str
    reason: str | None
    changes: ChangeColumns
    hashes: list[str]


def prepare_batch(
    head: Head,
    changes: ChangeColumns,
    *,
    user: str,
    command: str,
    reason: str | None,
    now: dt.datetime,
) -> PreparedBatch:
    """``changes`` as the batch after ``head``: numbered, dated and hashed (no database: a
    large batch is prepared by another process while the registry's rows are written)."""
    batch = head.batch + 1
    recorded_at = timestamp(now)
    reason = reason or None
    seqs = range(head.seq + 1, head.seq + 1 + len(changes))
    hashes = chain_hashes(changes, seqs, batch, recorded_at, user, command, reason, head.entry_hash)
    return PreparedBatch(head, batch, recorded_at, user, command, reason, changes, hashes)


def write_batch(connection: sa.Connection, prepared: PreparedBatch) -> Head:
    """Insert a prepared batch's entries and move the head (the caller's writer transaction,
    whose chain must still end where the batch was prepared to follow)."""
    head = prepared.head
    if read_head(connection) != head:
        raise RuntimeError("the audit trail moved since its batch was prepared")
    if not prepared.hashes:
        return head
    seqs = range(head.seq + 1, head.seq + 1 + len(prepared.hashes))
    n = len(seqs)
    columns = [
        seqs,
        [prepared.batch] * n,
        [prepared.recorded_at] * n,
        [prepared.user] * n,
        [prepared.command] * n,
        [prepared.reason] * n,
        *prepared.changes.columns(*FIELDS),
        [head.entry_hash, *prepared.hashes[:-1]],
        prepared.hashes,
    ]
    insert_columns(connection, AUDIT_LOG, AUDIT_COLUMNS, columns)
    last = Head(seqs[-1], prepared.batch, prepared.hashes[-1])
    move_head(connection, last)
    return last


def move_head(connection: sa.Connection, last: Head) -> None:
    """``audit_head`` set to ``last``, the chain's new last entry (the caller's writer
    transaction, which has just written the entries up to it)."""
    values = {"seq": last.seq, "batch": last.batch, "entry_hash": last.entry_hash}
    updated = connection.execute(AUDIT_HEAD.update().where(AUDIT_HEAD.c.id == 1).values(values))
    if updated.rowcount == 0:
        connection.execute(AUDIT_HEAD.insert().values(id=1, **values))


def chain_hashes(
    changes: ChangeColumns,
    seqs: Sequence[int],
    batch: int,
    recorded_at: str,
    user: str,
    command: str,
    reason: str | None,
    prev_hash: str,
) -> list[str]:
    """Each entry's ``entry_hash``, the first following ``prev_hash``: the SHA-256 of
    ``AuditEntry.canonical_text``. The text around ``prev_hash`` (the content's keys in
    sorted order, the batch's shared fields once) is written a column at a time; only the
    hashing follows the chain entry by entry."""
    text = json_string
    shared = f'"batch":{int.__repr__(batch)},'
    heads = [
        f'{{"action":{a},{shared}"column":{c},"command":{text(command)},"key":{k},'
        f'"label":{lb},"new":{n},"old":{o},"prev_hash":"'
        for a, c, k, lb, n, o in zip(
            *(map(text, column) for column in changes.columns(*_HEAD_FIELDS)), strict=True
        )
    ]
    after = f'","reason":{text(reason)},"recorded_at":{text(recorded_at)},"seq":'
    user_text = text(user)
    tails = [
        f'{after}{int.__repr__(seq)},"table":{table},"user":{user_text}}}'
        for seq, table in zip(seqs, map(text, changes.table), strict=True)
    ]
    hashes = []
    sha256 = hashlib.sha256
    prev = prev_hash
    for head, tail in zip(heads, tails, strict=True):
        prev = sha256(f"{head}{prev}{tail}".encode()).hexdigest()
        hashes.append(prev)
    return hashes


_HEAD_FIELDS = ("action", "column", "key", "label", "new", "old")
"""The fields before ``prev_hash`` in the content's sorted key order (``batch`` and
``command`` are the batch's)."""


def row_changes(table: str, inserted: Iterable[Sequence[object]]) -> list[Change]:
    """``insert`` changes of whole rows of ``table``, each a tuple in the table's column order
    (``spec.column_names``)."""
    return [
        Change("insert", table, key, None, None, new)
        for key, new in zip(*inserted_rows(table, inserted).columns("key", "new"), strict=True)
    ]


def inserted_rows(
    table: str, inserted: Iterable[Sequence[object]], texts: Sequence[str] | None = None
) -> ChangeColumns:
    """``row_changes`` as columns (what an import records: one entry per row). ``texts``: the
    rows' ``row_texts``, when written already (by the process that read them)."""
    spec = TABLE_BY_NAME[table]
    rows = inserted if isinstance(inserted, Sequence) else list(inserted)
    key = spec.column_names.index(spec.primary_key)
    n = len(rows)
    keys: list[str | None] = [str(r[key]) for r in rows]
    new = row_texts(table, rows) if texts is None else texts
    if len(new) != n:
        raise ValueError(f"{len(new)} texts for {n} rows of {table}")
    return ChangeColumns(
        ["insert"] * n, [table] * n, keys, [None] * n, [None] * n, [*new], [None] * n
    )


def fetch_entries(connection: sa.Connection, *, upto_seq: int | None = None) -> list[AuditEntry]:
    """Audit entries in ``seq`` order (up to ``upto_seq``)."""
    query = sa.select(AUDIT_LOG).order_by(AUDIT_LOG.c.seq)
    if upto_seq is not None:
        query = query.where(AUDIT_LOG.c.seq <= upto_seq)
    return [_entry(r._mapping) for r in connection.execute(query)]


def _entry(row: sa.RowMapping) -> AuditEntry:
    return AuditEntry(
        int(row["seq"]),
        int(row["batch"]),
        row["recorded_at"],
        row["user_name"],
        row["command"],
        row["reason"],
        row["action"],
        row["table_name"],
        row["record_key"],
        row["column_name"],
        row["old_value"],
        row["new_value"],
        row["label"],
        row["prev_hash"],
        row["entry_hash"],
    )


def _rows_as_stored(connection: sa.Connection) -> dict[str, list[dict[str, object]]]:
    """Every registry table's rows, reading only the tables and columns the database has now.

    A migration runs at its own revision: later revisions add tables and columns (0003: the
    DICOM dosimetry ones) that the models know but the database does not have yet.
    """
    from rtoutcomes.registry.schema import REGISTRY_TABLES

    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    rows: dict[str, list[dict[str, object]]] = {}
    for spec in TABLES:
        if spec.name not in present:
            continue
        columns = {c["name"] for c in inspector.get_columns(spec.name)}
        table = REGISTRY_TABLES[spec.name]
        query = sa.select(*(table.c[name] for name in spec.column_names if name in columns))
        records = [dict(r._mapping) for r in connection.execute(query)]
        records.sort(key=lambda r: str(r[spec.primary_key]))
        rows[spec.name] = records
    return rows


def baseline(connection: sa.Connection, *, command: str, reason: str) -> Head:
    """Record every row already in the registry as inserted (a registry that predates the audit
    trail: the migration that adds it calls this, so that replay reproduces the registry)."""
    rows = _rows_as_stored(connection)
    changes = [
        c
        for spec in TABLES
        for c in row_changes(
            spec.name,
            [tuple(r.get(c) for c in spec.column_names) for r in rows.get(spec.name, [])],
        )
    ]
    return append_batch(
        connection,
        changes,
        user=login_name(),
        command=command,
        reason=reason,
        now=dt.datetime.now(dt.UTC),
    )


# --- chain, replay and verification ----------------------------------------------------------


@dataclass
class ChainBreak:
    """Where the audit first disagrees: an entry (``seq``) or a registry row, and why."""

    seq: int | None
    where: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.why}"


def check_chain(entries: list[AuditEntry], head: Head) -> ChainBreak | None:
    """The first break of numbering, linking or hashing of ``entries``, or of the head row."""
    prev, expected_seq = GENESIS, 1
    for entry in entries:
        where = f"audit entry {entry.seq} (batch {entry.batch})"
        if entry.seq != expected_seq:
            missing = (
                f"entry {expected_seq} is missing"
                if entry.seq > expected_seq
                else "numbering goes backwards"
            )
            return ChainBreak(entry.seq, where, f"{missing} (entries deleted or reordered)")
        if entry.prev_hash != prev:
            return ChainBreak(
                entry.seq,
                where,
                "does not follow the previous entry (entries deleted, inserted or reordered)",
            )
        if entry.computed_hash() != entry.entry_hash:
            return ChainBreak(entry.seq, where, "its content does not match its hash (edited)")
        prev, expected_seq = entry.entry_hash, expected_seq + 1
    last = entries[-1] if entries else None
    if (last.seq if last else 0) != head.seq or prev != head.entry_hash:
        return ChainBreak(
            None,
            "end of the audit trail",
            f"the chain ends at entry {last.seq if last else 0} but the recorded head is entry "
            f"{head.seq} (entries deleted at the end, or the head edited)",
        )
    return None


def replay(entries: Iterable[AuditEntry]) -> tuple[State, ChainBreak | None]:
    """The registry built from nothing by ``entries``; stops at the first impossible entry."""
    state: State = {spec.name: {} for spec in TABLES}
    for entry in entries:
        if entry.action == "freeze":
            continue
        where = f"audit entry {entry.seq} (batch {entry.batch})"
        table = state.get(entry.table or "")
        if table is None or entry.key is None:
            return state, ChainBreak(entry.seq, where, f"unknown table {entry.table!r}")
        spec = TABLE_BY_NAME[entry.table or ""]
        if entry.action == "insert":
            if entry.key in table:
                return state, ChainBreak(
                    entry.seq, where, f"inserts {entry.table} {entry.key} twice"
                )
            table[entry.key] = decode_row(spec.name, json.loads(entry.new or "{}"))
        elif entry.action == "delete":
            if table.pop(entry.key, None) is None:
                return state, ChainBreak(
                    entry.seq, where, f"deletes {entry.table} {entry.key}, not there"
                )
        else:
            row = table.get(entry.key)
            column = next((c for c in spec.columns if c.name == entry.column), None)
            if row is None or column is None:
                return state, ChainBreak(
                    entry.seq, where, f"updates {entry.table} {entry.key} {entry.column}, not there"
                )
            old = decode_value(json.loads(entry.old or "null"), column)
            if _differs(row.get(column.name), old, column):
                return state, ChainBreak(
                    entry.seq,
                    where,
                    f"its old value of {entry.table} {entry.key} "
                    f"{entry.column} is not the value replay holds",
                )
            row[column.name] = decode_value(json.loads(entry.new or "null"), column)
    return state, None


def _differs(a: object, b: object, column: ColumnSpec) -> bool:
    return encode_value(a, column) != encode_value(b, column)


def state_rows(state: State) -> Rows:
    """A replayed state as ``fetch_rows`` gives it: rows sorted by key (code-point order)."""
    return {name: [state[name][k] for k in sorted(state[name])] for name in state}


def compare_with_registry(state: State, rows: Rows) -> ChainBreak | None:
    """The first difference between a replayed state and the registry's rows."""
    for spec in TABLES:
        stored = {str(r[spec.primary_key]): r for r in rows[spec.name]}
        replayed = state[spec.name]
        for key in sorted(set(stored) | set(replayed)):
            where = f"registry table {spec.name}, {key}"
            if key not in replayed:
                return ChainBreak(
                    None,
                    where,
                    "row in the registry but not in the audit trail (written outside rtoutcomes)",
                )
            if key not in stored:
                return ChainBreak(
                    None,
                    where,
                    "row in the audit trail but not in the registry (deleted outside rtoutcomes)",
                )
            for column in spec.columns:
                a, b = replayed[key].get(column.name), stored[key].get(column.name)
                if _differs(a, b, column):
                    return ChainBreak(
                        None,
                        f"{where}, column {column.name}",
                        f"the audit trail gives {canonical_json(encode_value(a, column))}, "
                        f"the registry holds {canonical_json(encode_value(b, column))} "
                        "(changed outside rtoutcomes)",
                    )
    return None


@dataclass
class Verification:
    """``verify``'s answer: ``ok``, the first break (if any), and what was checked."""

    entries: int
    batches: int
    head: Head
    first_break: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.first_break is None

    def as_json(self) -> dict[str, object]:
        brk = self.first_break
        return {
            "ok": self.ok,
            "entries": self.entries,
            "batches": self.batches,
            "head_hash": self.head.entry_hash,
            "first_break": None
            if brk is None
            else {"seq": brk.seq, "where": brk.where, "why": brk.why},
        }


def verify(db_url: str | Path) -> Verification:
    """Check the chain, then replay it and compare with the registry (one read snapshot)."""
    from rtoutcomes.registry.reading import fetch_rows, reading

    with reading(db_url) as connection:
        head = read_head(connection)
        entries = fetch_entries(connection)
        rows = fetch_rows(connection)
    batches = len({e.batch for e in entries})
    result = Verification(len(entries), batches, head)
    result.first_break = check_chain(entries, head)
    if result.first_break is None:
        state, result.first_break = replay(entries)
        if result.first_break is None:
            result.first_break = compare_with_registry(state, rows)
    return result


# --- states in the past ----------------------------------------------------------------------


def resolve_as_of(entries: list[AuditEntry], as_of: str) -> RegistryState:
    """The state named by a freeze label, a batch number or a UTC time (``YYYY-MM-DD``: the end
    of that day; ``YYYY-MM-DDTHH:MM[:SS]``: that moment, ``Z`` or offset allowed)."""
    text = as_of.strip()
    for entry in entries:
        if entry.action == "freeze" and entry.label == text:
            return RegistryState(entry.seq, entry.batch, entry.entry_hash, entry.label, text)
    chosen: list[AuditEntry]
    if text.isdigit():
        chosen = [e for e in entries if e.batch <= int(text)]
        if not any(e.batch == int(text) for e in entries):
            raise AuditError(
                f"--as-of {text}: no batch {text} in the audit trail "
                f"(batches 1..{entries[-1].batch if entries else 0})"
            )
    else:
        limit = _as_of_time(text)
        chosen = [e for e in entries if e.recorded_at <= limit]
    if not chosen:
        return RegistryState(0, 0, GENESIS, None, text)
    last = chosen[-1]
    label = last.label if last.action == "freeze" else None
    return RegistryState(last.seq, last.batch, last.entry_hash, label, text)


def _as_of_time(text: str) -> str:
    labels = "a freeze label, a batch number or a time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"
    moment = parse_time(text, end_of_day=True)
    if moment is None:
        raise AuditError(f"--as-of {text!r}: not a freeze label of this registry, nor {labels}")
    return timestamp(moment)


def parse_time(text: str, *, end_of_day: bool) -> dt.datetime | None:
    """A UTC moment from ``YYYY-MM-DD`` (its start, or with ``end_of_day`` its end) or an ISO
    time (``Z``, an offset, or none = UTC); ``None`` if ``text`` is neither."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(
                day, dt.time.max if end_of_day else dt.time.min, tzinfo=dt.UTC
            )
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def snapshot(db_url: str | Path, as_of: str | None = None) -> Snapshot:
    """The registry now (``as_of=None``) or as it was at ``as_of`` (a freeze label, a batch or a
    time; replayed from the audit trail, whose chain must be intact up to there)."""
    from rtoutcomes.registry.reading import fetch_rows, reading

    with reading(db_url) as connection:
        head = read_head(connection)
        if as_of is None:
            rows = fetch_rows(connection)
            last = connection.execute(
                sa.select(AUDIT_LOG.c.action, AUDIT_LOG.c.label).where(AUDIT_LOG.c.seq == head.seq)
            ).one_or_none()
            label = last.label if last is not None and last.action == "freeze" else None
            return Snapshot(rows, RegistryState(head.seq, head.batch, head.entry_hash, label))
        entries = fetch_entries(connection)
    state = resolve_as_of(entries, as_of)
    upto = [e for e in entries if e.seq <= state.seq]
    problem = check_chain(upto, Head(state.seq, state.batch, state.chain_hash))
    if problem is not None:
        raise AuditError(
            f"--as-of {as_of}: the audit trail is broken at {problem}; "
            "run `rtoutcomes audit --verify`"
        )
    replayed, problem = replay(upto)
    if problem is not None:
        raise AuditError(f"--as-of {as_of}: cannot replay the audit trail: {problem}")
    return Snapshot(state_rows(replayed), state)


def list_entries(
    db_url: str | Path, *, record: str | None = None, since: str | None = None
) -> list[AuditEntry]:
    """Audit entries, oldest first; ``record`` ``TABLE:KEY`` keeps one row's history, ``since``
    (``YYYY-MM-DD`` or an ISO time, UTC) the entries recorded then or later."""
    from rtoutcomes.registry.reading import reading

    query = sa.select(AUDIT_LOG).order_by(AUDIT_LOG.c.seq)
    if record is not None:
        table, sep, key = record.partition(":")
        if not sep or table not in TABLE_BY_NAME or not key:
            raise AuditError(
                f"--record {record!r}: write TABLE:KEY, e.g. lesions:L13 "
                f"(tables: {', '.join(TABLE_BY_NAME)})"
            )
        query = query.where(AUDIT_LOG.c.table_name == table, AUDIT_LOG.c.record_key == key)
    if since is not None:
        start = _since_time(since)
        query = query.where(AUDIT_LOG.c.recorded_at >= start)
    with reading(db_url) as connection:
        return [_entry(r._mapping) for r in connection.execute(query)]


def _since_time(text: str) -> str:
    moment = parse_time(text, end_of_day=False)
    if moment is None:
        raise AuditError(
            f"--since {text!r}: write a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ (UTC)"
        )
    return timestamp(moment)


def history_text(entries: list[AuditEntry]) -> str:
    """Entries for people: a line per batch (when, who, command, why), its changes below."""
    lines: list[str] = []
    batch = None
    for e in entries:
        if e.batch != batch:
            batch = e.batch
            why = f"; reason: {e.reason}" if e.reason else ""
            lines.append(f"batch {e.batch}, {e.recorded_at}, {e.user}, {e.command}{why}")
        if e.action == "update":
            lines.append(f"  {e.seq}: update {e.table} {e.key} {e.column}: {e.old} -> {e.new}")
        elif e.action == "freeze":
            lines.append(f"  {e.seq}: freeze {e.label!r}")
        else:
            lines.append(f"  {e.seq}: {e.action} {e.table} {e.key}")
    return "\n".join(lines) if lines else "no audit entries"
