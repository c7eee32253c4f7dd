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
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from rtoutcomes.web.auth import SESSION_COOKIE, Session, Sessions, User, check_csrf

HERE = Path(__file__).parent
LOG = logging.getLogger("rtoutcomes.web")
WATCH_SECONDS = 2.0
WATCH_PATIENTS = 200  # more patients changed from outside: derive the whole registry again
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "frame-ancestors 'self'; sandbox")


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
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self.quality = QualityCache(config.db, self.checker)
        self.quality.refresh()
        self.known_seq, self.known_head = self.read_head()
        self.derived = DerivedCache()
        self.derived.warm_up_in_background(config.db)
        self.stop = threading.Event()
        threading.Thread(target=self.watch, args=(self.stop,), name="rtoutcomes-watch",
                         daemon=True).start()
        import jinja2

        env = Jinja2Templates(env=jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True))
        env.env.filters.update(q=lambda value: quote(str(value), safe=""),
                               qpath=lambda value: quote(str(value), safe="/"),
                               num=format_number, day=format_day, cell=format_cell)
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


def format_number(value: Any) -> str:
    """A number for a page: up to 4 significant digits after rounding to 0.1; missing: ''."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if number != number:
        return ""
    return f"{round(number, 1):g}"


def format_day(value: Any) -> str:
    """A date (date, datetime or pandas Timestamp) as YYYY-MM-DD; missing: ''."""
    if value is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
        return str(pd.Timestamp(value).date())
    except (TypeError, ValueError):
        return str(value)


def format_cell(value: Any) -> str:
    """A registry cell as the import format writes it (yes/no, numbers without .0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def state_of(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def session_of(request: Request) -> tuple[str, Session]:
    """The request's session (a new anonymous one when it has none or an expired one)."""
    state = state_of(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    found = state.sessions.get(session_id)
    if found is not None and session_id is not None:
        return session_id, found
    user = None
    if state.config.users is None:
        user = User(state.config.local_user, "admin")
    new_id, new = state.sessions.new(user)
    request.state.new_session = new_id
    return new_id, new


def set_session_cookie(response: Response, session_id: str) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict",
                        path="/", max_age=12 * 3600)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page: the template with the user, the CSRF token and the navigation."""
    _, session = session_of(request)
    state = state_of(request)
    context.update(request=request, user=session.user, csrf=session.csrf,
                   auth=state.config.users is not None)
    return state.templates.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _safe_next(url: str) -> str:
    """Only a path of this site (no scheme, no //host) may follow the log-in."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"


Handler = Callable[[Request], Awaitable[Response]]


def requires(role: str) -> Callable[[Callable[..., Any]], Handler]:
    """Decorate a handler: the user must be logged in with ``role`` or higher, and a POST must
    carry this session's CSRF token (else 403). The handler gets ``(request, session, form)``
    (``form`` is ``None`` for a GET) and may be sync (run in a thread) or async."""
    def wrap(handler: Callable[..., Any]) -> Handler:
        async def endpoint(request: Request) -> Response:
            _, session = session_of(request)
            if session.user is None:
                target = quote(request.url.path, safe="/")
                return redirect(f"/login?next={target}")
            form = None
            if request.method == "POST":
                form = await request.form(max_files=20, max_fields=400, max_part_size=50 << 20)
            try:
                return await _checked(handler, request, session, form, role)
            finally:
                if form is not None:
                    await form.close()  # uploaded files' temporary copies

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap


async def _checked(handler: Callable[..., Any], request: Request, session: Session, form: Any,
                   role: str) -> Response:
    import inspect

    from starlette.concurrency import run_in_threadpool

    assert session.user is not None
    if form is not None and not check_csrf(session, form.get("csrf_token")):
        return forbidden(request, "This form is missing its security token or the token is out "
                                  "of date; reload the page and retry.")
    if not session.user.may(role):
        return forbidden(request, f"Your role ({session.user.role}) may not do this; it needs "
                                  f"the {role} role.")
    if inspect.iscoroutinefunction(handler):
        response: Response = await handler(request, session, form)
        return response
    threaded: Response = await run_in_threadpool(handler, request, session, form)
    return threaded


def forbidden(request: Request, message: str) -> Response:
    return render(request, "message.html", status_code=403, title="Not allowed",
                  message=message)


async def login_page(request: Request) -> Response:
    _, session = session_of(request)
    if session.user is not None:
        return redirect(_safe_next(request.query_params.get("next", "/")))
    return render(request, "login.html", next=_safe_next(request.query_params.get("next", "/")),
                  error="")


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
    target = _safe_next(str(form.get("next", "/")))
    if user is None or not ok:
        LOG.info("failed log-in")
        return render(request, "login.html", status_code=401, next=target,
                      error="Unknown user name or wrong password.")
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


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]
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
    LOG.info("%s %s %s %.0f ms", request.method, request.url.path, response.status_code,
             (time.perf_counter() - start) * 1000)
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
    app = Starlette(routes=routes, middleware=[
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
        Middleware(BaseHTTPMiddleware, dispatch=security_headers),
    ], lifespan=_lifespan(state))
    app.state.web = state
    return app


def html_message(title: str, message: str, status: int) -> Response:
    from html import escape

    return HTMLResponse(f"<!doctype html><title>{escape(title)}</title><p>{escape(message)}",
                        status_code=status)
