"""What every API route shares: who is calling (a token, or the dashboard session with CSRF), what
they may do (`allowed`), values refused up front (NUL), and errors as RFC 9457 problem details."""

import json
import logging
import re
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...domain.approval import Actor, permits
from ...domain.errors import (
    BroadcasterError,
    IllegalTransition,
    InvalidInput,
    LimitExceeded,
    NameTaken,
    NotAllowed,
    NotFound,
    ProviderError,
)
from ...domain.field_limits import CONTROL_CHARACTERS, NAMES
from ...people import auth
from ...store import reconnect
from .. import credentials as checked
from ..common import settings_of
from ..request_ids import current_request_id

logger = logging.getLogger("broadcaster.api")
PREFIX = "/api/v1"
SESSION_COOKIE = checked.SESSION_COOKIE
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PROBLEM = "application/problem+json"
# Ids, page sizes and offsets as every route takes them (ids fit any backend's integer).
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]

bearer = HTTPBearer(auto_error=False, description="An API token from `broadcaster token create`.")


def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Actor:
    """The authenticated actor: a bearer token, else the dashboard session (with CSRF on writes)."""
    settings = settings_of(request)
    if credentials is not None:  # read once a request: the rate limit may have checked it already
        return checked.token_actor(settings, request.scope, credentials.credentials)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return auth.token_actor(settings, None)  # raises, saying how to authenticate
    session = checked.session(settings, request.scope, cookie)
    if request.method not in SAFE_METHODS:
        auth.check_csrf(settings, session, request.headers.get(CSRF_HEADER),
                        f"CSRF: a request with the session cookie must send the session's {CSRF_HEADER} header")
    return session.actor


async def refuse_nul(request: Request) -> None:
    """No path or query value may hold a control character (the OpenAPI document says so of each),
    and no value at all a NUL: PostgreSQL stores none in text (SQLite would), so it is refused up
    front on both backends, naming the value, rather than failing in the database. A body's own
    fields say which control characters they take (`domain.field_limits`)."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if isinstance(value, str) and (bad := next((c for c in value if c in CONTROL_CHARACTERS), None)):
            raise InvalidInput(f"{name}: contains a {NAMES.get(bad, f'U+{ord(bad):04X}')} character, a control "
                               "character, which no path or query value may hold")
    values = []
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        values += [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    elif kind.startswith("application/json") and b"\\u0000" in (body := await request.body()):
        try:
            values += _strings_of(json.loads(body))
        except ValueError:
            pass  # not JSON: the body's own validation says so
    name = next((name for name, value in values if "\x00" in value), None)
    if name is not None:
        raise InvalidInput(f"{name}: contains a NUL character (\\x00), which no value may hold")


def _strings_of(value, where: str = "body") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _strings_of(v, f"{where}.{k}" if where != "body" else k)]
    if isinstance(value, list):
        return [found for i, v in enumerate(value) for found in _strings_of(v, f"{where}.{i}")]
    return []


def allowed(action: str):
    """A dependency: the caller, if PERMISSIONS lets them take `action`. The check is a set lookup, made
    on the event loop (FastAPI runs a plain function in a worker thread: a hop and back for every API
    request); only a refusal, audited in the database by `auth.authorize`, goes to a worker thread."""
    async def dependency(request: Request, actor: Actor = Depends(caller)) -> Actor:
        if not permits(actor, action):
            await run_in_threadpool(auth.authorize, settings_of(request), actor, action, request.url.path[:60])
        return actor
    return dependency


# --- errors as RFC 9457 problem details ----------------------------------------------------

STATUS: list[tuple[type[Exception], int, str]] = [
    (auth.NotAuthenticated, 401, "Not authenticated"),
    (auth.TooManyAttempts, 429, "Too many attempts"),
    (NotAllowed, 403, "Not allowed"),
    (NotFound, 404, "Not found"),
    (IllegalTransition, 409, "Illegal transition"),
    (NameTaken, 409, "Conflict"),
    (LimitExceeded, 422, "Limit exceeded"),
    (InvalidInput, 422, "Invalid input"),
    (ProviderError, 502, "Provider error"),
    (BroadcasterError, 400, "Bad request"),
]
_FIELD = re.compile(r"^([A-Za-z_][\w.]*): ")


def problem(status: int, title: str, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    headers = {**({"WWW-Authenticate": "Bearer"} if status == 401 else {}), **(headers or {})}
    return JSONResponse({"type": "about:blank", "title": title, "status": status, "detail": detail, **extra,
                         "request_id": current_request_id.get()}, status_code=status, media_type=PROBLEM,
                        headers=headers)


def broadcaster_problem(_request: Request, exc: BroadcasterError) -> JSONResponse:
    status, title = next((code, title) for kind, code, title in STATUS if isinstance(exc, kind))
    detail = str(exc)
    extra = {}
    if (match := _FIELD.match(detail)) and isinstance(exc, InvalidInput):
        extra["field"] = match.group(1)  # "headline: required ..." names the field, as the CLI says it
    if isinstance(exc, LimitExceeded):
        extra["limits"] = [part.strip() for part in detail.split(":", 1)[-1].split(";")]
    return problem(status, title, detail, **extra)


WHERE = {("body",), ("query",), ("path",), ("header",), ("cookie",)}  # where a value came from, not its name


def validation_problem(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"field": ".".join(str(p) for p in err["loc"][1 if err["loc"][:1] in WHERE else 0:]) or "body",
               "message": err["msg"].removeprefix("Value error, ")}
              for err in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Invalid input", detail, field=errors[0]["field"] if errors else None, errors=errors)


def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (methods := allowed_methods(request)):
        headers["Allow"] = ", ".join(methods)  # RFC 9110: every method the path takes, whichever route holds it
    if not request.url.path.startswith(PREFIX):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    return problem(exc.status_code, str(exc.detail), str(exc.detail), headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document gives the request's path (an API path; [] elsewhere)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if _template_pattern(template).fullmatch(request.url.path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


@cache
def _template_pattern(template: str) -> re.Pattern:
    """A path template as a pattern (`/incidents/{incident_id}` matches `/incidents/7`), compiled once:
    the fuzz tests and clients trying methods answer many 405s, each walking every path of the API."""
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))


def unexpected_problem(request: Request, exc: Exception) -> JSONResponse:
    if reconnect.is_transient(exc):  # the database went away, and did not come back within the wait
        logger.warning("the database did not answer on %s %s: %s", request.method, request.url.path, exc)
        response = problem(503, "Service unavailable", "the database is restarting or failing over: try again in a "
                           "few seconds")
        response.headers["Retry-After"] = "5"
        return response
    # Logged with its traceback for the operator; the caller gets no internals.
    logger.error("unexpected error on %s %s (request %s)", request.method, request.url.path,
                 current_request_id.get(), exc_info=exc)
    return problem(500, "Internal error", "something went wrong on our side; the error is logged")


def on_the_loop(handler: Callable[[Request, Exception], Response]) -> Callable[..., Awaitable[Response]]:
    """`handler` run on the event loop: Starlette runs a plain function in a worker thread, a hop and back
    for every refusal. Only for a handler that builds its answer without waiting on anything."""
    async def handle(request: Request, exc: Exception) -> Response:
        return handler(request, exc)
    return handle


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BroadcasterError, on_the_loop(broadcaster_problem))
    app.add_exception_handler(RequestValidationError, on_the_loop(validation_problem))
    app.add_exception_handler(StarletteHTTPException, on_the_loop(http_problem))
    app.add_exception_handler(Exception, unexpected_problem)  # it logs: a worker thread's work


