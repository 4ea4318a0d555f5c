"""What every part of the web side shares: the app's settings, the URL a provider signed, the client's
address for the audit trail, link secrets kept out of the access log, and routers joined flat."""

import inspect
import logging
import re
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.params import Depends
from fastapi.routing import APIRoute

from ..config import Settings, get_settings
from ..usecase import request_client

# A page whose URL carries a secret (an unsubscribe link's token) or that answers what someone typed (the
# subscribe pages): never cached, never framed (a button under someone else's page is a click away from
# being pressed), and its links send no Referer (the token would go with it, to the status page or beyond).
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


def settings_of(request: Request) -> Settings:
    """The settings the app was made with (the environment's when it was made without)."""
    return getattr(request.app.state, "settings", None) or get_settings()


def signed_url(settings: Settings, request: Request) -> str:
    """The URL Twilio signed: the public one it was told, not the one a proxy forwarded to us."""
    if not settings.public_url:
        return str(request.url)  # no proxy in between (a laptop with a tunnel): what we got is what was signed
    query = f"?{request.url.query}" if request.url.query else ""
    return settings.public_url.rstrip("/") + request.url.path + query


def copy_routes(into: APIRouter, router: APIRouter, dependencies: Sequence[Depends] = (),
                include_in_schema: bool = True) -> None:
    """`into.include_router(router, dependencies=..., include_in_schema=...)` as routes of `into`'s own:
    each route of `router` added again to `into` (its prefix, dependencies, tags and responses as well).
    FastAPI (0.16x) keeps an included router as one entry that every request walks into, recomputing
    its version and swapping scope keys route by route, then walks again for a redirect and a third
    time for low-priority routes: 1-2 ms of CPU for a 404 over our ~190 routes. A flat list is a regex
    a route. The routes answer exactly as included ones (`tests/unit/test_route_table.py`)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r}: only API routes are copied; include this router instead")
        # Every keyword add_api_route takes that the route keeps under the same name (the set varies
        # with FastAPI's version), then what joining them changes.
        kept = {name: getattr(route, name) for name in _ROUTE_KEYWORDS if hasattr(route, name)}
        into.add_api_route(**{**kept, "route_class_override": type(route),
                              "dependencies": [*dependencies, *route.dependencies],
                              "include_in_schema": include_in_schema and route.include_in_schema})


_ROUTE_KEYWORDS = [name for name in inspect.signature(APIRouter.add_api_route).parameters if name != "self"]


class _HideLinkSecrets(logging.Filter):
    """Emailed links carry their secret in the query (`?t=`, `?token=`: approval, holding,
    unsubscribe and subscription links): the access log keeps everything but its value."""

    SECRET = re.compile(r"([?&](?:t|token)=)[^&\s]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.SECRET.sub(r"\1[hidden]", a) if isinstance(a, str) else a for a in record.args)
        return True


def hide_link_secrets_in_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _HideLinkSecrets) for f in access.filters):
        access.addFilter(_HideLinkSecrets())


class RememberClient:
    """ASGI middleware: the client's address (as uvicorn reports it: behind a proxy, set
    FORWARDED_ALLOW_IPS) for the use cases' audit rows of callers who proved nothing
    (`usecase.audit_unproven` counts refusals per client)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        token = request_client.set((scope.get("client") or ("",))[0] or "")
        try:
            return await self.app(scope, receive, send)
        finally:
            request_client.reset(token)
