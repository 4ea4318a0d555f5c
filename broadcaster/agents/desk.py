"""The agent desk: what the contact centre reads on a second monitor or a phone.

For every open incident (and one resolved in the last day: customers still call to ask), the newest
version the desk shows (its `agent` delivery reached the desk, the database is the truth) with its
agent notes, the versions before it and which notes changed since the one before; open incidents come
first, and an open incident with no notes yet is named too (callers ask about it all the same).
Read-only: every function here reads. A `signature` names what is shown (incident:version, ...), so a
page polling for news learns in one comparison whether anything changed.
"""

import json
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from ..config import Settings
from ..domain.approval import Actor, require_role
from ..domain.delivery_status import REACHED
from ..domain.errors import NotFound
from ..store.models import Delivery, Incident, Rendition, Statement, utcnow
from ..usecase import unit_of_work

CHANNEL = "agent"
# A resolved incident stays on the desk this long: the calls go on after the fix.
RESOLVED_KEPT = timedelta(hours=24)
MOST_SEEN = 200  # incident:version pairs a page may say it has seen (the rest are ignored)
NOTES = ("summary", "say", "workaround", "avoid", "next_update", "answers")  # the agent rendition's fields


def desk(settings: Settings, actor: Actor, locale: str | None = None, now: datetime | None = None) -> dict:
    """{"incidents": [{id, title, status, resolved, version, published_at, content_hash, notes, changed,
    versions}], "waiting": [{id, title, opened_at}], "signature": "3:2,5:1"} in `locale` where a version has
    agent notes in it (else its own language). Open incidents first, newest first: the ones callers ask
    about now; `waiting`: open incidents with nothing on the desk yet."""
    require_role(actor, "read agent desk")
    now = now or utcnow()
    since = now - RESOLVED_KEPT
    with unit_of_work(settings) as s:
        incidents = s.scalars(select(Incident).where(or_(Incident.resolved_at.is_(None), Incident.resolved_at > since))
                              .order_by(Incident.resolved_at.is_not(None), Incident.id.desc())).all()
        cards = {incident.id: _card(s, incident, locale) for incident in incidents}
    shown = [card for card in cards.values() if card]
    for card in shown:  # the words still say "Next update by 05:10 UTC" after 05:10 until a new version is live
        due = card["next_update_at"] and datetime.fromisoformat(card["next_update_at"])
        card["next_update_passed"] = not card["resolved"] and bool(due) and due <= now
    waiting = [{"id": i.id, "title": i.title, "opened_at": i.created_at.isoformat()} for i in incidents
               if cards[i.id] is None and i.resolved_at is None and i.kind == "incident"]
    return {"incidents": shown, "waiting": waiting, "signature": signature(shown, waiting)}


def versions(settings: Settings, actor: Actor, incident_id: int, locale: str | None = None) -> dict:
    """One incident's agent notes, every version the desk has shown, newest first."""
    require_role(actor, "read agent desk")
    with unit_of_work(settings) as s:
        incident = s.get(Incident, incident_id)
        card = _card(s, incident, locale) if incident is not None else None
        if card is None:
            raise NotFound(f"incident {incident_id} has no agent notes on the desk")
        return card


def signature(cards: list[dict], waiting: list[dict] = ()) -> str:
    """incident:version for each card, incident:0 for each incident still waiting for notes (so the page
    learns of a new incident before its notes, and marks the notes as new when they come)."""
    return ",".join([f"{card['id']}:{card['version']}" for card in cards] + [f"{i['id']}:0" for i in waiting])


def parse_seen(given: str) -> dict[int, int]:
    """"3:2,5:1" → {3: 2, 5: 1}; anything else in it is ignored (it only decides which marks show)."""
    seen: dict[int, int] = {}
    for part in given.split(",")[:MOST_SEEN]:
        incident, _, version = part.partition(":")
        if incident.isdigit() and version.isdigit() and len(incident) < 10 and len(version) < 10:
            seen[int(incident)] = int(version)
    return seen


def _card(s, incident: Incident, locale: str | None) -> dict | None:
    shown = s.scalars(select(Statement).join(Delivery, Delivery.statement_id == Statement.id)
                      .where(Statement.incident_id == incident.id, Delivery.channel == CHANNEL,
                             Delivery.status.in_(REACHED))
                      .order_by(Statement.version.desc())).unique().all()
    if not shown:
        return None
    history = [_version(s, statement, locale) for statement in shown]
    for i, (newer, older) in enumerate(zip(history, [*history[1:], None], strict=True)):
        newer["changed"] = _changed(s, shown[i:i + 2], newer, older)
    return {"id": incident.id, "title": incident.title, "status": shown[0].status,
            "resolved": incident.resolved_at is not None, **history[0], "versions": history}


def _changed(s, pair: list[Statement], newer: dict, older: dict | None) -> list[str]:
    """What an agent who read the version before must learn: the notes whose words are not the same,
    compared in one language. A version translated into the asked language beside one that is not would
    differ in every note, so such a pair is compared in the statements' own language."""
    if older is None:
        return []
    if newer["language"] != older["language"]:
        newer, older = (_version(s, statement, None) for statement in pair)
    return [name for name in NOTES if newer["notes"].get(name) != older["notes"].get(name)]


def _version(s, statement: Statement, locale: str | None) -> dict:
    renditions = {r.locale: r for r in s.scalars(select(Rendition).where(Rendition.statement_id == statement.id,
                                                                         Rendition.channel == CHANNEL))}
    rendition = renditions.get(locale or "") if locale and locale != statement.language else None
    rendition = rendition or renditions.get("")
    notes = dict(rendition.fields) if rendition else {}
    notes["answers"] = json.loads(notes.get("answers", "[]") or "[]")
    return {"version": statement.version, "statement_id": statement.id, "content_hash": statement.content_hash,
            "published_at": statement.published_at.isoformat() if statement.published_at else None,
            # with its offset (+00:00), so that the page's Date.parse reads it as UTC, not in its own zone
            "next_update_at": statement.next_update_at.isoformat() if statement.next_update_at else None,
            "language": (locale if rendition is not renditions.get("") else statement.language), "notes": notes}
