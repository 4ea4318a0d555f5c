"""The public surfaces over HTTP: banner.json and banner.js, the status page, the feeds and the
Statuspage v2 JSON. Every route serves bytes from the in-process cache (`SurfaceCache`), so most
requests never touch the database, and a static export of the same documents says the same.

`create_public_app` is a process of its own for the public internet: no admin, no provider
webhooks, no /metrics. The router can also be included in the full app.
"""

import logging
import re

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..config import Settings, get_settings
from ..surfaces import ROUTES, SurfaceCache
from ..usecase import request_client
from . import subscribe

router = APIRouter()


def surface_cache(request: Request) -> SurfaceCache:
    """One cache per app; made on first use, so including the router needs no set-up step."""
    state = request.app.state
    cache = getattr(state, "surface_cache", None)
    if cache is None:
        cache = state.surface_cache = SurfaceCache(getattr(state, "settings", None) or get_settings())
    return cache


async def _serve(request: Request) -> Response:
    cache = surface_cache(request)
    # Fresh cached bytes are served straight from the event loop; a refresh may query the
    # database, so it runs in a thread.
    documents = cache.fresh() or await run_in_threadpool(cache.documents)
    document = documents[ROUTES[request.url.path]]
    return Response(document.body, media_type=document.media_type, headers={
        # Anyone's widget or aggregator may read these, from any origin; they are public anyway.
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": f"public, max-age={cache.settings.public_cache_seconds}",
    })


for _path in ROUTES:
    router.add_api_route(_path, _serve, methods=["GET", "HEAD"], include_in_schema=False)


@router.get("/status/", include_in_schema=False)
def status_slash() -> RedirectResponse:
    return RedirectResponse("/status", status_code=308)


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


def create_public_app(settings: Settings | None = None) -> FastAPI:
    """Only the public surfaces: what a traffic spike during an outage reaches. The IVR and inbound
    SMS are provider webhooks: they stay with the full app (`every_router`)."""
    settings = settings or get_settings()
    app = FastAPI(title="Broadcaster status", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.surface_cache = SurfaceCache(settings)
    app.add_middleware(RememberClient)
    hide_link_secrets_in_access_log()
    app.include_router(router)
    app.include_router(subscribe.router)  # the subscribe form and its double opt-in

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/status", status_code=307)

    return app


def every_router() -> APIRouter:
    """The public surfaces and the phone routes, for the full app to include in one line."""
    from . import ivr

    combined = APIRouter()
    combined.include_router(router)
    combined.include_router(ivr.router)
    combined.include_router(subscribe.router)
    return combined
