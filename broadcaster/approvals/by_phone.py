"""Approval from a phone: on submit, each approver gets an email with a link to a confirm page and
an SMS with a short code to reply with (and, where Slack is connected, a Slack DM with buttons:
`slack_messages`, `by_slack`).

A link or code is bound to one approver, one statement and the content hash it had when sent;
it is single-use and expires (BROADCASTER_APPROVAL_LINK_HOURS, 2 h by default). An edit makes a
new version (the old one withdrawn, its hash gone), so every link and code for it is void. The
link opens a page; only its POST approves, because mail scanners open every link. Links carry
an HMAC under BROADCASTER_SECRET_KEY, and only the SHA-256 of their nonce is stored; codes are
digits only (carriers treat words like STOP as opt-outs), also stored hashed, and are accepted
only from the approver's own number, in a Twilio-signed request whose MessageSid is new.

Each request is a message through the delivery engine (`delivery.messages`): logged with its hash,
retried and reconciled like any send. Its link's token and its code are never stored: the words hold
a marker, filled in at send time from the secret key and the delivery (`domain.message_secrets`). With the
`log` provider (no credentials, or BROADCASTER_SIMULATE) the words are recorded with the secrets
hidden and nothing is sent; `broadcaster approval link` gives an approver a working link locally.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..config import Settings
from ..delivery.dispatch import Dispatch
from ..delivery.enqueue import enqueue
from ..delivery.links import link_signature, site, valid_token
from ..delivery.messages import add_message, new_nonce, secrets_of
from ..delivery.receipts import remember_inbound
from ..domain.approval import Actor, Role, check_can_approve, require_role
from ..domain.errors import BroadcasterError, InvalidInput, NotAllowed
from ..domain.hashing import sha256_hex
from ..domain.lifecycle import State
from ..domain.message_secrets import CODE, TOKEN, MessageKind
from ..people.auth import actor_of, limit_window, over_limit
from ..people.users import user_with_number
from ..render.environment import environment
from ..store.access_models import ApprovalRequest
from ..store.models import Statement, User, utcnow
from ..usecase import acting, get, label, log_action, refusal_audited, unit_of_work
from . import decisions, slack_messages

logger = logging.getLogger("broadcaster.approval")
# ApprovalRequest.kind: an emailed link, or a texted code; the stored values name the channel that carries each.
BY_LINK, BY_CODE = "email", "sms"
BY_SLACK = "slack"  # a Slack DM with buttons: no ApprovalRequest row, the click is proved by Slack's signature


class LinkNotValid(NotAllowed):
    """A link whose token is not the one signed for its request (mangled in copying, or forged)."""


class LinkSpent(NotAllowed):
    """A genuine link or code that no longer approves: used, expired, or its version no longer waits."""


@dataclass(frozen=True)
class Sent:
    """What one approver is sent (returned to the caller for tests and the CLI; never over HTTP)."""
    user: str
    kind: str  # email | sms | slack
    secret: str  # the link's URL, or the code, as a real provider sends it ("" for Slack: its buttons hold none)
    provider: str  # the provider that will send it (`log`: recorded with the secret hidden, not sent)
    delivery_id: int


def notify_approvers(settings: Settings, statement_id: int, dispatch: Dispatch | None = None) -> list[Sent]:
    """Email a link and text a code to every approver who may approve this version: each one a
    message through the delivery engine (logged with its hash, retried, reconciled), handed to
    `dispatch` (default: the broker) once written."""
    expires = link_expiry(settings)
    sent: list[Sent] = []
    with unit_of_work(settings) as s:
        statement = get(s, Statement, statement_id)
        if statement.state != State.PENDING_APPROVAL.value or not statement.content_hash:
            return []
        base = request_words(settings, statement)
        in_slack = slack_messages.slack_approvals_on(settings)
        for user in s.scalars(select(User).where(User.id != statement.author_id).order_by(User.id)):
            if Role.APPROVER.value not in user.role_list:
                continue
            if user.email:
                sent.append(ask_by_link(s, settings, statement, user, base, expires))
            if user.phone:
                sent.append(_ask_by_code(s, settings, statement, user, base, expires))
            # Only to whom may approve these words (no one who wrote or edited them: four eyes).
            slack_id = user.slack_user_id if in_slack and user.id not in statement.contributors else None
            if slack_id:  # a DM with Approve / Reject buttons (`approvals.by_slack` takes the click)
                delivery = slack_messages.ask(s, settings, statement, user, expires)
                sent.append(Sent(user.name, BY_SLACK, "", delivery.provider, delivery.id))
            log_action(s, None, "request approval", f"statement:{statement.id}",
                       {"approver": user.name, "by": [k for k, v in ((BY_LINK, user.email), (BY_CODE, user.phone),
                                                                     (BY_SLACK, slack_id)) if v]})
    if sent:
        (dispatch or enqueue)(settings, [one.delivery_id for one in sent])
    return sent


def mint_link(settings: Settings, approver: Actor, statement_id: int) -> dict:
    """A fresh approval link for `approver`, bound, single-use and expiring like an emailed one, for
    `broadcaster approval link`: on the server, for someone who holds the database and the secret key
    (and so could make one anyway), where the `log` provider rightly hides an emailed link's secret.
    Refused unless `approver` may approve this version now; audited."""
    with acting(settings, approver, "approve", f"statement:{statement_id}") as s:
        statement = get(s, Statement, statement_id)
        if statement.state != State.PENDING_APPROVAL.value:
            raise NotAllowed(f"{label(statement)} is {statement.state.replace('_', ' ')}, not waiting for approval")
        hash_now = check_may_approve_now(settings, approver, statement)
        expires = link_expiry(settings)
        request = _request(s, statement, s.get(User, approver.id), BY_LINK, expires)
        nonce = secrets.token_hex(16)  # random, not derived from a delivery: this link is sent by no provider
        request.secret_hash = sha256_hex(nonce)
        log_action(s, approver, "mint approval link", f"statement:{statement.id}",
                   {"request": request.id, "content_hash": hash_now, "expires_at": expires.isoformat()})
        token = f"{nonce}.{link_signature(settings, *token_binding(request), nonce)}"
        return {"url": f"{site(settings)}/approve/{request.id}?t={token}",
                "approver": approver.name, "statement": label(statement), "expires_at": expires.isoformat()}


def request_words(settings: Settings, statement: Statement) -> dict:
    """What every approval request for `statement` says, by email and by text alike."""
    return {"company_name": settings.company_name, "incident_title": statement.incident.title,
            "version": statement.version, "headline": statement.headline, "hours": settings.approval_link_hours}


def link_expiry(settings: Settings) -> datetime:
    """When a request made now stops approving (BROADCASTER_APPROVAL_LINK_HOURS)."""
    return utcnow() + timedelta(hours=settings.approval_link_hours)


def check_may_approve_now(settings: Settings, approver: Actor, statement: Statement) -> str:
    """NotAllowed unless `approver` may approve `statement`'s words as they stand (the role, four eyes,
    not twice); returns their hash, verified."""
    hash_now = decisions.verified_hash(statement)
    approved_by = [a.approver_id for a in decisions.sealed_approvals(settings, statement, hash_now)]
    check_can_approve(approver, statement.contributors, approved_by, hash_now, hash_now)
    return hash_now


def ask_by_link(s, settings: Settings, statement: Statement, user: User, base: dict, expires) -> Sent:
    """Mint an approval link for `user` and add its email to `s`: the request, and what an expired
    link's "Email me a new link" sends again (approvals/renewal.py)."""
    request = _request(s, statement, user, BY_LINK, expires)
    url = f"{site(settings)}/approve/{request.id}?t={TOKEN}"
    fields = email_fields(settings, "_web/approval", {**base, "url": url})
    (delivery,) = add_message(s, settings, MessageKind.APPROVAL_REQUEST, f"statement:{statement.id}", "email",
                              fields, [user.email], expires, token_binding(request))
    found = secrets_of(settings, delivery)
    request.secret_hash = sha256_hex(found.nonce)
    return Sent(user.name, BY_LINK, url.replace(TOKEN, found.token), delivery.provider, delivery.id)


def _ask_by_code(s, settings: Settings, statement: Statement, user: User, base: dict, expires) -> Sent:
    request = _request(s, statement, user, BY_CODE, expires)
    text = environment(settings.templates_dir).get_template("_web/approval/sms.txt").render(**base, code=CODE)
    (delivery,) = add_message(s, settings, MessageKind.APPROVAL_REQUEST, f"statement:{statement.id}", "sms",
                              {"text": text.strip()}, [user.phone], expires, token_binding(request))
    taken = _live_codes(s, user, but=request.id)
    while sha256_hex(code := secrets_of(settings, delivery).code) in taken:  # the code says which statement
        new_nonce(s, delivery)
    request.secret_hash = sha256_hex(code)
    return Sent(user.name, BY_CODE, code, delivery.provider, delivery.id)


def _request(s, statement: Statement, user: User, kind: str, expires) -> ApprovalRequest:
    request = ApprovalRequest(statement_id=statement.id, user_id=user.id, kind=kind, secret_hash="",
                              content_hash=statement.content_hash, expires_at=expires)
    s.add(request)
    s.flush()
    return request


def token_binding(request: ApprovalRequest) -> tuple:
    """What a request's link or code is bound to: its approver and the exact words' hash."""
    return ("approval", request.id, request.user_id, request.content_hash)


def _live_codes(s, user: User, but: int) -> set[str]:
    """The hashes of this approver's other codes still usable: a new code must differ from them all."""
    return set(s.scalars(select(ApprovalRequest.secret_hash).where(
        ApprovalRequest.user_id == user.id, ApprovalRequest.kind == BY_CODE, ApprovalRequest.used_at.is_(None),
        ApprovalRequest.expires_at > utcnow(), ApprovalRequest.id != but)))


def email_fields(settings: Settings, folder: str, context: dict) -> dict[str, str]:
    """An email to one of our own people (subject, text and HTML from the templates in `folder`)."""
    env = environment(settings.templates_dir)
    return {name: env.get_template(f"{folder}/{name}{ext}").render(**context).strip()
            for name, ext in (("subject", ".txt"), ("body_text", ".txt"), ("body_html", ".html"))}


# --- the email link ------------------------------------------------------------------------


def check_link(settings: Settings, request_id: int, token: str) -> dict:
    """Whom the link asks, and for which statement, if it is valid now; NotAllowed saying why if not
    (audited). The page shows the statement's preview beside it."""
    with refusal_audited(settings, "open approval link", f"approval-request:{request_id}"), \
            unit_of_work(settings) as s:
        request = _valid_request(s, settings, request_id, token)
        statement_id, user = request.statement_id, request.user.name
    return {"request_id": request_id, "approver": user, "statement_id": statement_id}


def approve_by_link(settings: Settings, request_id: int, token: str, comment: str = "") -> dict:
    # A refusal of the link is audited here; one of the approval itself by `decisions.approve`.
    with refusal_audited(settings, "approve by link", f"approval-request:{request_id}"), \
            unit_of_work(settings) as s:
        request = _valid_request(s, settings, request_id, token, lock=True)
        actor, statement_id, content_hash = actor_of(request.user), request.statement_id, request.content_hash
        request.used_at = utcnow()  # claimed first: a second click fails even if this approval does
    return decisions.approve(settings, actor, statement_id, content_hash, comment or "approved by email link")


def reject_by_link(settings: Settings, request_id: int, token: str, reason: str) -> dict:
    """Reject from the link's page (a reason is required, so the author can fix it). The link is used
    up only once the rejection went through: a missing reason leaves it usable."""
    if not reason.strip():
        raise InvalidInput("reason: say why, so the author can fix it")
    with refusal_audited(settings, "reject by link", f"approval-request:{request_id}"), \
            unit_of_work(settings) as s:
        request = _valid_request(s, settings, request_id, token, lock=True)
        actor, statement_id = actor_of(request.user), request.statement_id
        request.used_at = utcnow()
    return decisions.reject(settings, actor, statement_id, reason)


def _valid_request(s, settings: Settings, request_id: int, token: str, lock: bool = False) -> ApprovalRequest:
    query = select(ApprovalRequest).where(ApprovalRequest.id == request_id, ApprovalRequest.kind == BY_LINK)
    request = s.scalar(query.with_for_update() if lock else query)
    if request is None or not valid_token(settings, token, request.secret_hash, *token_binding(request)):
        raise LinkNotValid("this approval link is not valid: open the dashboard to approve")
    require_role(actor_of(request.user), "approve")  # the page is not shown to someone who lost the role
    _refuse_stale(request)
    return request


def _refuse_stale(request: ApprovalRequest) -> None:
    if request.used_at is not None:
        raise LinkSpent("this approval link or code has already been used")
    if request.expires_at <= utcnow():
        raise LinkSpent("this approval link or code has expired: open the dashboard to approve")
    statement = request.statement
    if statement.state != State.PENDING_APPROVAL.value or statement.content_hash != request.content_hash:
        newer = statement.replaced_by
        if statement.state == State.WITHDRAWN.value and newer:  # an edit replaced it: say so, not just "withdrawn"
            raise LinkSpent(f"v{statement.version} was replaced by v{newer} before it was approved: nothing to "
                            f"approve with this link. If v{newer} needs you, it sends a request of its own")
        raise LinkSpent(f"v{statement.version} is no longer waiting for approval of these words "
                         f"(it is {statement.state.replace('_', ' ')}): open the dashboard")


# --- the SMS code --------------------------------------------------------------------------


def approve_by_sms(settings: Settings, sender: str | None, code: str, message_sid: str | None) -> tuple[str, dict]:
    """Approve with a code texted from the approver's own number. Returns the reply: the name of its
    template (templates/_web/approval/reply_*.txt) and what it says (when to try again, tries left). A
    known approver's number is told why (a wrong code, too many, a spent code); any other sender only that
    nothing was approved. The reply goes to the sending number, never to whoever spoofed it. Refusals are
    audited."""
    reply: tuple[str, dict] = ("refused", {})
    try:
        remember_inbound(settings, message_sid)
        source = (settings.secret_rate_per_source, "sms-code", f"from:{sender}")
        if over_limit(settings, *source):
            reply = ("too_many", {"retry_at": limit_window(settings, *source)[1]})
            raise NotAllowed(f"too many codes from {sender} (limit {settings.secret_rate_per_source})")
        with unit_of_work(settings) as s:
            user = _approver_with_number(s, sender)
            per_user = (settings.sms_code_rate_per_user, "sms-code", f"user:{user.id}")
            if over_limit(settings, *per_user):
                reply = ("too_many", {"retry_at": limit_window(settings, *per_user)[1], "by_email": bool(user.email)})
                raise NotAllowed(f"too many codes for {user.name} (limit {settings.sms_code_rate_per_user}): "
                                 "wait, or approve on the dashboard")
            request = s.scalar(select(ApprovalRequest).where(
                ApprovalRequest.user_id == user.id, ApprovalRequest.kind == BY_CODE,
                ApprovalRequest.secret_hash == sha256_hex(code)).order_by(ApprovalRequest.id.desc()))
            if request is None:
                tries_left, retry_at = limit_window(settings, *per_user)
                reply = ("wrong_code", {"tries_left": tries_left, "retry_at": retry_at, "by_email": bool(user.email)})
                raise NotAllowed("wrong code")
            reply = ("spent", {"by_email": bool(user.email)})
            _refuse_stale(request)
            reply = ("refused", {})
            request.used_at = utcnow()
            actor, statement_id, content_hash = actor_of(user), request.statement_id, request.content_hash
        decisions.approve(settings, actor, statement_id, content_hash, "approved by SMS")
    except BroadcasterError as exc:  # every refusal, whatever the rule: answered and audited
        with unit_of_work(settings) as s:
            log_action(s, None, "refused: approve by SMS", f"sms:{(message_sid or '?')[:50]}",
                       {"from": sender, "reason": str(exc)})
        return reply
    return "approved", {}


def _approver_with_number(s, sender: str | None) -> User:
    user = user_with_number(s, sender)
    if user is None or Role.APPROVER.value not in user.role_list:
        raise NotAllowed(f"{sender} is not the number of an approver")
    return user
