"""The FastAPI application: routes are thin, the use cases live in the package."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from .. import metrics
from ..config import Settings, get_settings
from ..store.db import engine_for
from ..web.public import every_router
from . import webhooks

logger = logging.getLogger("broadcaster.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="Broadcaster", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.include_router(webhooks.router)
    app.include_router(every_router())  # the public surfaces and the phone line (broadcaster.web)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        body, content_type = await run_in_threadpool(metrics.exposition, settings.database_url)
        return Response(body, media_type=content_type)

    @app.get("/healthz")
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
