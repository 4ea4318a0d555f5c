"""What customers reach: the status page, banner, feeds and Statuspage JSON (`status`), the subscribe
form and its double opt-in (`subscribe`), and the phone line and inbound SMS (`phone`, Twilio webhooks,
signature checked).

`create_public_app` is a process of its own for the public internet (`broadcaster serve --public`):
no admin, no API, no /metrics; of the provider webhooks only the phone line and the SMS keywords.
While it runs, a listener thread keeps its documents current (surfaces/freshness.py), and it keeps
answering from its last snapshot while the database and Redis are down, spooling what callers and
texters ask (surfaces/spool.py) until the database is back.
"""

from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ...config import Settings, get_settings
from ...store import reconnect
from ...surfaces import Listener, SurfaceCache
from ...surfaces.phone import replay_spooled
from ...surfaces.spool import Spool
from ..common import RememberClient, copy_routes, hide_link_secrets_in_access_log
from . import phone, status, subscribe

# What the public process serves; the full app serves these and the phone line (`phone.router`).
ROUTERS: list[APIRouter] = [status.router, subscribe.router]


def create_public_app(settings: Settings | None = None) -> FastAPI:
    """Only what customers reach: what a traffic spike during an outage reaches, and what must
    outlive the database. The spool and the listener start with the server (its lifespan)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        spool = app.state.spool = Spool(settings.public_spool_path)
        cache = app.state.surface_cache
        cache.spool = spool
        listener = app.state.listener = Listener(settings, cache, spool, replay_spooled(settings))
        await run_in_threadpool(listener.start)
        try:
            yield
        finally:
            await run_in_threadpool(listener.stop)

    app = FastAPI(title="Broadcaster status", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.surface_cache = SurfaceCache(settings)
    app.add_middleware(RememberClient)
    app.add_middleware(reconnect.NeverWait)  # answer now (last snapshot, spool): never wait for a failover
    app.add_middleware(status.ServeDocuments, cache=app.state.surface_cache)  # the documents, before routing
    hide_link_secrets_in_access_log()
    for router in [*ROUTERS, phone.public_router]:
        copy_routes(app.router, router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/status", status_code=307)

    return app


__all__ = ["ROUTERS", "create_public_app", "phone"]
