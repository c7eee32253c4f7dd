"""What every page handler of the web app uses: the shared state of a request, rendering a
template, redirects, the ``requires`` decorator (log-in, role and CSRF checks) and the cell
formats of the pages. The app (``app.py``) builds the state and the routes; the view modules
import from here, so that no view module imports the app (no import cycle)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from rtoutcomes.web.auth import SESSION_COOKIE, Session, User, check_csrf

if TYPE_CHECKING:
    from rtoutcomes.web.app import WebState

REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


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
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, samesite="strict", path="/", max_age=12 * 3600
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page: the template with the user, the CSRF token and the navigation."""
    _, session = session_of(request)
    state = state_of(request)
    context.update(
        request=request, user=session.user, csrf=session.csrf, auth=state.config.users is not None
    )
    return state.templates.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def safe_next(url: str) -> str:
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


async def _checked(
    handler: Callable[..., Any], request: Request, session: Session, form: Any, role: str
) -> Response:
    import inspect

    from starlette.concurrency import run_in_threadpool

    assert session.user is not None
    if form is not None and not check_csrf(session, form.get("csrf_token")):
        return forbidden(
            request,
            "This form is missing its security token or the token is out "
            "of date; reload the page and retry.",
        )
    if not session.user.may(role):
        return forbidden(
            request, f"Your role ({session.user.role}) may not do this; it needs the {role} role."
        )
    if inspect.iscoroutinefunction(handler):
        response: Response = await handler(request, session, form)
        return response
    threaded: Response = await run_in_threadpool(handler, request, session, form)
    return threaded


def forbidden(request: Request, message: str) -> Response:
    return render(request, "message.html", status_code=403, title="Not allowed", message=message)
