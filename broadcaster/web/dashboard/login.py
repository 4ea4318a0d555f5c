"""Logging in and out of the dashboard: a double-submit CSRF token on the login form, attempts
limited per name and per client (`auth.login`), a fresh session cookie on every login."""

import hmac
import secrets
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import NotAllowed
from ...domain.field_limits import CONTROL_CHARACTERS
from ...people import auth
from ..api.common import SESSION_COOKIE
from ..common import settings_of
from .common import back, check_csrf, logged_in, page, said

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "broadcaster_login_csrf"


@router.get("/login")
def login_page(request: Request, next: str = "/dashboard") -> HTMLResponse:
    token = secrets.token_urlsafe(24)  # double-submit: the form's token must match this cookie
    response = page(request, "login", csrf_login=token, next=_local(next))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request))
    return response


@router.post("/login")
def login(request: Request, name: str = Form("", max_length=auth.MAX_NAME_LENGTH),
          password: str = Form("", max_length=auth.MAX_PASSWORD_LENGTH), csrf_token: str = Form("", max_length=100),
          next: str = Form("/dashboard", max_length=2000)) -> Response:
    settings = settings_of(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        return page(request, "login", 403, csrf_login=expected, next=_local(next),
                    problem="the login form is stale: reload the page and try again")
    try:
        actor = auth.login(settings, name, password, request.client.host if request.client else "unknown client")
    except NotAllowed as exc:
        status = 429 if isinstance(exc, auth.TooManyAttempts) else 403
        return page(request, "login", status, csrf_login=expected, next=_local(next), problem=str(exc))
    auth.end_session(settings, request.cookies.get(SESSION_COOKIE))  # a new login never continues an old session
    cookie, _csrf = auth.start_session(settings, actor)
    response = back(_local(next))
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(settings.session_hours * 3600), httponly=True,
                        samesite="lax", secure=_secure(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    settings, session = settings_of(request), logged_in(request)
    check_csrf(settings, session, csrf_token)
    auth.end_session(settings, request.cookies.get(SESSION_COOKIE))
    response = back("/login", notice=said(settings, "logged_out"))
    response.delete_cookie(SESSION_COOKIE)
    return response


def _secure(request: Request) -> bool:
    return (settings_of(request).public_url or "").startswith("https://")


def _local(path: str) -> str:
    """Only a plain path on this site: `next` must not send a fresh login elsewhere. Browsers read
    `/\\evil.example` and `/%09/evil.example` as another host, so a backslash, a control character,
    a scheme or a host anywhere refuses it, as does anything longer than a URL worth keeping."""
    parts = urlsplit(path)
    plain = (path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) <= 2000
             and not parts.scheme and not parts.netloc and not any(c in CONTROL_CHARACTERS or c.isspace()
                                                                   for c in unquote(path)))
    return path if plain else "/dashboard"
