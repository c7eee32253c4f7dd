"""Reading pages: overview, patient search, a patient, one record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rtoutcomes.registry.spec import TABLE_BY_NAME
from rtoutcomes.web import queries
from rtoutcomes.web.auth import Session
from rtoutcomes.web.forms import FormState, record_fields
from rtoutcomes.web.pages import format_cell, render, requires, state_of
from rtoutcomes.web.patient import patient_view

SHOWN_PROBLEMS = 100
RECENT_CHANGES = 10


@requires("viewer")
def overview(request: Request, session: Session, form: Any) -> Response:
    """Counts, the screening flow, data-quality problems and recent changes."""
    state = state_of(request)
    with state.connect() as connection:
        counts = queries.table_counts(connection)
        meta = queries.registry_meta(connection)
        flow = queries.screening_flow(connection)
    quality = state.quality.report
    checked = (
        dt.datetime.fromtimestamp(quality.checked_at).strftime("%Y-%m-%d %H:%M:%S")
        if quality
        else ""
    )
    return render(
        request,
        "overview.html",
        title="Overview",
        counts=counts,
        meta=meta,
        flow=flow,
        quality=quality,
        checking=state.quality.checking,
        checked=checked,
        shown=SHOWN_PROBLEMS,
        changes=recent_changes(request),
    )


def recent_changes(request: Request) -> list[dict[str, Any]]:
    """The audit trail's latest entries."""
    with state_of(request).connect() as connection:
        return queries.audit_entries(connection, limit=RECENT_CHANGES)[0]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


@requires("viewer")
def patients(request: Request, session: Session, form: Any) -> Response:
    """Patient search: text in id, histology or site; filters; pages of 50."""
    params = request.query_params
    choice = {k: params.get(k, "")[:200] for k in ("q", "setting", "family", "sex", "status")}
    with state_of(request).connect() as connection:
        found = queries.search_patients(
            connection,
            choice["q"].strip(),
            setting=choice["setting"],
            family=choice["family"],
            sex=choice["sex"],
            status=choice["status"],
            page=_int(params.get("page"), 1),
        )
        families = queries.distinct_values(connection, "patients", "who_family")
    return render(
        request,
        "patients.html",
        title="Patients",
        found=found,
        choice=choice,
        families=families,
        settings=TABLE_BY_NAME["patients"].column("disease_setting").choices,
    )


@requires("viewer")
def patient(request: Request, session: Session, form: Any) -> Response:
    """One patient: timeline, lesions with their RECIST calls, endpoints with reasons."""
    patient_id = request.path_params["patient_id"]
    with state_of(request).connect() as connection:
        rows = queries.patient_rows(connection, patient_id)
    if rows is None:
        return render(
            request,
            "message.html",
            status_code=404,
            title="No such patient",
            message=f"There is no patient {patient_id!r} in the registry.",
        )
    view = patient_view(rows, state_of(request).derived.get(patient_id, rows))
    return render(
        request,
        "patient.html",
        title=f"Patient {patient_id}",
        view=view,
        patient=rows["patients"][0],
        added=request.query_params.get("added", ""),
    )


@requires("viewer")
def record(request: Request, session: Session, form: Any) -> Response:
    """One registry row with every column, its patient, its history and (for an editor) the
    correction form."""
    table, key = request.path_params["table"], request.path_params["key"]
    return record_page(request, table, key)


def record_page(
    request: Request, table: str, key: str, state: Any = None, status: int = 200
) -> Response:
    """The record page; ``state`` carries a correction form's values and errors."""
    if table not in TABLE_BY_NAME:
        return render(
            request,
            "message.html",
            status_code=404,
            title="No such table",
            message=f"There is no table {table!r}.",
        )
    with state_of(request).connect() as connection:
        row = queries.record(connection, table, key)
        owner = queries.patient_of(connection, table, row) if row else None
        entries, _ = queries.audit_entries(connection, table=table, key=key, limit=500)
    if row is None:
        return render(
            request,
            "message.html",
            status_code=404,
            title="No such record",
            message=f"There is no record {key!r} in {table}.",
        )
    spec = TABLE_BY_NAME[table]
    if state is None:
        state = FormState({c.name: format_cell(row.get(c.name)) for c in spec.columns})
    return render(
        request,
        "record.html",
        status_code=status,
        title=f"{table} {key}",
        table=table,
        key=key,
        row=row,
        spec=spec,
        owner=owner,
        fields=record_fields(spec),
        form=state,
        entries=entries,
        saved=request.query_params.get("saved") == "1",
    )


ROUTES = [
    Route("/", overview),
    Route("/patients", patients),
    Route("/patients/{patient_id:path}", patient),
    Route("/records/{table}/{key:path}", record),
]
