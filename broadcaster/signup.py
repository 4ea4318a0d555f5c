"""Public sign-ups with double opt-in, and one-time links to manage or cancel a subscription.

- `request_signup`: an email address gets a link to a confirm page that subscribes only on POST
  (a mail scanner that follows links subscribes nobody); a phone number gets a six-digit code.
  Sign-ups are rate-limited per address with the `limits` library, so the form cannot be used to
  flood someone's inbox or phone. Only hashes of the link token and code are stored.
- `confirm_link` / `confirm_code`: create (or renew) the subscriber.
- `manage_url` / `manage` : a signed link, valid once (its nonce changes when used), to change the
  components or cancel.
Confirmation messages go through the channel's transport: the `log` provider without credentials.
"""

import hashlib
import hmac
import html
import json
import logging
import secrets
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlencode

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select

from . import channels
from .channels import SendContext, Target, transport_for
from .config import Settings
from .contacts import normalise_email, normalise_phone
from .delivery.records import opt_out
from .domain.errors import InvalidInput, LimitExceeded, NotAllowed
from .store.models import AuditEvent, Subscriber, SubscriptionRequest, utcnow
from .usecase import unit_of_work

logger = logging.getLogger("broadcaster.signup")
MAX_CODE_ATTEMPTS = 5
KINDS = {"email": "email", "phone": "sms"}  # the form's field → the channel that confirms it


@cache
def _limiter(storage: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(storage))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise(settings: Settings, kind: str, address: str) -> str:
    if kind == "email":
        return normalise_email(address)
    if kind == "phone":
        return normalise_phone(address, default_region=settings.default_phone_region)
    raise InvalidInput(f"subscribe: {kind!r} is not one of email, phone")


def request_signup(settings: Settings, kind: str, address: str, components: list[str],
                   now: datetime | None = None) -> dict:
    """Store the sign-up and send its confirmation; returns {"request": token, "by": "link"|"code"}.
    The token is what the SMS code form posts back with the code."""
    now = now or utcnow()
    address = normalise(settings, kind, address)
    if not _limiter(settings.signup_rate_storage).hit(parse(settings.signup_rate), "signup", _hash(address.lower())):
        raise LimitExceeded(f"too many sign-ups for this address (at most {settings.signup_rate}): try later")
    token = secrets.token_urlsafe(24)
    code = f"{secrets.randbelow(10**6):06d}" if kind == "phone" else None
    with unit_of_work(settings) as s:
        s.add(SubscriptionRequest(channel=KINDS[kind], address=address, components=sorted(set(components)),
                                  token_hash=_hash(token), code_hash=_hash(f"{token}:{code}") if code else None,
                                  created_at=now, expires_at=now + timedelta(hours=settings.signup_link_hours)))
    if code:
        _send(settings, "sms", address, f"{settings.company_name} status: your code is {code}. "
                                        "If you did not ask for updates, ignore this text.")
        return {"request": token, "by": "code"}
    link = f"{settings.status_page_url.rstrip('/')}/subscribe/confirm?" + urlencode({"token": token})
    _send(settings, "email", address, f"Confirm that you want status updates from {settings.company_name}: "
                                      f"{link}\nIf you did not ask, ignore this email: nothing happens.",
          subject=f"Confirm your {settings.company_name} status updates")
    return {"request": token, "by": "link"}


def confirm_link(settings: Settings, token: str, now: datetime | None = None) -> dict:
    with unit_of_work(settings) as s:
        request = _pending(s, token, now or utcnow())
        if request.code_hash is not None:
            raise NotAllowed("this sign-up is confirmed with the code we texted, not a link")
        return _subscribe(s, settings, request, now or utcnow())


def confirm_code(settings: Settings, token: str, code: str, now: datetime | None = None) -> dict:
    now = now or utcnow()
    with unit_of_work(settings) as s:
        request = _pending(s, token, now)
        if request.attempts >= MAX_CODE_ATTEMPTS:
            raise NotAllowed("too many wrong codes: sign up again for a new one")
        if request.code_hash is None or not hmac.compare_digest(request.code_hash, _hash(f"{token}:{code.strip()}")):
            request.attempts += 1
            s.flush()
            wrong = InvalidInput("code: that is not the code we texted; check it and try again")
        else:
            return _subscribe(s, settings, request, now)
    raise wrong


def _pending(s, token: str, now: datetime) -> SubscriptionRequest:
    request = s.scalar(select(SubscriptionRequest).where(SubscriptionRequest.token_hash == _hash(token or ""))
                       .with_for_update())
    if request is None or request.confirmed_at is not None or request.expires_at <= now:
        raise NotAllowed("this confirmation link is not valid (used, expired or mistyped): sign up again")
    return request


def _subscribe(s, settings: Settings, request: SubscriptionRequest, now: datetime) -> dict:
    column = channels.channel(request.channel).address
    subscriber = s.scalar(select(Subscriber).where(getattr(Subscriber, column) == request.address))
    if subscriber is None:
        extra = channels.channel(request.channel).new_subscriber
        subscriber = Subscriber(**{column: request.address}, locale="en", components=[], **(extra() if extra else {}))
        s.add(subscriber)
    subscriber.components = list(request.components)
    subscriber.opted_out_at = None  # a confirmed sign-up is fresh consent
    subscriber.manage_nonce = secrets.token_hex(16)
    request.confirmed_at = now
    s.flush()
    s.add(AuditEvent(actor_id=None, action="subscribe", subject=f"subscriber:{subscriber.id}",
                     detail={"channel": request.channel, "components": list(request.components)}, created_at=now))
    return {"subscriber": subscriber.id, "components": list(subscriber.components),
            "manage_url": manage_url(settings, subscriber)}


# --- managing a subscription -------------------------------------------------------------------


def _manage_token(settings: Settings, subscriber_id: int, nonce: str) -> str:
    message = f"manage:{subscriber_id}:{nonce}".encode()  # prefixed: never valid as another link
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def manage_url(settings: Settings, subscriber: Subscriber) -> str:
    token = _manage_token(settings, subscriber.id, subscriber.manage_nonce or "")
    return f"{settings.status_page_url.rstrip('/')}/subscribe/manage?" + urlencode({"s": subscriber.id, "t": token})


def _managed(s, settings: Settings, subscriber_id: int, token: str) -> Subscriber:
    subscriber = s.get(Subscriber, subscriber_id, with_for_update=True)
    if (subscriber is None or not subscriber.manage_nonce
            or not hmac.compare_digest(_manage_token(settings, subscriber.id, subscriber.manage_nonce), token)):
        raise NotAllowed("this link is not valid (already used, or mistyped): use the newest link we sent")
    return subscriber


def show_subscription(settings: Settings, subscriber_id: int, token: str) -> dict:
    with unit_of_work(settings) as s:
        subscriber = _managed(s, settings, subscriber_id, token)
        return {"components": list(subscriber.components), "active": subscriber.opted_out_at is None}


def manage(settings: Settings, subscriber_id: int, token: str, cancel: bool, components: list[str]) -> dict:
    """Change the components, or cancel. The link is spent: a new one comes back (not for a cancel)."""
    with unit_of_work(settings) as s:
        subscriber = _managed(s, settings, subscriber_id, token)
        if cancel:
            opt_out(s, subscriber, "manage link")
            subscriber.manage_nonce = None
            return {"cancelled": True}
        subscriber.components = sorted(set(components))
        subscriber.manage_nonce = secrets.token_hex(16)
        s.add(AuditEvent(actor_id=None, action="change subscription", subject=f"subscriber:{subscriber.id}",
                         detail={"components": subscriber.components}, created_at=utcnow()))
        return {"cancelled": False, "components": subscriber.components,
                "manage_url": manage_url(settings, subscriber)}


def _send(settings: Settings, channel: str, address: str, text: str, subject: str = "") -> None:
    """A confirmation is not an approved statement: it goes straight to the channel's transport
    (the `log` provider without credentials), never through the statement fan-out."""
    fields = {"text": text, "subject": subject or text[:70], "body_text": text,
              "body_html": f"<p>{html.escape(text)}</p>", "body": json.dumps({"text": text})}
    try:
        transport_for(channel, settings).notify(fields, [Target(0, address)], SendContext(0, 0, 0))
    except Exception:  # noqa: BLE001 - the sign-up is stored; they can ask again
        logger.exception("could not send the %s confirmation", channel)
        raise
