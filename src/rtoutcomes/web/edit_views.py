"""Writing pages: add a record to a patient, correct any value, import with a preview, the
history and its verification, freeze. Every write goes through the registry's one audited write
path (``registry.changes.apply_changes``) with the logged-in user as the audit's "who"; the
checks are the import's, and their messages are shown beside the field they concern."""

from __future__ import annotations

import re
import secrets
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rtoutcomes.errors import RtOutcomesError
from rtoutcomes.registry.spec import TABLE_BY_NAME, TableSpec
from rtoutcomes.web import queries
from rtoutcomes.web.auth import Session
from rtoutcomes.web.forms import Field, FormState, form_field, record_fields
from rtoutcomes.web.pages import format_cell, redirect, render, requires, state_of

ADDABLE = {
    "assessments": "Add a follow-up scan",
    "patient_events": "Record progression, death or last contact",
    "toxicities": "Add a toxicity",
    "systemic_therapies": "Add a systemic therapy",
}
MAX_UPLOAD = 50 << 20


def apply(
    request: Request,
    session: Session,
    changes: Any,
    *,
    reason: str | None,
    command: str,
    dry_run: bool = False,
    expected_head: str | None = None,
    refuse_existing: bool = False,
    patient_id: str | None = None,
    files: Path | None = None,
) -> tuple[Any, FormState]:
    """``apply_changes`` (or, for uploaded ``files``, ``update_registry``: the same path as
    ``import --update``) as the logged-in user; problems become a ``FormState``. After a write,
    ``patient_id``'s page is derived again (``None``: the whole registry, in the background)."""
    from rtoutcomes.registry.changes import apply_changes
    from rtoutcomes.registry.update import update_registry
    from rtoutcomes.registry.validation import ImportRejected

    state = state_of(request)
    form = FormState()
    user = session.user.name if session.user else None
    try:
        if files is not None:
            report = update_registry(
                files,
                state.config.db,
                user=user,
                reason=reason or None,
                command=command,
                dry_run=dry_run,
                expected_head=expected_head,
            )
        else:
            report = apply_changes(
                state.config.db,
                changes,
                user=user,
                reason=reason or None,
                command=command,
                dry_run=dry_run,
                expected_head=expected_head,
                refuse_existing=refuse_existing,
            )
    except ImportRejected as error:
        for p in error.problems:
            if p.column:
                shown = f"{p.rule}" + (f" (value {p.value!r})" if p.value is not None else "")
                form.errors.setdefault(p.column, []).append(shown)
            else:
                form.general.append(str(p))
        return None, form
    except RtOutcomesError as error:
        name = type(error).__name__
        if name == "ReasonRequired":
            form.errors.setdefault("reason", []).append(
                "give the reason for this change (it goes into the audit trail)"
            )
        else:
            form.general.append(str(error))
        return None, form
    if report.written:
        state.registry_changed(report.head_after, patient_id)
    return report, form


# --- add a record to a patient ---------------------------------------------------------------


def _add_fields(spec: TableSpec, rows: dict[str, list[dict[str, object]]]) -> list[Field]:
    lesions = tuple(str(r["lesion_id"]) for r in rows["lesions"])
    courses = tuple(str(r["course_id"]) for r in rows["sbrt_courses"])
    fields = []
    for column in spec.columns:
        if column.name == "patient_id":
            fields.append(form_field(column, fixed=True))
        elif column.name == "lesion_id":
            fields.append(form_field(column, lesions))
        elif column.name == "course_id" and spec.name != "sbrt_courses":
            fields.append(form_field(column, courses))
        else:
            fields.append(form_field(column))
    return fields


def _next_key(request: Request, table: str) -> str:
    """A free key like the table's last one with its number + 1 (``A0268`` -> ``A0269``)."""
    import sqlalchemy as sa

    spec = TABLE_BY_NAME[table]
    t = queries.T[table]
    pk = t.c[spec.primary_key]
    with state_of(request).connect() as connection:
        last = connection.execute(sa.select(sa.func.max(pk))).scalar()
        if last is None:
            return ""
        found = re.match(r"^(.*?)(\d+)(\D*)$", str(last))
        if not found:
            return ""
        head, digits, tail = found.groups()
        for step in range(1, 50):
            key = f"{head}{int(digits) + step:0{len(digits)}d}{tail}"
            if connection.execute(sa.select(pk).where(pk == key)).first() is None:
                return key
    return ""


def _patient_and_spec(request: Request) -> tuple[str, TableSpec | None, Any]:
    patient_id, table = request.path_params["patient_id"], request.path_params["table"]
    spec = TABLE_BY_NAME.get(table) if table in ADDABLE else None
    with state_of(request).connect() as connection:
        rows = queries.patient_rows(connection, patient_id)
    return patient_id, spec, rows


def _not_found(request: Request, what: str) -> Response:
    return render(request, "message.html", status_code=404, title="Not found", message=what)


@requires("editor")
def add_form(request: Request, session: Session, form: Any) -> Response:
    patient_id, spec, rows = _patient_and_spec(request)
    if spec is None or rows is None:
        return _not_found(request, "No such patient or kind of record.")
    values = {spec.primary_key: _next_key(request, spec.name), "patient_id": patient_id}
    for name in ("lesion_id", "event_type"):
        if request.query_params.get(name):
            values[name] = request.query_params[name]
    return _add_page(request, spec, rows, patient_id, FormState(values))


def _add_page(
    request: Request,
    spec: TableSpec,
    rows: Any,
    patient_id: str,
    state: FormState,
    status: int = 200,
) -> Response:
    return render(
        request,
        "add.html",
        status_code=status,
        title=ADDABLE[spec.name],
        spec=spec,
        patient_id=patient_id,
        fields=_add_fields(spec, rows),
        form=state,
    )


@requires("editor")
def add_record(request: Request, session: Session, form: Any) -> Response:
    from rtoutcomes.registry.changes import ChangeSet

    patient_id, spec, rows = _patient_and_spec(request)
    if spec is None or rows is None:
        return _not_found(request, "No such patient or kind of record.")
    values = {c.name: str(form.get(c.name, "")).strip()[:2000] for c in spec.columns}
    if "patient_id" in values:
        values["patient_id"] = patient_id
    row = {name: (value if value != "" else None) for name, value in values.items()}
    report, state = apply(
        request,
        session,
        ChangeSet(rows={spec.name: [row]}),
        reason=str(form.get("reason", "")).strip() or None,
        command=f"rtoutcomes serve: add {spec.name}",
        refuse_existing=True,
        patient_id=patient_id,
    )
    if report is None:
        state.values = values
        return _add_page(request, spec, rows, patient_id, state, status=400)
    key = values[spec.primary_key]
    return redirect(f"/patients/{_q(patient_id)}?added={_q(spec.name)}:{_q(key)}")


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# --- correct a record ------------------------------------------------------------------------


@requires("editor")
def correct_record(request: Request, session: Session, form: Any) -> Response:
    from rtoutcomes.registry.changes import ChangeSet
    from rtoutcomes.web.views import record_page

    table, key = request.path_params["table"], request.path_params["key"]
    spec = TABLE_BY_NAME.get(table)
    if spec is None:
        return _not_found(request, f"There is no table {table!r}.")
    with state_of(request).connect() as connection:
        stored = queries.record(connection, table, key)
        owner = queries.patient_of(connection, table, stored) if stored else None
    if stored is None:
        return _not_found(request, f"There is no record {key!r} in {table}.")
    typed = {
        f.column.name: str(form.get(f.column.name, "")).strip()[:2000] for f in record_fields(spec)
    }
    changed = {
        name: (text if text != "" else None)
        for name, text in typed.items()
        if text != format_cell(stored.get(name))
    }
    reason = str(form.get("reason", "")).strip()[:2000]
    if not changed:
        state = FormState(
            typed, general=["Nothing was changed: no value differs from the stored one."]
        )
        return record_page(request, table, key, state, status=400)
    report, state = apply(
        request,
        session,
        ChangeSet(rows={table: [{spec.primary_key: key, **changed}]}),
        reason=reason or None,
        command=f"rtoutcomes serve: correct {table}",
        patient_id=owner,
    )
    if report is None:
        state.values = {**typed, "reason": reason}
        return record_page(request, table, key, state, status=400)
    return redirect(f"/records/{_q(table)}/{_q(key)}?saved=1")


# --- history, verify, freeze ------------------------------------------------------------------


@requires("viewer")
def history(request: Request, session: Session, form: Any) -> Response:
    """The audit trail's latest entries; ``?verify=1`` checks the chain and the registry."""
    from rtoutcomes.registry import audit

    state = state_of(request)
    page = max(1, _int(request.query_params.get("page"), 1))
    with state.connect() as connection:
        entries, total = queries.audit_entries(connection, page=page)
    verification: Any = None
    if request.query_params.get("verify"):
        try:
            verification = audit.verify(state.config.db)
        except RtOutcomesError as error:
            verification = str(error)
    return render(
        request,
        "history.html",
        title="History",
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // queries.PAGE_SIZE)),
        verification=verification,
        form=FormState(),
        frozen=request.query_params.get("frozen", ""),
    )


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


@requires("admin")
def freeze_state(request: Request, session: Session, form: Any) -> Response:
    from rtoutcomes.registry.changes import freeze

    label = str(form.get("label", "")).strip()[:200]
    reason = str(form.get("reason", "")).strip()[:2000] or None
    state = state_of(request)
    try:
        freeze(
            state.config.db,
            label,
            user=session.user.name if session.user else None,
            reason=reason,
            command="rtoutcomes serve: freeze",
        )
    except RtOutcomesError as error:
        with state.connect() as connection:
            entries, total = queries.audit_entries(connection)
        return render(
            request,
            "history.html",
            status_code=400,
            title="History",
            entries=entries,
            total=total,
            page=1,
            pages=max(1, -(-total // queries.PAGE_SIZE)),
            verification=None,
            form=FormState({"label": label}, {"label": [str(error)]}),
            frozen="",
        )
    return redirect(f"/history?frozen={_q(label)}")


# --- import with a preview -------------------------------------------------------------------


@dataclass
class PendingImport:
    user: str
    path: Path
    name: str
    head: str


class PendingImports:
    """Uploaded files waiting for confirmation, by a random token (one per preview)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._items: dict[str, PendingImport] = {}
        self._lock = threading.Lock()

    def add(self, item: PendingImport) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._items[token] = item
        return token

    def take(self, token: str, user: str) -> PendingImport | None:
        with self._lock:
            item = self._items.get(token)
            if item is None or item.user != user:
                return None
            return self._items.pop(token)

    def put_back(self, token: str, item: PendingImport) -> None:
        with self._lock:
            self._items[token] = item


def pending_imports(request: Request) -> PendingImports:
    state = state_of(request)
    found = getattr(state, "imports", None)
    if found is None:
        found = PendingImports(state.config.workdir / "imports")
        state.imports = found  # type: ignore[attr-defined]
    return found


@requires("editor")
def import_page(request: Request, session: Session, form: Any) -> Response:
    return render(request, "import.html", title="Import", preview=None, form=FormState())


@requires("editor")
async def import_preview(request: Request, session: Session, form: Any) -> Response:
    """Save the upload, then show what it would change (nothing is written yet)."""
    from starlette.concurrency import run_in_threadpool

    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    pending = pending_imports(request)
    folder = pending.folder / secrets.token_hex(8)
    folder.mkdir(parents=True)
    names = []
    total = 0
    for upload in uploads:
        name = Path(upload.filename or "").name
        if not re.match(r"^[A-Za-z0-9_. -]{1,100}$", name) or name.startswith("."):
            return _import_error(request, folder, f"file name {name!r} is not allowed")
        data = await upload.read(MAX_UPLOAD + 1)
        total += len(data)
        if total > MAX_UPLOAD:
            return _import_error(request, folder, "the upload is larger than 50 MB")
        (folder / name).write_bytes(data)
        names.append(name)
    if not names:
        return _import_error(request, folder, "choose the CSV files or the workbook first")
    workbooks = [n for n in names if n.lower().endswith(".xlsx")]
    if workbooks and len(names) > 1:
        return _import_error(request, folder, "give one workbook, or CSV files, not both")
    path = folder / workbooks[0] if workbooks else folder

    def preview() -> Response:
        report, state = apply(
            request,
            session,
            None,
            reason=None,
            dry_run=True,
            files=path,
            command="rtoutcomes serve: import preview",
        )
        if report is None:
            shutil.rmtree(folder, ignore_errors=True)
            return render(
                request, "import.html", status_code=400, title="Import", preview=None, form=state
            )
        user = session.user.name if session.user else ""
        token = pending.add(PendingImport(user, path, ", ".join(names), report.head_before))
        return render(
            request,
            "import.html",
            title="Import preview",
            preview=report,
            token=token,
            names=", ".join(names),
            form=FormState(),
        )

    return await run_in_threadpool(preview)


def _import_error(request: Request, folder: Path, message: str) -> Response:
    shutil.rmtree(folder, ignore_errors=True)
    return render(
        request,
        "import.html",
        status_code=400,
        title="Import",
        preview=None,
        form=FormState(general=[message]),
    )


@requires("editor")
def import_confirm(request: Request, session: Session, form: Any) -> Response:
    """Write the previewed upload, if the registry has not changed since the preview."""
    pending = pending_imports(request)
    token = str(form.get("token", ""))
    user = session.user.name if session.user else ""
    item = pending.take(token, user)
    if item is None:
        return render(
            request,
            "import.html",
            status_code=400,
            title="Import",
            preview=None,
            form=FormState(
                general=["This preview is no longer available; upload the files again."]
            ),
        )
    reason = str(form.get("reason", "")).strip()[:2000] or None
    report, state = apply(
        request,
        session,
        None,
        reason=reason,
        files=item.path,
        command=f"rtoutcomes serve: import {item.name}",
        expected_head=item.head,
    )
    if report is None:
        if "reason" in state.errors:
            preview, _ = apply(
                request,
                session,
                None,
                reason=None,
                dry_run=True,
                files=item.path,
                command="rtoutcomes serve: import preview",
            )
            pending.put_back(token, item)
            return render(
                request,
                "import.html",
                status_code=400,
                title="Import preview",
                preview=preview,
                token=token,
                names=item.name,
                form=state,
            )
        shutil.rmtree(item.path if item.path.is_dir() else item.path.parent, ignore_errors=True)
        return render(
            request, "import.html", status_code=400, title="Import", preview=None, form=state
        )
    shutil.rmtree(item.path if item.path.is_dir() else item.path.parent, ignore_errors=True)
    return render(
        request,
        "import.html",
        title="Imported",
        preview=report,
        token="",
        names=item.name,
        form=FormState(),
        done=True,
    )


ROUTES = [
    Route("/patients/{patient_id:path}/add/{table}", add_form, methods=["GET"]),
    Route("/patients/{patient_id:path}/add/{table}", add_record, methods=["POST"]),
    Route("/records/{table}/{key:path}/correct", correct_record, methods=["POST"]),
    Route("/history", history, methods=["GET"]),
    Route("/history/freeze", freeze_state, methods=["POST"]),
    Route("/import", import_page, methods=["GET"]),
    Route("/import", import_preview, methods=["POST"]),
    Route("/import/confirm", import_confirm, methods=["POST"]),
]
