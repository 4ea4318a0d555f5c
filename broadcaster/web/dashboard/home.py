"""The home page, which runs the incident: every open incident with its live version per channel, the
next update due with a countdown (overdue in red), the versions being written and the approvals
waiting with whom they asked, paused and failing channels, fan-outs going out, holding statements
ready to switch on. `/dashboard/board` is the same board alone: the page fetches it every few seconds
and puts it in place, so it stays live without a reload (and without a script from anywhere else)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.approval import permits
from ...domain.incident import Impact
from ...holding import holding_statements
from ...incidents import statements
from ...incidents.board import board
from ...people import auth
from ..common import settings_of
from .common import MAX_ID, logged_in, page, reading

router = APIRouter(include_in_schema=False)
REFRESH_SECONDS = 5
INCIDENTS_SHOWN = 50  # the newest; older ones a page at a time, so the page does not grow with history


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=307)


@router.get("/dashboard")
def home(request: Request, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
    session = logged_in(request)
    settings = settings_of(request)
    actor = session.actor
    if not permits(actor, "read") and permits(actor, "read social"):
        return RedirectResponse("/dashboard/social", status_code=303)  # the social team's page is its home
    if not permits(actor, "read") and permits(actor, "read agent desk"):
        return RedirectResponse("/agent", status_code=303)  # an agent's home is the desk
    auth.authorize(settings, session.actor, "read", "/dashboard")
    shown = statements.list_incidents(settings, limit=INCIDENTS_SHOWN + 1, offset=offset, newest_first=True)
    return page(request, "home", impacts=[i.value for i in Impact], refresh=REFRESH_SECONDS,
                incidents=shown[:INCIDENTS_SHOWN], more=len(shown) > INCIDENTS_SHOWN, offset=offset,
                page_size=INCIDENTS_SHOWN, total=statements.count_incidents(settings), **_board(settings))


@router.get("/dashboard/board")
def board_fragment(request: Request) -> HTMLResponse:
    reading(request)
    return page(request, "_board", **_board(settings_of(request)))


def _board(settings) -> dict:
    return {"board": board(settings), "holding": holding_statements.ready(settings),
            "soon_minutes": settings.update_reminder_minutes}
