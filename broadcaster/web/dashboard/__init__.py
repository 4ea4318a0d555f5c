"""The dashboard: server-rendered pages for authors, approvers, the social team and admins (templates in
templates/_web/dashboard/), usable on a phone. No build step: the editor's live preview and the
fan-out progress are a few lines of vanilla JavaScript over the JSON API, with the session cookie.

Every form carries the session's CSRF token; a post without it is refused (403) and audited.
Every action goes through `auth.authorize` (the one permission table) and then the use case.
One module per part of the dashboard; `common` holds what every page shares.
"""

import json
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from ...domain.errors import BroadcasterError
from ..api.common import broadcaster_problem, validation_problem
from . import (
    admin,
    agent_desk,
    alerts,
    holding,
    home,
    incidents,
    links,
    login,
    postmortems,
    sending,
    social,
    stakeholders,
)
from .common import PAGES, LoginRequired, error_page

ROUTERS: list[APIRouter] = [login.router, home.router, incidents.router, holding.router, alerts.router, sending.router,
                            admin.router, social.router, links.router, postmortems.router, agent_desk.router,
                            stakeholders.router]


def install_error_pages(app: FastAPI) -> None:
    """How the dashboard's refusals look: a login redirect, or a page saying why (the API keeps
    answering problem details). The handlers run on the event loop (`api.common.on_the_loop`): each
    builds its answer from the request alone."""

    @app.exception_handler(LoginRequired)
    async def to_login(_request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)

    @app.exception_handler(BroadcasterError)
    async def refused(request: Request, exc: BroadcasterError) -> Response:
        answer = broadcaster_problem(request, exc)
        if request.url.path.startswith(PAGES):  # a person with a browser: a page saying why
            return error_page(request, answer.status_code, str(exc))
        return answer

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        answer = validation_problem(request, exc)
        if request.url.path.startswith(PAGES):  # an edited URL or form: a page saying which part
            return error_page(request, 422, json.loads(answer.body)["detail"])
        return answer
