"""The agent desk (`/agent`): the contact centre's page for a second monitor or a phone. The live agent
notes of every open incident, a copy button on every answer, the next update's time, a mark when a new
version replaces what the agent was reading (the page asks `/agent/live` every few seconds and swaps
the cards in, no reload), and each incident's versions. Read-only: no form on it changes anything."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ...agents import desk
from ...domain.errors import InvalidInput
from ...domain.locales import normalise_tag
from ...render.environment import environment
from ..common import settings_of
from .common import Id, page, reading

router = APIRouter(include_in_schema=False)
Seen = Annotated[str, Query(max_length=4000)]
Lang = Annotated[str, Query(max_length=35)]
POLL_SECONDS = 5


def _locale(settings, lang: str) -> str | None:
    if not lang:
        return None
    try:
        tag = normalise_tag(lang, "lang")
    except InvalidInput:
        return None
    return tag if tag in settings.locales or tag == settings.default_locale else None


@router.get("/agent")
def agent_desk(request: Request, lang: Lang = "") -> HTMLResponse:
    session = reading(request, "read agent desk")
    settings = settings_of(request)
    locale = _locale(settings, lang)
    shown = desk.desk(settings, session.actor, locale)
    return page(request, "agent_desk", desk=shown, seen={}, polled=False, lang=locale or "", poll_seconds=POLL_SECONDS,
                languages=[settings.default_locale, *settings.locales])


@router.get("/agent/live")
def agent_desk_live(request: Request, seen: Seen = "", lang: Lang = "") -> Response:
    """204 when the desk shows what the page has (`seen`, the signature it was given), else the cards
    afresh, each new version marked against the version the page was showing."""
    session = reading(request, "read agent desk")
    settings = settings_of(request)
    shown = desk.desk(settings, session.actor, _locale(settings, lang))
    if shown["signature"] == seen:
        return Response(status_code=204, media_type="text/html", headers={"Cache-Control": "no-store"})
    cards = environment(settings.templates_dir).get_template("_web/dashboard/_agent_cards.html").render(
        desk=shown, seen=desk.parse_seen(seen), polled=True, lang=_locale(settings, lang) or "")
    return HTMLResponse(cards, headers={"X-Desk-Signature": shown["signature"], "Cache-Control": "no-store"})


@router.get("/agent/incidents/{incident_id}")
def agent_versions(request: Request, incident_id: Id, lang: Lang = "") -> HTMLResponse:
    session = reading(request, "read agent desk")
    settings = settings_of(request)
    card = desk.versions(settings, session.actor, incident_id, _locale(settings, lang))
    return page(request, "agent_versions", card=card, lang=_locale(settings, lang) or "")
