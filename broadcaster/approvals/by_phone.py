"""Approval from a phone: on submit, each approver gets an email with a link to a confirm page and
an SMS with a short code to reply with.

A link or code is bound to one approver, one statement and the content hash it had when sent;
it is single-use and expires (BROADCASTER_APPROVAL_LINK_HOURS, 2 h by default). An edit makes a
new version (the old one withdrawn, its hash gone), so every link and code for it is void. The
link opens a page; only its POST approves, because mail scanners open every link. Links carry
an HMAC under BROADCASTER_SECRET_KEY, and only the SHA-256 of their nonce is stored; codes are
digits only (carriers treat words like STOP as opt-outs), also stored hashed, and are accepted
only from the approver's own number, in a Twilio-signed request whose MessageSid is new.

The messages go out through the email and SMS channels' transports: the `log` provider when no
credentials are set, which records them (an emailed link without its secret) and sends nothing.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from .. import channels
from ..channels.base import SendContext, Target, TransportError
from ..channels.log import LogTransport
from ..config import Settings
from ..delivery.links import link_signature, site, valid_token
from ..delivery.receipts import remember_inbound
from ..domain.approval import Role, require_role
from ..domain.errors import BroadcasterError, NotAllowed
from ..domain.hashing import sha256_hex
from ..domain.lifecycle import State
from ..people.auth import actor_of
from ..people.users import user_with_number
from ..render.environment import environment
from ..store.access_models import ApprovalRequest
from ..store.models import Statement, User, utcnow
from ..usecase import get, log_action, refusal_audited, unit_of_work
from . import decisions

logger = logging.getLogger("broadcaster.approval")
CODE_DIGITS = 6
# ApprovalRequest.kind: an emailed link, or a texted code; the stored values name the channel that carries each.
BY_LINK, BY_CODE = "email", "sms"
LOG_PROVIDER = LogTransport.provider  # records what it would send, and sends nothing


@dataclass(frozen=True)
class Sent:
    """What one approver was sent (returned to the caller for tests; never over HTTP)."""
    user: str
    kind: str  # email | sms
    secret: str  # the link's URL, or the code
    provider: str


def notify_approvers(settings: Settings, statement_id: int) -> list[Sent]:
    """Email a link and text a code to every approver who may approve this version."""
    requests = _create_requests(settings, statement_id)
    sent = []
    for user, kind, secret, context in requests:
        try:
            provider = _send(settings, kind, user, context)
        except (TransportError, BroadcasterError) as exc:  # one approver's outage must not stop the others
            logger.warning("approval %s to %s not sent: %s", kind, user["name"], exc)
            continue
        sent.append(Sent(user["name"], kind, secret, provider))
    return sent


def _create_requests(settings: Settings, statement_id: int) -> list[tuple[dict, str, str, dict]]:
    expires = utcnow() + timedelta(hours=settings.approval_link_hours)
    out = []
    with unit_of_work(settings) as s:
        statement = get(s, Statement, statement_id)
        if statement.state != State.PENDING_APPROVAL.value or not statement.content_hash:
            return []
        base = {"company_name": settings.company_name, "incident_title": statement.incident.title,
                "version": statement.version, "headline": statement.headline, "hours": settings.approval_link_hours}
        for user in s.scalars(select(User).where(User.id != statement.author_id).order_by(User.id)):
            if Role.APPROVER.value not in user.role_list:
                continue
            who = {"name": user.name, "email": user.email, "phone": user.phone}
            if user.email:
                nonce = secrets.token_urlsafe(24)
                request = _request(s, statement, user, BY_LINK, nonce, expires)
                url = f"{site(settings)}/approve/{request.id}?t={nonce}.{_signature(settings, request, nonce)}"
                out.append((who, BY_LINK, url, {**base, "url": url}))
            if user.phone:
                code = _fresh_code(s, user)
                _request(s, statement, user, BY_CODE, code, expires)
                out.append((who, BY_CODE, code, {**base, "code": code}))
            log_action(s, None, "request approval", f"statement:{statement.id}",
                       {"approver": user.name,
                        "by": [k for k, v in ((BY_LINK, user.email), (BY_CODE, user.phone)) if v]})
    return out


def _request(s, statement: Statement, user: User, kind: str, secret: str, expires) -> ApprovalRequest:
    request = ApprovalRequest(statement_id=statement.id, user_id=user.id, kind=kind, secret_hash=sha256_hex(secret),
                              content_hash=statement.content_hash, expires_at=expires)
    s.add(request)
    s.flush()
    return request


def _fresh_code(s, user: User) -> str:
    """Digits only, unique among this approver's live codes (the code says which statement)."""
    live = set(s.scalars(select(ApprovalRequest.secret_hash).where(
        ApprovalRequest.user_id == user.id, ApprovalRequest.kind == BY_CODE, ApprovalRequest.used_at.is_(None),
        ApprovalRequest.expires_at > utcnow())))
    while True:
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        if sha256_hex(code) not in live:
            return code


def _signature(settings: Settings, request: ApprovalRequest, nonce: str) -> str:
    return link_signature(settings, "approval", request.id, request.user_id, request.content_hash, nonce)


def _send(settings: Settings, kind: str, user: dict, context: dict) -> str:
    if kind == BY_LINK:
        return send_email(settings, "_web/approval", user["email"], context)
    env = environment(settings.templates_dir)
    fields = {"text": env.get_template("_web/approval/sms.txt").render(**context).strip()}
    transport = channels.transport_for("sms", settings)
    transport.notify(fields, [Target(delivery_id=0, address=user["phone"])], SendContext(0, 0, context["version"]))
    return transport.provider


def send_email(settings: Settings, folder: str, address: str, context: dict) -> str:
    """One email to one of our own users (subject, text and HTML from `folder`), through the email
    channel's transport: the `log` provider without credentials (or with BROADCASTER_SIMULATE), which
    sends nothing and keeps the email in the server's log, so there the link's secret is hidden
    (`?t=[hidden]`): reading the log approves and switches on nothing. Returns the provider's name."""
    transport = channels.transport_for("email", settings)
    if transport.provider == LOG_PROVIDER and "url" in context:
        context = {**context, "url": context["url"].split("?t=")[0] + "?t=[hidden]"}
    env = environment(settings.templates_dir)
    fields = {name: env.get_template(f"{folder}/{name}{ext}").render(**context).strip()
              for name, ext in (("subject", ".txt"), ("body_text", ".txt"), ("body_html", ".html"))}
    transport.notify(fields, [Target(delivery_id=0, address=address)], SendContext(0, 0, context["version"]))
    return transport.provider


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


def _valid_request(s, settings: Settings, request_id: int, token: str, lock: bool = False) -> ApprovalRequest:
    query = select(ApprovalRequest).where(ApprovalRequest.id == request_id, ApprovalRequest.kind == BY_LINK)
    request = s.scalar(query.with_for_update() if lock else query)
    if request is None or not valid_token(settings, token, request.secret_hash, "approval", request.id,
                                          request.user_id, request.content_hash):
        raise NotAllowed("this approval link is not valid: open the dashboard to approve")
    require_role(actor_of(request.user), "approve")  # the page is not shown to someone who lost the role
    _refuse_stale(request)
    return request


def _refuse_stale(request: ApprovalRequest) -> None:
    if request.used_at is not None:
        raise NotAllowed("this approval link or code has already been used")
    if request.expires_at <= utcnow():
        raise NotAllowed("this approval link or code has expired: open the dashboard to approve")
    statement = request.statement
    if statement.state != State.PENDING_APPROVAL.value or statement.content_hash != request.content_hash:
        raise NotAllowed(f"v{statement.version} is no longer waiting for approval of these words "
                         f"(it is {statement.state.replace('_', ' ')}): open the dashboard")


# --- the SMS code --------------------------------------------------------------------------


def approve_by_sms(settings: Settings, sender: str | None, code: str, message_sid: str | None) -> str:
    """Approve with a code texted from the approver's own number; returns the outcome as one of
    the reply templates' names (templates/_web/approval/reply_*.txt). Refusals are audited."""
    try:
        remember_inbound(settings, message_sid)
        with unit_of_work(settings) as s:
            user = _approver_with_number(s, sender)
            request = s.scalar(select(ApprovalRequest).where(
                ApprovalRequest.user_id == user.id, ApprovalRequest.kind == BY_CODE,
                ApprovalRequest.secret_hash == sha256_hex(code)).order_by(ApprovalRequest.id.desc()))
            if request is None:
                raise NotAllowed("wrong code")
            _refuse_stale(request)
            request.used_at = utcnow()
            actor, statement_id, content_hash = actor_of(user), request.statement_id, request.content_hash
        decisions.approve(settings, actor, statement_id, content_hash, "approved by SMS")
    except BroadcasterError as exc:  # every refusal, whatever the rule: answered and audited
        with unit_of_work(settings) as s:
            log_action(s, None, "refused: approve by SMS", f"sms:{(message_sid or '?')[:50]}",
                       {"from": sender, "reason": str(exc)})
        return "refused"
    return "approved"


def _approver_with_number(s, sender: str | None) -> User:
    user = user_with_number(s, sender)
    if user is None or Role.APPROVER.value not in user.role_list:
        raise NotAllowed(f"{sender} is not the number of an approver")
    return user
