"""The FastAPI applications: routes are thin, the use cases live in the capability packages.

`create_app` is the full app (public surfaces, phone line, provider webhooks, REST API, dashboard);
its routers are listed once, in `routers()`. `web.public.create_public_app` is the public process.
"""

import logging
from functools import cache

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from ..approvals import by_phone
from ..config import Settings, get_settings
from ..delivery.dispatch import Dispatch
from ..events import register_event_hooks
from ..store import reconnect
from ..store.db import engine_for
from . import alerts_in, api, dashboard, public, webhooks
from .api.common import refuse_nul
from .bounds import BoundedRequests
from .common import RememberClient, copy_routes, hide_link_secrets_in_access_log
from .idempotency import IdempotentWrites
from .rate_limits import RateLimited
from .request_ids import RequestIds
from .scrape import Scrapes

logger = logging.getLogger("broadcaster.api")


def routers() -> list[tuple[APIRouter, dict]]:
    """Every router of the full app, with how it is included: the one list."""
    pages = {"dependencies": [Depends(refuse_nul)]}  # NUL refused in any value (the API's router has it too)
    return [
        *((router, {"include_in_schema": False}) for router in public.ROUTERS),
        (public.phone.router, {"include_in_schema": False}),
        (webhooks.router, {"include_in_schema": False}),
        (alerts_in.router, {"include_in_schema": False}),
        (api.router(), {}),  # the only routes in the OpenAPI document
        *((router, pages) for router in dashboard.ROUTERS),
    ]


def _bare_app() -> FastAPI:
    # The OpenAPI document and its docs page describe the REST API only (/api/v1).
    return FastAPI(title="Broadcaster", version="1", docs_url="/docs", redoc_url=None, openapi_url="/openapi.json",
                   generate_unique_id_function=api.contract.operation_id,
                   description="Outage statements: draft, approve, publish, and the send log; the social reply "
                               "queue (answers to customers on X with approved words). Authenticate with "
                               "`Authorization: Bearer <token>` (`broadcaster token create`).")


@cache
def _assembled_routes() -> tuple:
    """The routes of `routers()`, included once per process and shared by every app `create_app` makes:
    including them (and the first request's look at each) clones and checks some 200 routes, a third
    of a second an app, and the test suite makes hundreds. The routes hold nothing of an app's own
    (a request finds its settings in `request.app.state`); they are included into an app made by
    `_bare_app()` like every other, so what the app sets for its routes holds for them. One
    consequence: `app.dependency_overrides` is the first app's (none is used anywhere)."""
    assembled = _bare_app().router
    own = len(assembled.routes)  # the OpenAPI document and the docs page
    for router, how in routers():
        copy_routes(assembled, router, **how)  # flat: a request tries ~190 regexes, no nested walk
    return tuple(assembled.routes[own:])


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = _bare_app()
    app.state.settings = settings
    reconnect.configure(settings)  # how long a request waits for a database failing over
    register_event_hooks()  # what the API and dashboard do raises events to the registered endpoints
    # Where publish hands the deliveries (None: the broker); who is told of a submitted statement.
    app.state.dispatch: Dispatch | None = None
    app.state.on_submit = lambda settings_, statement_id: by_phone.notify_approvers(
        settings_, statement_id, dispatch=app.state.dispatch)
    app.add_middleware(RememberClient)
    app.add_middleware(IdempotentWrites, settings=settings)
    app.add_middleware(RateLimited, settings=settings)
    app.add_middleware(BoundedRequests, settings=settings)
    app.add_middleware(RequestIds)  # outermost: every answer, a refusal of the body too, carries the id
    hide_link_secrets_in_access_log()
    api.install_problem_handlers(app)
    dashboard.install_error_pages(app)
    app.router.routes.extend(_assembled_routes())
    api.describe(app)

    scrapes = Scrapes(settings)  # who may scrape (a token, else this host only), one query in 15 s

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        return await scrapes.answer(request)

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
