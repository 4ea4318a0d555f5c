"""Follow-up on resolve: callers who pressed 1 on the IVR ("call me back when it is fixed") hear
back when the incident's `resolved` statement is published.

Each is followed up on every channel that declares `follows_up` (and whose setting is on): a
delivery row with their number as the target, written in the publish transaction, so it is
logged, retried and reconciled like every send, and a STOP cancels it. Today that is the SMS
follow-up text by SMS (`sms/followup.txt`) and, with `ivr_callback_calls`, a call that plays the
resolved IVR call-back words (channels/ivr.py), both in the language the caller chose on the phone
line where the statement has it (`CallbackRequest.locale`, written on the row as `Delivery.locale`).
A number that opted out gets nothing; a caller who is also a subscriber of a channel gets that
channel's message once.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import channels
from ..channels import transport_for
from ..config import Settings
from ..delivery.records import add_deliveries
from ..domain.incident import IncidentStatus
from ..render.languages import words_language
from ..store.models import AuditEvent, CallbackRequest, Delivery, Statement, Subscriber, utcnow


def follow_up_channels(settings: Settings) -> list[channels.Channel]:
    """The channels that reach a caller who asked to hear back, by their phone number."""
    return [ch for ch in channels.all_channels() if ch.follows_up is not None and ch.follows_up(settings)]


def follow_up_callers(settings: Settings, s: Session, statement: Statement) -> list[int]:
    """For a resolved statement being published: write the follow-up deliveries to every caller of
    its incident not yet notified, mark them notified; returns the new delivery ids."""
    if statement.status != IncidentStatus.RESOLVED.value:
        return []
    requests = s.scalars(select(CallbackRequest).where(CallbackRequest.incident_id == statement.incident_id,
                                                       CallbackRequest.notified_at.is_(None))
                         .order_by(CallbackRequest.id).with_for_update()).all()
    if not requests:
        return []
    phones = [r.phone for r in requests]
    language = _languages(statement, requests)
    opted_out = set(s.scalars(select(Subscriber.phone).where(Subscriber.phone.in_(phones),
                                                             Subscriber.opted_out_at.is_not(None))))
    rendered = {r.channel for r in statement.renditions}
    wanted = []
    for ch in follow_up_channels(settings):
        if ch.rendition not in rendered:
            continue
        already = set(s.scalars(select(Delivery.target).where(Delivery.statement_id == statement.id,
                                                              Delivery.channel == ch.name)))  # a subscriber too
        wanted += [(ch.name, r.phone, language[r.phone]) for r in requests
                   if r.phone not in opted_out and r.phone not in already]
    ids = _insert(settings, s, statement, wanted)
    now = utcnow()
    for request in requests:
        request.notified_at = now
    s.add(AuditEvent(actor_id=None, action="follow up callers", subject=f"statement:{statement.id}",
                     detail={"callers": len(phones), "opted_out": len(opted_out), "deliveries": len(ids)},
                     created_at=now))
    return ids


def _languages(statement: Statement, requests: list[CallbackRequest]) -> dict[str, str]:
    """{phone: the language its follow-up is in}: the caller's choice where the statement has it (no
    choice: the statement's own language)."""
    translated = tuple(sorted({r.locale for r in statement.translated_renditions}))
    return {r.phone: words_language(r.locale, statement.language, translated) for r in requests}


def _insert(settings: Settings, s: Session, statement: Statement, wanted: list[tuple[str, str, str]]) -> list[int]:
    return add_deliveries(s, [{"statement_id": statement.id, "channel": channel, "target": phone, "locale": locale,
                               "follow_up": True, "provider": transport_for(channel, settings).provider}
                              for channel, phone, locale in wanted],
                          "follow-up: this caller asked to hear when it is fixed")
