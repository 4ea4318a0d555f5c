"""Holding statements: written and approved in calm times ("We are aware of problems logging in;
next update within 30 minutes"), kept with their approved hash, and switched on in an outage
with one click, or from a phone: by texting `HOLD <number> <pin>` from a registered number, or
with the standing emailed link to a confirm page (holding_links.py).

A holding statement is version 1 of an incident nobody sees yet (the public surfaces show only
what was published). Switching it on publishes it on every channel at once; the incident's next
real version supersedes it as any update does. It carries no next-update time of its own: a
time fixed in calm times would be stale by the outage, so the wording says it in the body.
"""

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..config import Settings
from ..delivery.dispatch import Dispatch
from ..delivery.receipts import remember_inbound
from ..domain.approval import Actor, Role
from ..domain.client_address import limit_key
from ..domain.errors import BroadcasterError, InvalidInput, NotAllowed, NotFound
from ..domain.lifecycle import State
from ..incidents import publishing
from ..people.auth import actor_of, authorize_for, over_limit, secret_hasher, tightest_window
from ..people.users import user_with_number
from ..store.access_models import HoldingStatement
from ..store.models import Statement, User
from ..usecase import MAX_ID, acting, get, label, live_statement, log_action, request_client, unit_of_work

HOLD_SMS = re.compile(r"^\s*HOLD\s+(\d{1,6})\s+(\d{4,10})\s*$", re.IGNORECASE)


def keep(settings: Settings, actor: Actor, statement_id: int) -> dict:
    """Keep an approved statement ready as a holding statement; returns it with its number."""
    with acting(settings, actor, "keep holding", f"statement:{statement_id}") as s:
        statement = get(s, Statement, statement_id)
        if statement.state != State.APPROVED.value:
            raise NotAllowed(f"{label(statement)} is {statement.state.replace('_', ' ')}: only an approved "
                             "statement can be kept as a holding statement")
        if statement.next_update_at is not None:
            raise InvalidInput("next_update: a holding statement waits for an outage, so a fixed time would be "
                               "stale; set next update to none and say the timing in the body")
        if live_statement(s, statement.incident_id) is not None:
            raise NotAllowed(f"incident {statement.incident_id} is already live: a holding statement is for an "
                             "incident nobody sees yet")
        holding = HoldingStatement(statement_id=statement.id, created_by_id=actor.id)
        s.add(holding)
        try:
            s.flush()
        except IntegrityError:
            raise InvalidInput(f"{label(statement)} is already a holding statement") from None
        log_action(s, actor, "keep holding", f"statement:{statement.id}", {"number": holding.id})
        return _view(holding)


def ready(settings: Settings) -> list[dict]:
    """Holding statements that can still be switched on (approved, not yet published)."""
    with unit_of_work(settings) as s:
        rows = s.scalars(select(HoldingStatement).join(Statement).where(Statement.state == State.APPROVED.value)
                         .order_by(HoldingStatement.id))
        return [_view(h) for h in rows]


def activate(settings: Settings, actor: Actor, number: int, dispatch: Dispatch | None = None,
             via: str = "dashboard") -> dict:
    """Publish holding statement `number` on every channel (authors, approvers and admins).
    `via` says how it was asked for (dashboard, API, CLI, SMS, email link) in the audit trail."""
    with unit_of_work(settings) as s:
        holding = s.get(HoldingStatement, number) if 1 <= number <= MAX_ID else None
        if holding is None:
            raise NotFound(f"holding statement {number} does not exist: see the list of holding statements")
        statement_id = holding.statement_id
    result = publishing.publish(settings, actor, statement_id, dispatch, action="activate holding")
    with unit_of_work(settings) as s:
        log_action(s, actor, "activate holding", f"statement:{statement_id}", {"number": number, "via": via})
    return {**result, "number": number}


def set_pin(settings: Settings, name: str, pin: str, actor: Actor | None = None) -> None:
    """The PIN a user texts with `HOLD <number> <pin>`: 4 to 10 digits, stored as an argon2 hash. Set
    by the user themselves, or an admin."""
    if not re.fullmatch(r"\d{4,10}", pin):
        raise InvalidInput("pin: 4 to 10 digits")
    authorize_for(settings, actor, name, "manage users")
    with unit_of_work(settings) as s:
        user = s.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"user {name!r} does not exist")
        user.pin_hash = secret_hasher().hash(pin)
        log_action(s, actor, "set pin", f"user:{user.id}", {})


def is_hold_request(text: str | None) -> bool:
    return bool(text and text.strip().upper().startswith("HOLD"))


def activate_by_sms(settings: Settings, sender: str | None, text: str, message_sid: str | None,
                    dispatch: Dispatch | None = None) -> tuple[str, dict]:
    """`HOLD 2 4821` from the number of an author or approver with that PIN. Returns the reply: the name
    of its template (templates/_web/holding/reply_*.txt) and what it says. Any sender who is not a known
    holder's number (or a text not in the form) is told only how the form goes, never whether a number,
    statement or PIN exists; a holder's own number is told why (a wrong PIN and the tries left, too many
    tries and when to try again, a statement that cannot be switched on). The reply goes to the sending
    number, never to whoever spoofed it. Refusals are audited with the reason."""
    reply: tuple[str, dict] = ("refused", {})
    try:
        remember_inbound(settings, message_sid)
        match = HOLD_SMS.match(text or "")
        if not match:
            raise NotAllowed("not in the form HOLD <number> <pin>")
        number = int(match.group(1))
        user = _holder_with_number(settings, sender)
        try:
            verify_pin(settings, user, match.group(2), source=sender or "")
        except TooManyTries:
            reply = ("too_many", {"retry_at": pin_tries(settings, user, sender or "")[1]})
            raise
        except NotAllowed:
            tries_left, retry_at = pin_tries(settings, user, sender or "")
            reply = ("wrong_pin", {"number": number, "tries_left": tries_left, "retry_at": retry_at})
            raise
        try:
            activate(settings, actor_of(user), number, dispatch, via="sms")
        except BroadcasterError as exc:  # the PIN was right: its holder may know why
            why = "missing" if isinstance(exc, NotFound) else _why_not_switchable(settings, number)
            reply = ("not_switchable", {"number": number, "why": why})
            raise
    except BroadcasterError as exc:  # every refusal, whatever the rule: answered and audited
        with unit_of_work(settings) as s:
            log_action(s, None, "refused: activate holding by SMS", f"sms:{(message_sid or '?')[:50]}",
                       {"from": sender, "reason": str(exc)})
        return reply
    return "activated", {}


def _why_not_switchable(settings: Settings, number: int) -> str:
    """What the reply says of a holding statement that publishing refused: its state (`published`: live
    already; `superseded`; `withdrawn`...), or `refused` if it is still approved (a rule such as a broken
    approval seal stopped it)."""
    with unit_of_work(settings) as s:
        state = s.get(HoldingStatement, number).statement.state
    return "refused" if state == State.APPROVED.value else state


def other_ways(settings: Settings, user: User) -> dict:
    """What else `user` can do to switch a holding statement on, for a link's pages to offer: `has_phone`,
    text HOLD (a registered phone, and a Twilio number whose texts this installation reads: only with
    BROADCASTER_TWILIO_AUTH_TOKEN are they signed and read; without it, the embedded default, there is no
    number to text); `may_log_in`, the dashboard (a password). `company_name` names the number."""
    return {"has_phone": bool(user.phone) and bool(settings.twilio_auth_token),
            "may_log_in": user.password_hash is not None, "company_name": settings.company_name}


def _holder_with_number(settings: Settings, sender: str | None) -> User:
    with unit_of_work(settings) as s:
        user = user_with_number(s, sender)
        allowed = {Role.AUTHOR.value, Role.APPROVER.value, Role.ADMIN.value}
        if user is None or not set(user.role_list) & allowed or not user.pin_hash:
            raise NotAllowed(f"{sender} is not the number of someone who may switch on a holding statement")
        s.expunge(user)
        return user


class TooManyTries(NotAllowed):
    """Too many PIN attempts for a person or from a source: this one was not checked."""


def verify_pin(settings: Settings, user: User, pin: str, source: str | None = None) -> None:
    """NotAllowed unless `pin` is the user's. Attempts, right or wrong, are limited per user (by
    SMS and by link together), so a 4-digit PIN cannot be guessed, and per source (`source`: the
    sending number; by default the web request's client address)."""
    if over_limit(settings, settings.pin_rate_per_user, "pin", f"user:{user.id}"):
        raise TooManyTries(f"too many PIN attempts for {user.name} (limit {settings.pin_rate_per_user}): "
                         "wait, or use the dashboard")
    source = source if source is not None else request_client.get()
    if source and over_limit(settings, settings.secret_rate_per_source, "pin", f"from:{limit_key(source)}"):
        raise TooManyTries(f"too many PIN attempts from {source} (limit {settings.secret_rate_per_source})")
    if not user.pin_hash or not secret_hasher().verify(pin, user.pin_hash):
        raise NotAllowed(f"wrong PIN for {user.name}")


def pin_tries(settings: Settings, user: User, source: str) -> tuple[int, datetime]:
    """The PIN attempts `user` has left now, by SMS and link together, and from `source` (the sending
    number, or the web request's client address), the lower of the two; and when the limit that leaves
    that few has room again (`tightest_window`)."""
    limits = [(settings.pin_rate_per_user, "pin", f"user:{user.id}")]
    if source:
        limits.append((settings.secret_rate_per_source, "pin", f"from:{limit_key(source)}"))
    return tightest_window(settings, limits)


def _view(holding: HoldingStatement) -> dict:
    st = holding.statement
    return {"number": holding.id, "statement_id": st.id, "incident_id": st.incident_id,
            "incident_title": st.incident.title, "headline": st.headline, "state": st.state}
