"""What the phone line says and what callers and texters ask of it.

- The IVR says the live `ivr` rendition of the most severe unresolved incident (else of a
  maintenance in progress), exactly as stored and approved, in the language the caller chose when
  it has a translation; a caller may ask to hear back when that incident is fixed (once per number
  and incident), and the language they chose is kept for that follow-up.
- Inbound SMS keywords (the carriers' and Twilio's standard set) opt a subscriber out or back in.
- While the database is down, a call-back request and a keyword are kept in the public server's
  spool (`spool=`) and the caller is answered as usual; `replay_spooled` applies them afterwards.
"""

from dataclasses import dataclass

import phonenumbers
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..config import Settings
from ..store.db import transaction
from ..store.models import AuditEvent, CallbackRequest, Incident, Subscriber, utcnow
from .cache import DATABASE_DOWN
from .snapshot import Snapshot
from .spool import CALLBACK, SMS_KEYWORD, Spool

SURFACE = "ivr"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})


@dataclass(frozen=True)
class LiveMessage:
    incident_id: int
    version: int
    script: str  # the stored rendition's text, said verbatim
    language: str = "en"  # the language of `script` (the caller's, or the statement's own)
    maintenance: bool = False  # planned work: no call-back to offer


def live_message(snapshot: Snapshot, locale: str = "en") -> LiveMessage | None:
    """The IVR message of the most severe unresolved incident, else of a maintenance in progress,
    in `locale` where it is translated; None when nothing is live."""
    view = snapshot.most_severe(SURFACE)
    if view is None:
        active = snapshot.active_maintenances(SURFACE)
        view = active[0] if active else None
    if view is None:
        return None
    live = view.live(SURFACE)
    fields, language = live.fields_in(locale)
    return LiveMessage(view.id, live.version, fields.get("script", ""), language, view.is_maintenance)


def resolved_script(settings: Settings, statement_id: int, locale: str | None = None) -> tuple[str, str] | None:
    """What we say when we call back a caller about a published (or since superseded) resolved
    statement: its stored IVR call-back words (the script, for statements stored before they
    existed), in the caller's language where translated; None if it is no such statement."""
    from ..domain.incident import IncidentStatus
    from ..store.models import Rendition, Statement

    with transaction(settings.database_url) as s:
        stored = dict(s.execute(select(Rendition.locale, Rendition.fields)
                                .join(Statement, Statement.id == Rendition.statement_id)
                                .where(Statement.id == statement_id, Rendition.channel == SURFACE,
                                       Statement.status == IncidentStatus.RESOLVED.value,
                                       Statement.state.in_(("published", "superseded")))).all())
    language = locale if locale in stored else None
    fields = stored.get(language or "")
    return ((fields.get("callback") or fields.get("script")), language or settings.default_locale) if fields else None


def callable_number(raw: str | None) -> str | None:
    """The caller's number in E.164 if it is one we could call back (not withheld or malformed)."""
    try:
        number = phonenumbers.parse(raw or "", None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def request_callback(settings: Settings, incident_id: int, raw_number: str | None, locale: str | None = None,
                     spool: Spool | None = None) -> str:
    """Record that this caller wants to hear back when the incident is fixed (in `locale`, the
    language they chose; None: the default); with the database down, in `spool` (if given), to be
    replayed. Returns "recorded",
    "already" (this number asked before for this incident), "number" (no number we can call),
    "resolved" (no such incident, or it is over) or "maintenance" (planned work: nothing to wait for)."""
    phone = callable_number(raw_number)
    if phone is None:
        return "number"
    try:
        # With a spool to fall back on, a down database is spooled at once rather than waited for
        # (the caller is on the line): the spool is the public server's retry.
        with transaction(settings.database_url, wait=spool is None) as s:
            incident = s.get(Incident, incident_id)
            if incident is None or incident.resolved_at is not None:
                return "resolved"
            if incident.kind == "maintenance":  # planned work is never "resolved": nothing would follow up
                return "maintenance"
            if s.scalar(select(CallbackRequest.id).where(CallbackRequest.incident_id == incident_id,
                                                         CallbackRequest.phone == phone)) is not None:
                return "already"
            s.add(CallbackRequest(incident_id=incident_id, phone=phone, created_at=utcnow(),
                                  locale=None if locale == settings.default_locale else locale))
    except IntegrityError:  # the same caller pressed 1 on two calls at once: the other one won
        return "already"
    except DATABASE_DOWN:
        if spool is None:
            raise
        spool.record(CALLBACK, incident_id=incident_id, phone=phone, locale=locale)
    return "recorded"


def sms_keyword(body: str | None) -> str | None:
    """"stop", "start", "help" or None, for a text that is one of the standard keywords."""
    word = (body or "").strip().strip(".!").upper()
    for keyword, words in (("stop", STOP_WORDS), ("start", START_WORDS), ("help", HELP_WORDS)):
        if word in words:
            return keyword
    return None


def apply_sms_keyword(settings: Settings, raw_number: str | None, keyword: str, opt_out,
                      spool: Spool | None = None) -> str:
    """Act on a keyword from this number; returns the name of the reply to send ("stopped",
    "started", "help" or "not_subscribed"). `opt_out(session, subscriber, why)` is the one
    opt-out every channel uses (it also cancels the subscriber's unsent deliveries). With the
    database down the keyword is kept in `spool` (if given) and answered as if applied."""
    if keyword == "help":
        return "help"
    phone = callable_number(raw_number) or (raw_number or "")
    try:
        return _apply_keyword(settings, phone, keyword, opt_out, wait=spool is None)
    except DATABASE_DOWN:
        if spool is None:
            raise
        spool.record(SMS_KEYWORD, phone=phone, keyword=keyword)
        return "stopped" if keyword == "stop" else "started"


def replay_spooled(settings: Settings):
    """What the public server's listener replays the spool with, once the database answers."""
    from ..delivery.records import opt_out

    def apply(kind: str, payload: dict) -> None:
        if kind == CALLBACK:
            request_callback(settings, payload["incident_id"], payload["phone"], payload.get("locale"))
        elif kind == SMS_KEYWORD:
            _apply_keyword(settings, payload["phone"], payload["keyword"], opt_out)

    return apply


def _apply_keyword(settings: Settings, phone: str, keyword: str, opt_out, wait: bool = True) -> str:
    with transaction(settings.database_url, wait=wait) as s:
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
