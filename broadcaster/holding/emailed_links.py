"""Switching on a holding statement from an emailed link, for when the dashboard is out of reach.

Contact centres switch their disaster-recovery message on "by SMS or email if you can't reach
your desk". The SMS is `HOLD <number> <pin>` (holding_statements.py); this is the email. Each person who may
switch holding statements on (PERMISSIONS["activate holding"]), has an email address and has set
a PIN (`broadcaster user pin NAME`) gets a **standing link** per holding statement: when it is
kept, and again on request (the Holding page, `POST /api/v1/holding/{n}/links`, `broadcaster
holding links N`, or texting `HOLD <number>` from their registered phone when they have lost the
email). It lies in their mailbox until the outage, so it is made safe to keep there:

- signed under BROADCASTER_SECRET_KEY; only the SHA-256 of its nonce is stored;
- bound to the user, the address it was sent to (a changed address voids it), the holding
  statement and its approved content hash (new words are a new statement: the link is void);
- valid until used, revoked (a fresher link for the same person and statement revokes the older
  once the provider has taken its email: a failed email never leaves someone without the link they
  had; anyone who may switch it on can revoke them all) or expired (BROADCASTER_HOLDING_LINK_DAYS);
- with the `log` provider (no email provider configured, or BROADCASTER_SIMULATE) nothing is sent:
  every answer says "logged, not sent", the log keeps the email without the link's secret, and
  older links stay valid;
- opening it shows the confirm page with the exact words of every channel: mail scanners and link
  previews open every link, so only the page's POST acts, and only with the user's PIN. The
  mailbox alone (a forwarded email, a URL in a proxy's log) switches nothing on; three wrong PINs
  revoke the link, and PIN attempts are limited per user across SMS and links;
- refused for anyone who no longer has a role that may switch it on.

Every refusal is answered politely on the page and written to the audit trail.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..approvals.by_phone import email_fields
from ..channels import transport_for
from ..channels.log import LOG_PROVIDER
from ..config import Settings
from ..delivery.chunk import send_now
from ..delivery.dispatch import Dispatch
from ..delivery.links import site, valid_token
from ..delivery.messages import add_message, secrets_of
from ..delivery.receipts import remember_inbound
from ..domain.approval import PERMISSIONS, Actor, require_role
from ..domain.delivery_status import FAILED_FOR_GOOD, REACHED, DeliveryStatus
from ..domain.errors import BroadcasterError, InvalidInput, NotAllowed, NotFound
from ..domain.hashing import sha256_hex
from ..domain.lifecycle import State
from ..domain.message_secrets import TOKEN, MessageKind
from ..incidents import statements
from ..people.auth import actor_of, over_limit
from ..people.users import user_with_number
from ..store.access_models import HoldingLink, HoldingStatement
from ..store.db import lock_for_writing
from ..store.models import Delivery, User, utcnow
from ..usecase import MAX_ID, acting, log_action, refusal_audited, request_client, unit_of_work
from . import holding_statements

ACTION = "activate holding"  # sending, listing and revoking links is for those who may switch it on
MAX_PIN_FAILURES = 3


@dataclass(frozen=True)
class Sent:
    """One link whose email the provider took (`log`: recorded without the link's secret, not sent).
    The URL is returned to the caller for tests and the CLI on the server; never over HTTP."""
    user: str
    email: str
    url: str
    expires_at: str
    provider: str


def send_links(settings: Settings, actor: Actor, number: int, names: list[str] | None = None) -> dict:
    """Email a fresh standing link for holding statement `number` to each person who may switch it
    on (or to those `names`). Each email is a message through the delivery engine, sent here and now.
    A person's older links are revoked only once the provider has taken the new email: an email that
    fails (the provider down in the outage) leaves them the link they have, and its own link is
    revoked at once; one the provider has not answered for yet is kept (the engine retries it, and it
    may arrive). `sent` (and the audit row) name only those whose email went; `skipped` says who got
    none and why. Runs of it for one holding statement take turns (its row is locked), so two at once
    leave each person one valid link, never two."""
    with acting(settings, actor, ACTION, f"holding:{number}") as s:
        kept = _holding(s, number, lock=True)
        chosen, skipped = [], []
        for user in _people(s, names):
            reason = _why_no_link(user)
            if reason:
                skipped.append({"user": user.name, "reason": reason})
            else:
                chosen.append(user)
        if names and skipped:
            raise InvalidInput(f"users: {skipped[0]['user']} cannot get a link: {skipped[0]['reason']}")
        context = {"company_name": settings.company_name, "number": kept.id, "incident_title":
                   kept.statement.incident.title, "headline": kept.statement.headline,
                   "version": kept.statement.version, "days": settings.holding_link_days}
        outgoing = [_new_link(s, settings, kept, user, context) for user in chosen]
    send_now(settings, [one.delivery_id for one in outgoing])
    with unit_of_work(settings) as s:
        _holding(s, number, ready=False, lock=True)
        sent, failed = _record_emails(s, number, outgoing)
        log_action(s, actor, "send holding links", f"holding:{number}",
                   {"to": [one.user for one in sent], "not_sent": failed, "skipped": skipped})
    return {"number": number, "sent": sent, "skipped": skipped + failed}


@dataclass(frozen=True)
class _Outgoing:
    link_id: int
    user: str
    email: str
    url: str
    expires_at: str
    delivery_id: int


def _record_emails(s, number: int, outgoing: list[_Outgoing]) -> tuple[list[Sent], list[dict]]:
    """Each link's email, as the engine sent it: taken (the person's older links revoked, unless it
    was only logged), failed for good (this link revoked: nobody has it), or not answered yet (kept:
    it may have arrived, and the engine keeps trying)."""
    sent, failed, now = [], [], utcnow()
    for one in outgoing:
        link, delivery = s.get(HoldingLink, one.link_id), s.get(Delivery, one.delivery_id)
        if delivery.status in REACHED:
            link.sent_at, link.provider = now, delivery.provider
            if delivery.provider != LOG_PROVIDER:  # a logged email reached nobody: what they have keeps working
                _revoke(s, number, link.user_id, older_than=link.id)
            sent.append(Sent(one.user, one.email, one.url, one.expires_at, delivery.provider))
            continue
        final = delivery.status in (*FAILED_FOR_GOOD, DeliveryStatus.CANCELLED)
        if final:
            link.revoked_at = now
        failed.append({"user": one.user,
                       "reason": f"not sent{'' if final else ' yet (it may still arrive)'}: "
                                 f"{delivery.error_message or delivery.status}; any link they had still works"})
    return sent, failed


def summary(result: dict) -> dict:
    """What an API caller or a page may see of `send_links`: never the URLs. `provider` `log`: the
    email was recorded, not sent (no email provider is configured, or BROADCASTER_SIMULATE)."""
    return {"number": result["number"], "skipped": result["skipped"],
            "sent": [{"user": s.user, "email": s.email, "expires_at": s.expires_at, "provider": s.provider}
                     for s in result["sent"]]}


def email_provider(settings: Settings) -> str:
    """Who would carry a link's email now: `log` means nobody (recorded, not sent)."""
    return transport_for("email", settings).provider


def revoke_links(settings: Settings, actor: Actor, number: int) -> dict:
    with acting(settings, actor, ACTION, f"holding:{number}") as s:
        _holding(s, number, ready=False, lock=True)  # those of one already switched on are void; revoking is allowed
        revoked = _revoke(s, number)
        log_action(s, actor, "revoke holding links", f"holding:{number}", {"revoked": revoked})
        return {"number": number, "revoked": revoked}


def list_links(settings: Settings, numbers: list[int]) -> list[dict]:
    """Every link of these holding statements: who, where, until when, what became of it."""
    with unit_of_work(settings) as s:
        query = select(HoldingLink).where(HoldingLink.holding_id.in_(numbers)).order_by(HoldingLink.id)
        return [_view(link) for link in s.scalars(query)]


def ready_with_links(settings: Settings) -> list[dict]:
    """The holding statements ready to switch on, each with its links."""
    ready = holding_statements.ready(settings)
    links = list_links(settings, [h["number"] for h in ready])
    return [{**h, "links": [link for link in links if link["number"] == h["number"]]} for h in ready]


# --- the confirm page ----------------------------------------------------------------------


def check_link(settings: Settings, link_id: int, token: str) -> dict:
    """What the confirm page shows if the link is valid now; NotAllowed saying why if not (audited)."""
    with refusal_audited(settings, "open holding link", f"holding-link:{link_id}"):
        return _confirm_page(settings, link_id, token)


def still_usable(settings: Settings, link_id: int, token: str) -> dict | None:
    """The confirm page again after a refused press (a wrong PIN, a publish rule), if the link can
    still be used; None if not. Not audited: the refusal that led here was."""
    try:
        return _confirm_page(settings, link_id, token)
    except BroadcasterError:
        return None


def _confirm_page(settings: Settings, link_id: int, token: str) -> dict:
    with unit_of_work(settings) as s:
        link = _valid_link(s, settings, link_id, token)
        number, statement_id, user = link.holding_id, link.holding.statement_id, link.user
        title = link.holding.statement.incident.title
        name, ways = user.name, holding_statements.other_ways(settings, user)
    return {"link_id": link_id, "number": number, "user": name, "incident_title": title, **ways,
            **statements.preview(settings, statement_id)}


def activate_by_link(settings: Settings, link_id: int, token: str, pin: str, dispatch: Dispatch | None = None) -> dict:
    """The page's POST: the right PIN switches the holding statement on, once. The link is claimed
    first, so a second press is refused even while this one publishes; if publishing then refuses
    (a rule the link does not check: an approval whose seal no longer verifies, a newer version
    live), the claim is released: the link is not used up by a switch-on that did not happen."""
    with refusal_audited(settings, "activate holding by link", f"holding-link:{link_id}"):
        with unit_of_work(settings) as s:
            link = _valid_link(s, settings, link_id, token, lock=True)
            failure = _pin_failure(settings, link, pin)  # counted and committed even when refused
            if failure is None:
                link.used_at = claimed = utcnow()
                actor, number = actor_of(link.user), link.holding_id
        if failure:
            raise failure
    try:
        return holding_statements.activate(settings, actor, number, dispatch, via="email link")
    except BroadcasterError as exc:  # refused (and audited) by publish: nothing went live
        with unit_of_work(settings) as s:
            s.execute(update(HoldingLink).where(HoldingLink.id == link_id, HoldingLink.used_at == claimed)
                      .values(used_at=None))
        exc.pin_accepted = True  # the page may say the PIN was right: it was, and only publish refused
        raise


def _valid_link(s, settings: Settings, link_id: int, token: str, lock: bool = False) -> HoldingLink:
    query = select(HoldingLink).where(HoldingLink.id == link_id)
    link = s.scalar(query.with_for_update() if lock else query) if 1 <= link_id <= MAX_ID else None
    if link is None or not valid_token(settings, token, link.secret_hash, *token_binding(link)):
        raise NotAllowed("this link is not valid: switch the holding statement on from the dashboard, or text "
                         "HOLD <number> <PIN> from your registered phone")
    if link.revoked_at is not None:
        raise NotAllowed("this link was revoked (a newer link was sent, or someone revoked them): text "
                         f"HOLD {link.holding_id} to your Broadcaster number for a fresh one, or use the dashboard")
    if link.used_at is not None:
        raise NotAllowed("this link has already been used")
    if link.expires_at <= utcnow():
        raise NotAllowed(f"this link has expired: text HOLD {link.holding_id} to your Broadcaster number for a "
                         "fresh one, or use the dashboard")
    user = link.user
    if user.email != link.sent_to:
        raise NotAllowed(f"this link was sent to an address that is no longer {user.name}'s")
    require_role(actor_of(user), ACTION)
    statement = link.holding.statement
    if statement.content_hash != link.content_hash:
        raise NotAllowed(f"holding statement #{link.holding_id} now has other words than this link was sent for")
    if statement.state != State.APPROVED.value:
        raise NotAllowed(f"holding statement #{link.holding_id} can no longer be switched on: it is "
                         f"{statement.state.replace('_', ' ')}")
    return link


class PinRefused(NotAllowed):
    """A press refused for its PIN, with the facts its page words (_web/dashboard/hold.html): `checked`
    False when the PIN was not looked at (over the PIN limits); `link_tries_left`, wrong PINs the link
    still takes; `tries_left` and `retry_at`, the limits' (`pin_tries`). The message is the audit's."""

    def __init__(self, message: str, checked: bool, link_tries_left: int, tries_left: int, retry_at: datetime):
        super().__init__(message)
        self.checked, self.link_tries_left = checked, link_tries_left
        self.tries_left, self.retry_at = tries_left, retry_at


def _pin_failure(settings: Settings, link: HoldingLink, pin: str) -> PinRefused | None:
    """A wrong PIN counts against the link (the third closes it); a press over the PIN limits does not:
    its PIN was never checked, so it guessed nothing (and someone behind a busy office's one address must
    not lose their link to other people's tries)."""
    try:
        holding_statements.verify_pin(settings, link.user, pin)
    except NotAllowed as exc:
        checked = not isinstance(exc, holding_statements.TooManyTries)
        if checked:
            link.pin_failures += 1
        left = MAX_PIN_FAILURES - link.pin_failures
        message = f"{exc}: {left} tries left with this link"
        if left <= 0:
            link.revoked_at = utcnow()
            message = f"{exc}; after {MAX_PIN_FAILURES} wrong PINs this link is revoked"
        return PinRefused(message, checked, left, *holding_statements.pin_tries(settings, link.user,
                                                                                 request_client.get()))
    return None


# --- asking for a link by SMS: `HOLD <number>` ------------------------------------------------

LINK_REQUEST = re.compile(r"^\s*HOLD\s+(\d{1,6})\s*$", re.IGNORECASE)


def is_link_request(text: str | None) -> bool:
    return bool(text and LINK_REQUEST.match(text))


def send_link_by_sms(settings: Settings, sender: str | None, text: str, message_sid: str | None) -> str:
    """`HOLD 2` from a registered number: a fresh link to that person's registered email address.
    The reply is the same whoever sent it ("link_requested"): it says nothing about who is
    registered. Refusals are audited."""
    try:
        remember_inbound(settings, message_sid)
        number = int(LINK_REQUEST.match(text).group(1))
        user = _user_with_number(settings, sender)
        if over_limit(settings, settings.holding_link_request_rate, "holding-link", f"user:{user.id}"):
            raise NotAllowed(f"too many link requests for {user.name} (limit {settings.holding_link_request_rate})")
        send_links(settings, actor_of(user), number, [user.name])
    except BroadcasterError as exc:
        with unit_of_work(settings) as s:
            log_action(s, None, "refused: holding link by SMS", f"sms:{(message_sid or '?')[:50]}",
                       {"from": sender, "reason": str(exc)})
    return "link_requested"


def _user_with_number(settings: Settings, sender: str | None) -> User:
    with unit_of_work(settings) as s:
        user = user_with_number(s, sender)
        if user is None:
            raise NotAllowed(f"{sender} is not the number of a user")
        return user


# --- helpers -------------------------------------------------------------------------------


def _holding(s, number: int, ready: bool = True, lock: bool = False) -> HoldingStatement:
    """The holding statement; with `lock`, its row locked (SQLite: the write lock) for the rest of the
    transaction, so that work on its links takes turns."""
    if lock:
        lock_for_writing(s)
    kept = s.get(HoldingStatement, number, with_for_update=lock) if 1 <= number <= MAX_ID else None
    if kept is None:
        raise NotFound(f"holding statement {number} does not exist: see the list of holding statements")
    if ready and kept.statement.state != State.APPROVED.value:
        raise NotAllowed(f"holding statement #{number} is {kept.statement.state.replace('_', ' ')}: "
                         "there is nothing left to switch on")
    return kept


def _people(s, names: list[str] | None) -> list[User]:
    if not names:
        allowed = {role.value for role in PERMISSIONS[ACTION]}
        return [u for u in s.scalars(select(User).order_by(User.id)) if set(u.role_list) & allowed]
    found = {u.name: u for u in s.scalars(select(User).where(User.name.in_(names)))}
    missing = [name for name in names if name not in found]
    if missing:
        raise NotFound(f"user {missing[0]!r} does not exist")
    return [found[name] for name in dict.fromkeys(names)]


def _why_no_link(user: User) -> str:
    allowed = {role.value for role in PERMISSIONS[ACTION]}
    if not set(user.role_list) & allowed:
        return f"their roles ({', '.join(user.role_list)}) may not switch holding statements on"
    if not user.email:
        return "no email address"
    if not user.pin_hash:
        return f"no PIN yet (`broadcaster user pin {user.name}`): the link asks for it"
    return ""


def _new_link(s, settings: Settings, kept: HoldingStatement, user: User, context: dict) -> _Outgoing:
    """A link and its email, not sent yet: it revokes the person's older links once the email has
    gone (`_record_emails`). The token is the email delivery's own (`domain.message_secrets`), never stored."""
    link = HoldingLink(holding_id=kept.id, user_id=user.id, secret_hash="", content_hash=kept.statement.content_hash,
                       sent_to=user.email, expires_at=utcnow() + timedelta(days=settings.holding_link_days))
    s.add(link)
    s.flush()
    url = f"{site(settings)}/hold/{link.id}?t={TOKEN}"
    fields = email_fields(settings, "_web/holding", {**context, "url": url, "expires_at": link.expires_at.isoformat()})
    (delivery,) = add_message(s, settings, MessageKind.HOLDING_LINK, f"holding:{kept.id}", "email", fields,
                              [user.email], link.expires_at, token_binding(link))
    found = secrets_of(settings, delivery)
    link.secret_hash = sha256_hex(found.nonce)
    return _Outgoing(link.id, user.name, user.email, url.replace(TOKEN, found.token), link.expires_at.isoformat(),
                     delivery.id)


def token_binding(link: HoldingLink) -> tuple:
    """What a link's token is bound to: a token is valid only for this link, person, statement, words and address."""
    return ("holding", link.id, link.user_id, link.holding_id, link.content_hash, link.sent_to)


def _revoke(s, number: int, user_id: int | None = None, older_than: int | None = None) -> int:
    query = update(HoldingLink).where(HoldingLink.holding_id == number, HoldingLink.used_at.is_(None),
                                      HoldingLink.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(HoldingLink.user_id == user_id)
    if older_than is not None:
        query = query.where(HoldingLink.id < older_than)
    return s.execute(query.values(revoked_at=utcnow())).rowcount


def _view(link: HoldingLink) -> dict:
    """`state`: valid, used, revoked, expired, `not sent` (its email failed) or `unconfirmed` (its email is
    on its way, or the provider never answered); `provider` `log`: recorded, never sent to anyone."""
    state = ("used" if link.used_at else "not sent" if link.revoked_at and link.sent_at is None else
             "revoked" if link.revoked_at else "expired" if link.expires_at <= utcnow() else
             "unconfirmed" if link.sent_at is None else "valid")
    return {"id": link.id, "number": link.holding_id, "user": link.user.name, "sent_to": link.sent_to,
            "created_at": link.created_at.isoformat(), "expires_at": link.expires_at.isoformat(), "state": state,
            "provider": link.provider, "pin_failures": link.pin_failures}
