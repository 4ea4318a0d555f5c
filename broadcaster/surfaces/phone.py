"""What the phone line says and what callers and texters ask of it.

- The IVR says the live `ivr` rendition of the most severe unresolved incident, exactly as stored
  and approved; a caller may ask to be called back when that incident is fixed (once per number
  and incident).
- Inbound SMS keywords (the carriers' and Twilio's standard set) opt a subscriber out or back in.
"""

from dataclasses import dataclass

import phonenumbers
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..config import Settings
from ..store.db import transaction
from ..store.models import AuditEvent, CallbackRequest, Incident, Subscriber, utcnow
from .snapshot import Snapshot

SURFACE = "ivr"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})


@dataclass(frozen=True)
class LiveMessage:
    incident_id: int
    version: int
    script: str  # the stored rendition's text, said verbatim


def live_message(snapshot: Snapshot) -> LiveMessage | None:
    """The IVR message of the most severe unresolved incident, or None when nothing is live."""
    view = snapshot.most_severe(SURFACE)
    if view is None:
        return None
    live = view.live(SURFACE)
    return LiveMessage(view.id, live.version, live.fields.get("script", ""))


def resolved_script(settings: Settings, statement_id: int) -> str | None:
    """The stored IVR script of a published (or since superseded) resolved statement, else None."""
    from ..domain.incident import IncidentStatus
    from ..store.models import Rendition, Statement

    with transaction(settings.database_url) as s:
        fields = s.scalar(select(Rendition.fields).join(Statement, Statement.id == Rendition.statement_id)
                          .where(Statement.id == statement_id, Rendition.channel == SURFACE,
                                 Statement.status == IncidentStatus.RESOLVED.value,
                                 Statement.state.in_(("published", "superseded"))))
    return fields.get("script") if fields else None


def callable_number(raw: str | None) -> str | None:
    """The caller's number in E.164 if it is one we could call back (not withheld or malformed)."""
    try:
        number = phonenumbers.parse(raw or "", None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def request_callback(settings: Settings, incident_id: int, raw_number: str | None) -> str:
    """Record that this caller wants a call back when the incident is fixed. Returns "recorded",
    "already" (this number asked before for this incident), "number" (no number we can call) or
    "resolved" (no such incident, or it is over)."""
    phone = callable_number(raw_number)
    if phone is None:
        return "number"
    try:
        with transaction(settings.database_url) as s:
            incident = s.get(Incident, incident_id)
            if incident is None or incident.resolved_at is not None:
                return "resolved"
            if s.scalar(select(CallbackRequest.id).where(CallbackRequest.incident_id == incident_id,
                                                         CallbackRequest.phone == phone)) is not None:
                return "already"
            s.add(CallbackRequest(incident_id=incident_id, phone=phone, created_at=utcnow()))
    except IntegrityError:  # the same caller pressed 1 on two calls at once: the other one won
        return "already"
    return "recorded"


def sms_keyword(body: str | None) -> str | None:
    """"stop", "start", "help" or None, for a text that is one of the standard keywords."""
    word = (body or "").strip().strip(".!").upper()
    for keyword, words in (("stop", STOP_WORDS), ("start", START_WORDS), ("help", HELP_WORDS)):
        if word in words:
            return keyword
    return None


def apply_sms_keyword(settings: Settings, raw_number: str | None, keyword: str, opt_out) -> str:
    """Act on a keyword from this number; returns the name of the reply to send ("stopped",
    "started", "help" or "not_subscribed"). `opt_out(session, subscriber, why)` is the one
    opt-out every channel uses (it also cancels the subscriber's unsent deliveries)."""
    if keyword == "help":
        return "help"
    phone = callable_number(raw_number) or (raw_number or "")
    with transaction(settings.database_url) as s:
        subscriber = s.scalar(select(Subscriber).where(Subscriber.phone == phone))
        if keyword == "stop":
            if subscriber is not None:
                opt_out(s, subscriber, "SMS STOP")
            return "stopped"  # answered either way: the sender asked not to be texted
        if subscriber is None:
            return "not_subscribed"
        if subscriber.opted_out_at is not None:
            subscriber.opted_out_at = None
            s.add(AuditEvent(actor_id=None, action="opt in", subject=f"subscriber:{subscriber.id}",
                             detail={"via": "SMS START"}, created_at=utcnow()))
        return "started"
