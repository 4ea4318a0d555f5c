"""Public sign-ups with double opt-in, and one-time links to manage or cancel a subscription.

The form offers every channel that declares a `SignUp` (channels/base.py); nothing here names one.
- `request_signup`: counts the try against the rates per client (across channels and the channel's
  own; an IPv6 client by its /64), then checks the address as the channel says (a webhook URL before
  any request is made), counts it against the sign-up rates per address and the channel's own keys
  (a webhook's domain and server, an SMS number's country, the channel as a whole) with the `limits`
  library, so the form cannot be used to flood someone's inbox, phone or
  server, or to run up an SMS bill; refuses it once the channel has as many self-service
  subscribers as it takes (`SignUp.most`); stores the request and sends the channel's
  confirmation: a link to a confirm page that subscribes only on POST (a mail scanner that
  follows links subscribes nobody), or a one-time code typed back. Only hashes of the token and
  code are stored. Refusals are audited, throttled per client (`usecase.audit_unproven`).
- `confirm_link` / `confirm_code`: create (or renew) the subscriber; a channel's credentials (a
  webhook's signing secret) come back once, for the confirmation page.
- `manage_url` / `manage` : a signed link, valid once (its nonce changes when used), to change the
  components or cancel.
A sign-up has a language: the page's (`/subscribe?lang=es`), one of the installation's. Its
confirmation is worded in it and the subscriber reads their updates in it (`Subscriber.locale`).
Confirmation messages are worded in templates/<channel>/signup/message/ and go through the delivery
engine as messages (logged, retried; the `log` provider without credentials records them with their
secrets hidden), never through the statement fan-out; a channel with a check of its own (a webhook's
verification event) sends its own. What the pages say when they refuse: templates/_web/subscribe/messages.txt.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlencode

from limits import parse
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select

from .. import channels
from ..channels import Channel, Confirmation
from ..config import Settings
from ..delivery.chunk import send_now
from ..delivery.messages import add_message, secrets_of
from ..delivery.records import opt_out
from ..domain.client_address import limit_key
from ..domain.delivery_status import FAILED_FOR_GOOD, DeliveryStatus
from ..domain.errors import InvalidInput, LimitExceeded, NotAllowed, RefusedWithDetail
from ..domain.message_secrets import CODE, TOKEN, MessageKind
from ..render.environment import render_folder, say
from ..render.languages import negotiate
from ..store.access_models import SubscriptionRequest
from ..store.models import AuditEvent, Delivery, Subscriber, utcnow
from ..store.redis_clients import SentinelTarget, limits_storage_for, target_of
from ..usecase import MAX_ID, audit_unproven, log_action, unit_of_work

logger = logging.getLogger("broadcaster.audience.signup")
MAX_CODE_ATTEMPTS = 5
REFUSED = "refused: subscribe"
MESSAGES = "_web/subscribe/messages.txt"


def message(settings: Settings, name: str, **values) -> str:
    """What the subscribe pages say (templates/_web/subscribe/messages.txt)."""
    return say(settings.templates_dir, MESSAGES, name, **values)


@cache
def _limiter(storage: str, target: SentinelTarget | None) -> MovingWindowRateLimiter:
    # `sentinel://...` (with BROADCASTER_REDIS_SENTINEL_MASTER) as well as any `limits` storage URL.
    return MovingWindowRateLimiter(limits_storage_for(storage, target))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode(errors="surrogatepass")).hexdigest()


def signup_channel(settings: Settings, name: str) -> Channel:
    """A channel the form offers, or InvalidInput naming those it does."""
    offered = {ch.name: ch for ch in channels.signup_channels()}
    if name not in offered:
        raise InvalidInput(message(settings, "not_offered", name=name, offered=list(offered)))
    return offered[name]


def request_signup(settings: Settings, channel: str, address: str, components: list[str],
                   now: datetime | None = None, client: str = "", language: str | None = None) -> dict:
    """Check the address, count it (and `client`, the visitor's IP address), store the sign-up and
    send its confirmation in `language` (the page's: the installation's language nearest to it, else
    its default). Returns {"request": token, "by": "link"|"code", "channel", "address", "page": what
    the channel's sent page shows}; the token is what the code form posts back with the code."""
    now = now or utcnow()
    ch = signup_channel(settings, channel)
    locale = signup_language(settings, language)
    try:
        # Every try counts against the client's rates before the address is looked at: a check may
        # resolve a host name, and one refused as not public must still use up the client's tries.
        _count_client(settings, ch, client)
        address = ch.signup.check(settings, address) if ch.signup.check else ch.normalise(address)
        _count(settings, ch, address)
        _require_room(settings, ch)
    except (NotAllowed, LimitExceeded) as exc:
        _audit_refusal(settings, ch, address, exc, client)
        raise
    if ch.signup.send is not None:  # the channel's own check-and-send (a webhook's verification event)
        page = _by_the_channel(settings, ch, address, components, now, client, locale)
        token = page.pop("token")
    else:
        token, page = _through_the_engine(settings, ch, address, components, now, locale)
    return {"request": token, "by": ch.signup.by, "channel": ch.name, "address": address, "page": page}


def signup_language(settings: Settings, asked: str | None) -> str:
    """The installation's language nearest to what a sign-up page was in ('es-MX' → 'es'); the default
    for nothing, or for one the installation does not speak."""
    return negotiate([(asked or "")[:35]], settings.all_locales, settings.default_locale)


def _words(settings: Settings, ch: Channel, address: str, components: list[str], link: str | None,
           code: str | None, locale: str) -> dict[str, str]:
    return render_folder(settings.templates_dir, f"{ch.name}/signup/message", {
        "company_name": settings.company_name, "status_url": settings.status_page_url, "address": address,
        "components": sorted(set(components)), "link": link, "code": code}, locale)


def _link(settings: Settings, token: str) -> str:
    # Tokens are URL-safe as they are (and a marker must stay a marker until it is filled in).
    return f"{settings.status_page_url.rstrip('/')}/subscribe/confirm?token={token}"


def _through_the_engine(settings: Settings, ch: Channel, address: str, components: list[str],
                        now: datetime, locale: str) -> tuple[str, dict]:
    """The confirmation as a message through the delivery engine (logged, retried), sent at once: its
    link's token and its code are derived from the delivery (`domain.message_secrets`), only their hashes
    stored. InvalidInput when the provider refused it for good; one it has not taken yet is retried."""
    expires = now + timedelta(hours=settings.signup_link_hours)
    with unit_of_work(settings) as s:
        request = SubscriptionRequest(channel=ch.name, address=address, components=sorted(set(components)),
                                      token_hash="", created_at=now, expires_at=expires, locale=locale)
        s.add(request)
        s.flush()
        by_link = ch.signup.by == "link"
        fields = _words(settings, ch, address, components, _link(settings, TOKEN) if by_link else None,
                        None if by_link else CODE, locale)
        (delivery,) = add_message(s, settings, MessageKind.SIGNUP_CONFIRMATION, f"signup:{request.id}", ch.name,
                                  fields, [address], expires, ("signup", request.id, ch.name, address), locale)
        found = secrets_of(settings, delivery)
        request.token_hash = _hash(found.token)
        request.code_hash = None if by_link else _hash(f"{found.token}:{found.code}")
        delivery_id = delivery.id
    send_now(settings, [delivery_id])
    with unit_of_work(settings) as s:
        delivery = s.get(Delivery, delivery_id)
        if delivery.status in (*FAILED_FOR_GOOD, DeliveryStatus.CANCELLED):
            logger.warning("could not send the %s confirmation: %s", ch.name, delivery.error_message)
            raise InvalidInput(message(settings, "not_sent", field=ch.address))
        # The `log` provider (no provider set up, or BROADCASTER_SIMULATE) sent nothing, and logged it with
        # its secrets hidden: the page must not say "check your email" (`not_sent`).
        return found.token, {"not_sent": delivery.status == DeliveryStatus.SIMULATED}


def _by_the_channel(settings: Settings, ch: Channel, address: str, components: list[str], now: datetime,
                    client: str, locale: str) -> dict:
    token = secrets.token_urlsafe(24)
    code = f"{secrets.randbelow(10**6):06d}" if ch.signup.by == "code" else None
    link = _link(settings, token) if ch.signup.by == "link" else None
    with unit_of_work(settings) as s:
        s.add(SubscriptionRequest(channel=ch.name, address=address, components=sorted(set(components)),
                                  token_hash=_hash(token), code_hash=_hash(f"{token}:{code}") if code else None,
                                  created_at=now, expires_at=now + timedelta(hours=settings.signup_link_hours),
                                  locale=locale))
    fields = _words(settings, ch, address, components, link, code, locale)
    try:
        page = ch.signup.send(settings, Confirmation(address, fields, token))
    except NotAllowed as exc:  # the address changed between the check and the send (DNS)
        _audit_refusal(settings, ch, address, exc, client)
        raise
    return {**page, "token": token}


def _count_client(settings: Settings, ch: Channel, client: str) -> None:
    """One try from `client` (an IPv6 one by its /64: `limit_key`) against the rate per client across
    channels and the channel's own; LimitExceeded naming the first it is over."""
    key = f"client:{limit_key(client)}"
    own = ch.signup.client_rate(settings)
    _hit(settings, (("client", settings.signup_rate_per_client, "any channel", key),
                    *((("client", own, ch.name, key),) if own else ())))


def _count(settings: Settings, ch: Channel, address: str) -> None:
    """One sign-up of a checked address against the rate per address and the channel's own keys
    (a webhook's domain and server, the channel in all); LimitExceeded naming the first it is over."""
    _hit(settings, (("address", settings.signup_rate, ch.name, _hash(address.lower())),
                    *((key.split(":")[0], rate, ch.name, key) for rate, key in ch.signup.rate_keys(settings, address))))


def _hit(settings: Settings, counted) -> None:
    limiter = _limiter(settings.signup_rate_storage, target_of(settings, settings.signup_rate_storage))
    for what, rate, scope, key in counted:
        if not limiter.hit(parse(rate), "signup", scope, key):
            raise LimitExceeded(message(settings, "too_many", what=what, rate=rate))


def _require_room(settings: Settings, ch: Channel) -> None:
    """LimitExceeded once the channel has as many subscribers from the form as it takes."""
    most = ch.signup.most(settings)
    if most is None:
        return
    column = getattr(Subscriber, ch.address)
    with unit_of_work(settings) as s:
        taken = s.scalar(select(func.count()).select_from(Subscriber).where(
            column.is_not(None), Subscriber.signed_up_at.is_not(None), Subscriber.opted_out_at.is_(None)))
    if taken >= most:
        raise LimitExceeded(message(settings, "full", channel=ch.name))


def _audit_refusal(settings: Settings, ch: Channel, address: str, exc: Exception, client: str | None) -> None:
    # The whole reason: what the form left out for the public (the address a name resolves to) too.
    reason = exc.detail if isinstance(exc, RefusedWithDetail) else str(exc)
    audit_unproven(settings, REFUSED, f"{ch.name}:{_hash(address.strip().lower())[:12]}",
                   {"channel": ch.name, "address": address.strip()[:300], "reason": reason}, client or None)


def confirm_link(settings: Settings, token: str, now: datetime | None = None) -> dict:
    with unit_of_work(settings) as s:
        request = _pending(s, settings, token, now or utcnow())
        if request.code_hash is not None:
            raise NotAllowed(message(settings, "code_not_link"))
        return _subscribe(s, settings, request, token, now or utcnow())


def confirm_code(settings: Settings, token: str, code: str, now: datetime | None = None) -> dict:
    now = now or utcnow()
    with unit_of_work(settings) as s:
        request = _pending(s, settings, token, now)
        if request.attempts >= MAX_CODE_ATTEMPTS:
            raise NotAllowed(message(settings, "too_many_codes"))
        if request.code_hash is None or not hmac.compare_digest(request.code_hash, _hash(f"{token}:{code.strip()}")):
            request.attempts += 1
            s.flush()
            wrong = InvalidInput(message(settings, "wrong_code"))
            if request.attempts >= MAX_CODE_ATTEMPTS:
                log_action(s, None, REFUSED, f"{request.channel}:{_hash(request.address.lower())[:12]}",
                           {"channel": request.channel, "address": request.address[:300],
                            "reason": message(settings, "wrong_codes", most=MAX_CODE_ATTEMPTS)})
        else:
            return _subscribe(s, settings, request, token, now)
    raise wrong


def pending_signup(settings: Settings, token: str) -> dict | None:
    """{"channel", "address"} of a sign-up still waiting for its code (to show its page again)."""
    with unit_of_work(settings) as s:
        row = s.execute(select(SubscriptionRequest.channel, SubscriptionRequest.address)
                        .where(SubscriptionRequest.token_hash == _hash(token or ""),
                               SubscriptionRequest.confirmed_at.is_(None))).first()
    return {"channel": row.channel, "address": row.address} if row else None


def _pending(s, settings: Settings, token: str, now: datetime) -> SubscriptionRequest:
    request = s.scalar(select(SubscriptionRequest).where(SubscriptionRequest.token_hash == _hash(token or ""))
                       .with_for_update())
    if request is None or request.confirmed_at is not None or request.expires_at <= now:
        raise NotAllowed(message(settings, "confirmation_not_valid"))
    return request


def _subscribe(s, settings: Settings, request: SubscriptionRequest, token: str, now: datetime) -> dict:
    ch = channels.channel(request.channel)
    column = ch.address
    subscriber = s.scalar(select(Subscriber).where(getattr(Subscriber, column) == request.address)
                          .order_by(Subscriber.id).limit(1))
    # Credentials derived from the sign-up (a webhook's secret, which signed its verification) win
    # over fresh ones, and replace an earlier subscriber's: whoever confirmed controls the address.
    credentials = ch.signup.credentials(token) if ch.signup and ch.signup.credentials else {}
    if subscriber is None:
        extra = {} if credentials or not ch.new_subscriber else ch.new_subscriber()
        subscriber = Subscriber(**{column: request.address}, locale=settings.default_locale, components=[], **extra)
        s.add(subscriber)
    if request.locale:  # the language of the page they signed up on, the latest sign-up's
        subscriber.locale = request.locale
    for name, value in credentials.items():
        setattr(subscriber, name, value)
    subscriber.components = list(request.components)
    subscriber.opted_out_at = None  # a confirmed sign-up is fresh consent
    subscriber.signed_up_at = now  # from the form: a webhook URL is checked again at every send
    subscriber.manage_nonce = secrets.token_hex(16)
    request.confirmed_at = now
    s.flush()
    s.add(AuditEvent(actor_id=None, action="subscribe", subject=f"subscriber:{subscriber.id}",
                     detail={"channel": request.channel, "components": list(request.components),
                             "credentials": sorted(credentials), "locale": subscriber.locale}, created_at=now))
    return {"subscriber": subscriber.id, "components": list(subscriber.components), "channel": ch.name,
            "credentials": credentials, "manage_url": manage_url(settings, subscriber)}


# --- managing a subscription -------------------------------------------------------------------


def _manage_token(settings: Settings, subscriber_id: int, nonce: str) -> str:
    message = f"manage:{subscriber_id}:{nonce}".encode()  # prefixed: never valid as another link
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def manage_url(settings: Settings, subscriber: Subscriber) -> str:
    token = _manage_token(settings, subscriber.id, subscriber.manage_nonce or "")
    return f"{settings.status_page_url.rstrip('/')}/subscribe/manage?" + urlencode({"s": subscriber.id, "t": token})


def _managed(s, settings: Settings, subscriber_id: int, token: str) -> Subscriber:
    subscriber = s.get(Subscriber, subscriber_id, with_for_update=True) if 1 <= subscriber_id <= MAX_ID else None
    # Bytes: compare_digest refuses a str with characters outside ASCII (a TypeError, not a refusal).
    if (subscriber is None or not subscriber.manage_nonce
            or not hmac.compare_digest(_manage_token(settings, subscriber.id, subscriber.manage_nonce).encode(),
                                       token.encode(errors="surrogatepass"))):
        raise NotAllowed(message(settings, "manage_not_valid"))
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
