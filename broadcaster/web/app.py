"""The FastAPI application: routes are thin, the use cases live in the package."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from .. import metrics
from ..config import Settings, get_settings
from ..store.db import engine_for
from ..web.public import RememberClient, every_router, hide_link_secrets_in_access_log
from . import webhooks

logger = logging.getLogger("broadcaster.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # The OpenAPI document and its docs page describe the REST API only (/api/v1).
    app = FastAPI(title="Broadcaster", version="1", docs_url="/docs", redoc_url=None, openapi_url="/openapi.json",
                  description="Outage statements: draft, approve, publish, and the send log; the social reply "
                              "queue (answers to customers on X with approved words). Authenticate with "
                              "`Authorization: Bearer <token>` (`broadcaster token create`).")
    app.state.settings = settings
    app.add_middleware(RememberClient)
    hide_link_secrets_in_access_log()
    app.include_router(webhooks.router, include_in_schema=False)
    app.include_router(every_router(), include_in_schema=False)  # public surfaces and the phone line
    _include_web_app(app)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        body, content_type = await run_in_threadpool(metrics.exposition, settings.database_url)
        return Response(body, media_type=content_type)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with engine_for(settings.database_url).connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
            # The reason (host names, users, driver errors) is for the operator's log, not the public.
            logger.error("healthz: the database does not answer: %s", exc)
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    return app


def _include_web_app(app: FastAPI) -> None:
    """The REST API and the dashboard. `app.state.dispatch` is where publish hands the deliveries
    (None: the broker); `app.state.on_submit` tells the approvers (email link, SMS code)."""
    from .. import phone_approval
    from . import api, dashboard

    app.state.dispatch = None
    app.state.on_submit = phone_approval.notify_approvers
    api.install_problem_handlers(app)
    app.include_router(api.router())
    dashboard.install(app)
