"""What customers reach: the status page, banner, feeds and Statuspage JSON (`status`), the subscribe
form and its double opt-in (`subscribe`), and the phone line and inbound SMS (`phone`, Twilio webhooks,
signature checked).

`create_public_app` is a process of its own for the public internet (`broadcaster serve --public`):
no admin, no API, no provider webhooks, no /metrics.
"""

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse

from ...config import Settings, get_settings
from ...surfaces import SurfaceCache
from ..common import RememberClient, hide_link_secrets_in_access_log
from . import phone, status, subscribe

# What the public process serves; the full app serves these and the phone line (`phone.router`).
ROUTERS: list[APIRouter] = [status.router, subscribe.router]


def create_public_app(settings: Settings | None = None) -> FastAPI:
    """Only the public surfaces: what a traffic spike during an outage reaches. The IVR and inbound
    SMS are provider webhooks: they stay with the full app."""
    settings = settings or get_settings()
    app = FastAPI(title="Broadcaster status", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.surface_cache = SurfaceCache(settings)
    app.add_middleware(RememberClient)
    hide_link_secrets_in_access_log()
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/status", status_code=307)

    return app


__all__ = ["ROUTERS", "create_public_app", "phone"]
