"""What every dashboard page shares: the logged-in session and its role check, the page itself
(template, security headers, flash notices), form actions with CSRF, and small parsers."""

import base64
import json
import secrets
import uuid
from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...config import Settings
from ...domain.approval import PERMISSIONS, permits
from ...domain.errors import BroadcasterError, InvalidInput
from ...incidents import statements
from ...people import auth
from ...render.environment import environment
from .. import credentials as checked
from ..api.common import SESSION_COOKIE
from ..common import settings_of

FLASH_COOKIE = "broadcaster_flash"
PAGES = ("/dashboard", "/login", "/logout", "/approve/", "/hold/", "/agent")
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


class LoginRequired(Exception):
    def __init__(self, path: str):
        self.path = path


def logged_in(request: Request, action: str | None = None) -> auth.Session:
    """The logged-in session; with `action`, also checked against the permission table (audited)."""
    try:
        # Read once a request: the idempotency record may have checked it already.
        session = checked.session(settings_of(request), request.scope, request.cookies.get(SESSION_COOKIE))
    except auth.NotAuthenticated:
        raise LoginRequired(request.url.path) from None
    request.state.session = session
    if action:
        auth.authorize(settings_of(request), session.actor, action, request.url.path[:60])
    return session


def reading(request: Request, action: str = "read") -> auth.Session:
    """The logged-in session, if the permission table lets it read this page (a refusal is audited)."""
    return logged_in(request, action)


# Pages run no script but their own (each with this response's nonce), cannot be framed (a
# confirm button under someone else's page is a click away from being pressed), and send no
# Referer (an emailed link's token is in the URL); nothing is cached (the back button after a logout).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
                               "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    settings = settings_of(request)
    session = getattr(request.state, "session", None)
    roles = {r.value for r in session.actor.roles} if session else set()
    may = {action for action in PERMISSIONS if session and permits(session.actor, action)}
    env = environment(settings.templates_dir)
    # Each form's own key (web/idempotency.py): a double click sends one key twice, and acts once.
    env.globals.setdefault("idempotency_key", lambda: uuid.uuid4().hex)
    template = env.get_template(f"_web/dashboard/{name}.html")
    flash, nonce = _flash(request), secrets.token_urlsafe(16)
    response = HTMLResponse(template.render(
        company_name=settings.company_name, me=session.actor.name if session else None, roles=roles, may=may,
        csrf=session.csrf_token if session else "", error=flash.get("error", ""), notice=flash.get("notice", ""),
        csp_nonce=nonce, **context), status_code=status)
    response.headers.update({k: v.format(nonce=nonce) for k, v in SECURITY_HEADERS.items()})
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)
    return response


def back(path: str, **message: str) -> RedirectResponse:
    """A redirect after a form; its message travels in a short-lived cookie, never in the URL
    (a link such as `/login?error=Call+this+number` must not put someone else's words on our pages)."""
    response = RedirectResponse(path, status_code=303)
    if message:
        value = base64.urlsafe_b64encode(json.dumps({k: v[:1000] for k, v in message.items()}).encode()).decode()
        response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="strict")
    return response


def _flash(request: Request) -> dict[str, str]:
    try:
        given = json.loads(base64.urlsafe_b64decode(request.cookies.get(FLASH_COOKIE, "").encode()) or b"{}")
    except ValueError:
        return {}
    return {k: str(v) for k, v in given.items() if k in ("error", "notice")} if isinstance(given, dict) else {}


def check_csrf(settings: Settings, session: auth.Session, token: str) -> None:
    auth.check_csrf(settings, session, token, "this form is missing its security token or it is stale: "
                    "reload the page and try again")


def said(settings: Settings, notice: str, result=None) -> str:
    """What a page says once a form went through: the macro `notice` of templates/_web/dashboard/
    notices.txt (wording lives only in templates), given the use case's result."""
    notices = environment(settings.templates_dir).get_template("_web/dashboard/notices.txt").module
    return str(getattr(notices, notice)(result)).strip()


def run_action(request: Request, csrf_token: str, action: str, do, then: str, failed: str,
               notice: str = "") -> Response:
    """Check CSRF and the role, run the use case, go on to `then` (formatted with the result) saying
    the `notice` (a macro of notices.txt, given the result); on a refusal go back to `failed` saying why."""
    settings, session = settings_of(request), logged_in(request)
    check_csrf(settings, session, csrf_token)
    try:
        auth.authorize(settings, session.actor, action, request.url.path[:60])
        result = do(settings, session.actor)
    except BroadcasterError as exc:
        return back(failed, error=str(exc))
    return back(then.format(**result) if isinstance(result, dict) else then,
                **({"notice": said(settings, notice, result)} if notice else {}))


def incident_of(settings: Settings, incident_id: int) -> dict:
    return statements.get_incident(settings, incident_id)


def id_filter(text: str, what: str) -> int | None:
    """A filter's id as typed (blank: no filter). Only ASCII digits: `int()` also reads other scripts'
    digits and refuses some characters `isdigit()` accepts ('²'), and a 5,000-digit number."""
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)) and 1 <= int(text) <= MAX_ID):
        raise InvalidInput(f"{what}: {text[:20]!r} is not an id; ids are whole numbers from 1")
    return int(text)


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    return page(request, "error", status, problem=detail)

