"""Whose request this is, checked once per request and kept in its ASGI scope.

The rate limit (`rate_limits`) counts a request on the credential it proves, and the idempotency
record (`idempotency`) belongs to it; both run before any route. They ask here, and the API's and
the dashboard's own checks (`api.common.caller`, `dashboard.common.logged_in`) find the answer kept
in the scope: one database read per request, as before, whichever asks first. A credential that
does not check out is an answer too (kept as the refusal), so it is not read again either.

A bearer token is read as FastAPI's `HTTPBearer` reads it (the scheme in any case, the token
trimmed); the session is the `broadcaster_session` cookie.
"""

import hashlib

from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser

from ..config import Settings
from ..people import auth

SESSION_COOKIE = "broadcaster_session"
_KEPT = "broadcaster_credentials"  # in scope["state"]: {(kind, secret): Actor | Session | NotAuthenticated}


def bearer_of(scope) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None. Of repeated headers the first,
    as the route's own check (Starlette's `request.headers`) reads it: a second one must not make this
    check and the route's see two callers."""
    scheme, token = get_authorization_scheme_param(Headers(scope=scope).get("authorization", ""))
    return token if scheme.lower() == "bearer" and token else None


def cookie_of(scope) -> str | None:
    return cookie_parser(Headers(scope=scope).get("cookie", "")).get(SESSION_COOKIE) or None


def claimed(scope, bearer: bool = True) -> str | None:
    """The key `proven` gives these credentials if they check out, from the headers alone (nothing is
    read): `token:<sha256 of the token>` or `session:<sha256 of the cookie>`. A limit already full
    under it was filled by requests that proved it, so refusing one more needs no database read."""
    token, cookie = bearer_of(scope) if bearer else None, cookie_of(scope)
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()
    return "session:" + hashlib.sha256(cookie.encode()).hexdigest() if cookie else None


def token_actor(settings: Settings, scope, token: str | None):
    """`auth.token_actor`, read at most once per request."""
    return _once(scope, ("token", token), lambda: auth.token_actor(settings, token))


def session(settings: Settings, scope, cookie: str | None) -> auth.Session:
    """`auth.session_for`, read at most once per request."""
    return _once(scope, ("session", cookie), lambda: auth.session_for(settings, cookie))


def _once(scope, key: tuple, check):
    kept = scope.setdefault("state", {}).setdefault(_KEPT, {})
    if key not in kept:
        try:
            kept[key] = check()
        except auth.NotAuthenticated as refusal:
            kept[key] = refusal
    if isinstance(kept[key], auth.NotAuthenticated):
        raise kept[key]
    return kept[key]


async def proven(settings: Settings, scope, bearer: bool = True) -> str | None:
    """Who the request's credentials prove it is, as a key (`claimed`); None when it sends none, or
    none that checks out. The bearer first, as the API reads them; `bearer=False` for the dashboard,
    which reads the session alone. No credentials: no database read. A check that fails (the database
    away) raises, answered as the route would (503)."""
    key = claimed(scope, bearer)
    if key is None:
        return None
    token = bearer_of(scope) if bearer else None
    try:
        if token:
            await run_in_threadpool(token_actor, settings, scope, token)
        else:
            await run_in_threadpool(session, settings, scope, cookie_of(scope))
    except auth.NotAuthenticated:
        return None
    return key
