"""Study pages: start a run (the model study, an uploaded study file, or one built from a form),
follow its progress, read its report and download its files."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from rtoutcomes.web.auth import Session
from rtoutcomes.web.pages import REPORT_CSP, redirect, render, requires, state_of

MAX_STUDY_FILE = 1 << 20


def _choices() -> dict[str, Any]:
    from rtoutcomes.study.spec import LOCAL_FAILURE_RULES
    from rtoutcomes.study.standard import STANDARD_COVARIATES

    return {
        "covariates": {k: c.display for k, c in STANDARD_COVARIATES.items()},
        "rules": LOCAL_FAILURE_RULES,
    }


@requires("viewer")
def studies(request: Request, session: Session, form: Any) -> Response:
    """The runs so far and the three ways to start one."""
    return render(
        request,
        "studies.html",
        title="Studies",
        runs=state_of(request).runner.runs(),
        error="",
        **_choices(),
    )


@requires("editor")
async def start_run(request: Request, session: Session, form: Any) -> Response:
    """Queue a run; a study file with a mistake comes back with the file's message."""
    import yaml
    from starlette.concurrency import run_in_threadpool

    from rtoutcomes.errors import RtOutcomesError
    from rtoutcomes.study.standard import model_study_path
    from rtoutcomes.web.studies import study_from_form

    source = form.get("source")
    if source == "model":
        text = model_study_path().read_bytes()
    elif source == "upload":
        upload = form.get("study_file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _studies_error(request, session, "Choose a study file (YAML) first.")
        text = await upload.read(MAX_STUDY_FILE + 1)
        if len(text) > MAX_STUDY_FILE:
            return await _studies_error(request, session, "The study file is larger than 1 MB.")
    elif source == "form":
        built = study_from_form(
            {
                "title": form.get("title"),
                "endpoints": form.getlist("endpoints"),
                "groups": form.getlist("groups"),
                "univariate": form.getlist("univariate"),
                "multivariate": form.getlist("multivariate"),
                "local_failure": form.get("local_failure"),
            }
        )
        text = yaml.safe_dump(built, sort_keys=False, allow_unicode=True).encode("utf-8")
    else:
        return await _studies_error(request, session, "Unknown kind of study.")
    user = session.user.name if session.user else ""
    try:
        run = await run_in_threadpool(state_of(request).runner.submit, text, user)
    except RtOutcomesError as error:
        return await _studies_error(request, session, str(error))
    return redirect(f"/studies/{run.run_id}")


async def _studies_error(request: Request, session: Session, message: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    def page() -> Response:
        return render(
            request,
            "studies.html",
            status_code=400,
            title="Studies",
            runs=state_of(request).runner.runs(),
            error=message,
            **_choices(),
        )

    return await run_in_threadpool(page)


@requires("viewer")
def run_page(request: Request, session: Session, form: Any) -> Response:
    """A run's progress (the page reloads itself until it finishes), then its files."""
    runner = state_of(request).runner
    run_id = request.path_params["run_id"]
    run = runner.get(run_id)
    if run is None:
        return render(
            request,
            "message.html",
            status_code=404,
            title="No such run",
            message=f"There is no study run {run_id!r}.",
        )
    return render(
        request,
        "run.html",
        title=run.title,
        run=run,
        files=runner.files(run_id) if run.state == "done" else [],
    )


@requires("viewer")
def run_file(request: Request, session: Session, form: Any) -> Response:
    """A file of a run's report; report.html is shown in the browser under a policy that
    allows no script, other files are downloaded."""
    run_id, relative = request.path_params["run_id"], request.path_params["path"]
    path = state_of(request).runner.report_file(run_id, relative)
    if path is None:
        return render(
            request,
            "message.html",
            status_code=404,
            title="No such file",
            message="This run has no such file.",
        )
    if path.suffix in (".html", ".svg", ".png"):
        media = {".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}[
            path.suffix
        ]
        response = FileResponse(path, media_type=media)
        response.headers["Content-Security-Policy"] = REPORT_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


ROUTES = [
    Route("/studies", studies, methods=["GET"]),
    Route("/studies", start_run, methods=["POST"]),
    Route("/studies/{run_id}", run_page),
    Route("/studies/{run_id}/files/{path:path}", run_file),
]
