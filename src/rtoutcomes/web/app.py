"""The Starlette application: configuration, sessions, CSRF, roles and security headers.

Pages live in ``views.py`` (reading) and ``study_views.py`` (study runs); they call the
library's functions and render Jinja2 templates with autoescaping on, so every value from the
registry (ids and free text may hold markup) is text, never markup. Pages need no script at
all, and the Content-Security-Policy forbids every script as a second line of defence.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from rtoutcomes.web.auth import SESSION_COOKIE, Session, Sessions, User, check_csrf
from rtoutcomes.web.pages import (
    forbidden,
    format_cell,
    format_day,
    format_number,
    redirect,
    render,
    requires,
    safe_next,
    session_of,
    set_session_cookie,
    state_of,
)

HERE = Path(__file__).parent
LOG = logging.getLogger("rtoutcomes.web")
WATCH_SECONDS = 2.0
WATCH_PATIENTS = 200  # more patients changed from outside: derive the whole registry again
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class WebConfig:
    """What ``rtoutcomes serve`` was started with.

    ``users``: the users file's users, or ``None`` on loopback without one (then everyone who can
    reach the loopback port is ``local_user`` with the admin role). ``workdir``: where study runs
    are written. ``host``: the address served (added to the allowed Host headers).
    """

    db: str
    workdir: Path
    users: dict[str, User] | None = None
    local_user: str = "local"
    host: str = "127.0.0.1"
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)
    check_in_process: bool = False  # the data-quality check in a separate process


class WebState:
    """Everything the handlers share: configuration, engine, sessions, runner, caches."""

    def __init__(self, config: WebConfig) -> None:
        from rtoutcomes.registry.database import make_engine
        from rtoutcomes.registry.tables import check_schema
        from rtoutcomes.web.derived import DerivedCache
        from rtoutcomes.web.quality import QualityCache
        from rtoutcomes.web.studies import StudyRunner

        self.config = config
        self.engine = make_engine(config.db, must_exist=True)
        check_schema(self.engine)
        self.sessions = Sessions()
        self.runner = StudyRunner(config.db, config.workdir)
        self.checker: Any = None
        if config.check_in_process:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.checker = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        self.quality = QualityCache(config.db, self.checker)
        self.quality.refresh()
        self.known_seq, self.known_head = self.read_head()
        self.derived = DerivedCache()
        self.derived.warm_up_in_background(config.db)
        self.stop = threading.Event()
        threading.Thread(
            target=self.watch, args=(self.stop,), name="rtoutcomes-watch", daemon=True
        ).start()
        import jinja2

        env = Jinja2Templates(
            env=jinja2.Environment(
                loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
            )
        )
        env.env.filters.update(
            q=lambda value: quote(str(value), safe=""),
            qpath=lambda value: quote(str(value), safe="/"),
            num=format_number,
            day=format_day,
            cell=format_cell,
        )
        self.templates = env

    def connect(self) -> sa.Connection:
        return self.engine.connect()

    def registry_changed(self, head: str | None = None, patient_id: str | None = None) -> None:
        """A write went through the app (``head``: the audit chain's new head): re-check the
        data quality, and derive ``patient_id`` again now (the page that follows the write is
        then served from the cache), or the whole registry in the background (an import)."""
        if head is not None:
            self.known_seq, self.known_head = self.read_head()
        self.quality.refresh()
        if patient_id is None:
            self.derived.warm_up_in_background(self.config.db)
            return
        from rtoutcomes.web import queries

        with self.connect() as connection:
            rows = queries.patient_rows(connection, patient_id)
        if rows is not None:
            self.derived.get(patient_id, rows)

    def read_head(self) -> tuple[int, str]:
        """The audit chain's head: last entry number and its hash."""
        from rtoutcomes.registry.audit import read_head

        with self.connect() as connection:
            head = read_head(connection)
        return head.seq, head.entry_hash

    def watch(self, stop: threading.Event, every_s: float = WATCH_SECONDS) -> None:
        """Every ``every_s`` seconds, compare the audit chain's head with the last one known: a
        write from outside the app (the command line, another server) re-runs the quality
        check and derives the patients it touched again (the whole registry after a large
        one), in the background. Pages are right meanwhile (a patient whose rows changed is
        derived again on its page); this keeps them fast."""
        while not stop.wait(every_s):
            try:
                self.catch_up()
            except Exception:  # a database hiccup must not end the watcher
                LOG.warning("the registry watcher failed once; it goes on")

    def catch_up(self) -> None:
        from rtoutcomes.web import queries

        seq, head = self.read_head()
        if head == self.known_head:
            return
        since, self.known_seq, self.known_head = self.known_seq, seq, head
        self.quality.refresh()
        with self.connect() as connection:
            patients = queries.patients_changed_since(connection, since, limit=WATCH_PATIENTS)
        if patients is None:
            self.derived.warm_up_in_background(self.config.db)
            return
        for patient_id in patients:
            with self.connect() as connection:
                rows = queries.patient_rows(connection, patient_id)
            if rows is not None:
                self.derived.get(patient_id, rows)


async def login_page(request: Request) -> Response:
    _, session = session_of(request)
    if session.user is not None:
        return redirect(safe_next(request.query_params.get("next", "/")))
    return render(
        request, "login.html", next=safe_next(request.query_params.get("next", "/")), error=""
    )


async def login(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    from rtoutcomes.web.auth import verify_password

    session_id, session = session_of(request)
    form = await request.form(max_files=0, max_fields=10)
    if not check_csrf(session, form.get("csrf_token")):
        return forbidden(request, "This form is missing its security token; reload the page.")
    users = state_of(request).config.users or {}
    name, password = str(form.get("username", "")), str(form.get("password", ""))
    user = users.get(name)
    # Hash even for an unknown name, so that timing does not tell which names exist.
    stored = user.password_hash if user else "scrypt$16384$8$1$00$00"
    ok = await run_in_threadpool(verify_password, password, stored)
    target = safe_next(str(form.get("next", "/")))
    if user is None or not ok:
        LOG.info("failed log-in")
        return render(
            request,
            "login.html",
            status_code=401,
            next=target,
            error="Unknown user name or wrong password.",
        )
    sessions = state_of(request).sessions
    sessions.drop(session_id)
    new_id, _ = sessions.new(user)
    LOG.info("log-in of user %s", user.name)
    response = redirect(target)
    set_session_cookie(response, new_id)
    return response


@requires("viewer")
def logout(request: Request, session: Session, form: Any) -> Response:
    state_of(request).sessions.drop(request.cookies.get(SESSION_COOKIE))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Security headers, the session cookie of a new session, and one log line per request
    (method, path, status, milliseconds: ids only, never the query string or form values)."""
    start = time.perf_counter()
    response = await call_next(request)
    new_session = getattr(request.state, "new_session", None)
    if new_session and SESSION_COOKIE not in response.headers.get("set-cookie", ""):
        set_session_cookie(response, new_session)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cache-Control", "no-store")
    LOG.info(
        "%s %s %s %.0f ms",
        request.method,
        request.url.path,
        response.status_code,
        (time.perf_counter() - start) * 1000,
    )
    return response


def _lifespan(state: WebState) -> Callable[[Starlette], Any]:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        state.stop.set()
        state.runner.close()
        if state.checker is not None:
            state.checker.shutdown(wait=False, cancel_futures=True)
        state.engine.dispose()

    return lifespan


def create_app(config: WebConfig) -> Starlette:
    """The web app over ``config.db`` (raises the registry's errors if it cannot be opened)."""
    from starlette.middleware.base import BaseHTTPMiddleware

    from rtoutcomes.web import edit_views, study_views, views

    state = WebState(config)
    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        *edit_views.ROUTES,  # before views: /patients/{id:path} would take /patients/X/add/Y
        *views.ROUTES,
        *study_views.ROUTES,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    hosts = [*LOOPBACK_HOSTS, config.host, *config.extra_hosts]
    if "0.0.0.0" in hosts or "::" in hosts:
        hosts.append("*")  # bound to every interface: the users file guards it
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
            Middleware(BaseHTTPMiddleware, dispatch=security_headers),
        ],
        lifespan=_lifespan(state),
    )
    app.state.web = state
    return app


def html_message(title: str, message: str, status: int) -> Response:
    from html import escape

    return HTMLResponse(
        f"<!doctype html><title>{escape(title)}</title><p>{escape(message)}", status_code=status
    )
