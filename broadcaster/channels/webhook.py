"""Signed webhooks out: each published version is POSTed as JSON to the subscriber's URL,
signed per the Standard Webhooks specification with that subscriber's own secret.

The receiver verifies ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` with
any Standard Webhooks library (README, "Receiving webhooks"). The ``webhook-id`` is the same
for every attempt of one delivery, so a receiver that de-duplicates on it (as the spec asks)
sees a resend as the same message: resending an unsure outcome is harmless. A ``410 Gone``
unsubscribes the URL.

The public subscribe form takes a webhook URL too, with a double opt-in that proves the person
typing it can read what the URL receives: one signed verification event carrying a one-time code,
typed back on the form (see `SIGNUP`). Anyone on the internet can type a URL, so it is checked
before any request is made (https on port 443 or 8443, and every address its host resolves to
public, the IPv4 inside NAT64 and 6to4 addresses too); the DNS lookup and then the one request
each take at most `webhook_signup_seconds` by the wall clock (5 s by default), the request dials
an address the check saw (its answer is kept a minute: no second lookup to rebind), reads the
status line and never the body, follows no redirects; sign-ups are counted per URL, domain,
server address, client and in all. At every send of a statement, a URL from the form is checked
again and pinned the same way (see `SignedWebhook`).
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..domain.errors import InvalidInput, RefusedWithDetail
from ..domain.message_secrets import MessageKind
from ..render.environment import say
from ..render.limits import LimitCheck
from . import _outbound
from .base import (
    Channel,
    Confirmation,
    Kind,
    SendContext,
    SendResult,
    SignUp,
    Target,
    TransportError,
    retry_after_seconds,
)

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_URL_LENGTH = 2000  # what subscribers.webhook_url holds
logger = logging.getLogger("broadcaster.webhook")


class SignedWebhook:
    """Each POST dials an address checked just now (every address of a URL from the public form must
    be public, unless `webhook_signup_allow_private`; an operator's URL is trusted as given), within
    one wall-clock deadline (`webhook_send_seconds`), and reads the status line only (`_outbound`).
    A receiver that is slow, drips, streams or moves to an inside address costs one send thread
    that long at most, and waits for its next attempt in its row, never in a send thread."""

    provider = "webhook"
    account = "webhook"  # every receiver is its own server: no shared provider account to pace
    batch_size = 1

    def __init__(self, settings: Settings):
        self.settings = settings
        self.tls = _outbound.tls_context()  # no redirects are followed: httpcore follows none

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            # An event carries its own id (one per event and endpoint) and its payload as it is.
            message_id = target.details.get("webhook_id") or f"msg_{context.statement_id}_{target.delivery_id}"
            payload = json.loads(fields["body"])
            if context.kind != MessageKind.EVENT:
                payload["content_hash"] = context.content_hash
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            headers = signed_headers(target.details.get("webhook_secret"), message_id, body)
            answer = self._post(target, body.encode(), headers)
            _raise_for_status(target.address, answer)
            results.append(SendResult(target.delivery_id, DeliveryStatus.SENT, message_id, f"{answer.status}"))
        return results

    def _post(self, target: Target, body: bytes, headers: dict[str, str]) -> _outbound.Answer:
        settings, url = self.settings, target.address
        checked = target.details.get("signed_up_at") is not None and not settings.webhook_signup_allow_private
        deadline = _outbound.Deadline(settings.webhook_send_seconds)
        # Past the quick-retry limit: a receiver that failed this way waits in its row, not in a send thread.
        later = max(settings.backoff_base_seconds, settings.quick_retry_max_wait_seconds + 1)
        try:
            to = _outbound.destination(url)
            if checked and to.port not in settings.webhook_signup_ports:
                raise TransportError(f"webhook {url}: port {to.port} is not one of {settings.webhook_signup_ports}",
                                     permanent=True, code="port")
            addresses = (_outbound.public_addresses if checked else _outbound.resolve)(to.host, to.port, deadline)
            return _outbound.post(to, addresses, body, headers, deadline, self.tls)
        except ValueError as exc:
            raise TransportError(f"webhook {url}: {exc}", permanent=True, code="bad-url") from None
        except _outbound.NotPublic as exc:
            logger.warning("webhook %s not sent: %s", url, exc)
            raise TransportError(f"webhook {url}: {exc}: not sent", permanent=True, code="not-public") from None
        except _outbound.NoAnswer as exc:
            raise TransportError(f"webhook {url}: {exc}", code="timeout", retry_after=later) from None
        except _outbound.OutboundError as exc:
            raise TransportError(f"webhook {url}: {exc}", code="no-connection", retry_after=later) from None


def signed_headers(secret: str | None, message_id: str, body: str) -> dict[str, str]:
    if not secret:
        raise TransportError("webhook: the subscriber has no signing secret", permanent=True, code="no-secret")
    now = datetime.now(UTC)
    return {"content-type": "application/json", "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, now, body)}


def _raise_for_status(url: str, answer: "_outbound.Answer") -> None:
    status = answer.status
    if 200 <= status < 300:
        return
    message = f"webhook {url} answered {status}"
    if status == 410:
        raise TransportError(message + ": gone, unsubscribed", permanent=True, code="410", opted_out=True)
    if status == 429:
        raise TransportError(message, code="429", retry_after=retry_after_seconds(answer.headers.get("retry-after")))
    # Other 4xx: the receiver refuses this message and will refuse it again (3xx: we do not follow).
    raise TransportError(message, permanent=status < 500, code=str(status))


def check_payload(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    try:
        json.loads(fields["body"])
        invalid = 0
    except ValueError:
        invalid = 1
    yield LimitCheck("webhook", "invalid JSON", invalid, 0, "documents", "templates/webhook/body.json")
    yield LimitCheck("webhook", "payload size", len(fields["body"].encode()), MAX_PAYLOAD_BYTES, "bytes")


def normalise_url(value: str) -> str:
    """An https URL (http only to this machine, for a receiver under test), never one that
    points a signed request at a private address by its IP. What an operator adds (the CLI, the
    API): a name resolving to an inside address is theirs to choose."""
    url = _stripped(value)
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local):
        raise InvalidInput(f"webhook_url: {value!r} must be an https:// URL")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return url
    if not local and _outbound.not_public(str(address)):
        raise InvalidInput(f"webhook_url: {value!r} points at a private address")
    return url


def _stripped(value: str) -> str:
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"webhook_url: the URL is {len(url)} characters long; at most {MAX_URL_LENGTH}")
    return url


def new_secret() -> dict[str, str]:
    """A Standard Webhooks secret for a new subscriber: "whsec_" and 32 random bytes, base64."""
    return {"webhook_secret": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()}


# --- sign-up from the public form ------------------------------------------------------------

MESSAGES = "webhook/signup/messages.txt"  # what the form says, worded there
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
CHECKED_SECONDS = 60.0  # how long a sign-up step reuses the check's DNS answer
_checked: dict[tuple[str, int], tuple[list[str], float]] = {}
_checked_lock = threading.Lock()


def _say(settings: Settings, message: str, **values) -> str:
    return say(settings.templates_dir, MESSAGES, message, **values)


def signup_url(settings: Settings, value: str) -> str:
    """A webhook URL typed on the public form: https on an allowed port (`webhook_signup_ports`), no
    user name or password, a host that IDNA can encode, and whose every address is public (else
    NotAllowed, audited); checked before any request is made, the DNS lookup within
    `webhook_signup_seconds`. With `webhook_signup_allow_private`, what an operator may add by hand
    is accepted, on any port."""
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(_say(settings, "too_long", length=len(url), most=MAX_URL_LENGTH))
    if settings.webhook_signup_allow_private:
        url = normalise_url(url)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or (
            parts.scheme == "http" and not (settings.webhook_signup_allow_private and parts.hostname in LOCAL_NAMES)):
        raise InvalidInput(_say(settings, "not_https", value=value))
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(_say(settings, "credentials"))
    try:
        to = _outbound.destination(url)
    except ValueError as exc:
        raise InvalidInput(_say(settings, "bad_url", value=value, problem=str(exc))) from None
    if not settings.webhook_signup_allow_private and to.port not in settings.webhook_signup_ports:
        raise InvalidInput(_say(settings, "port", value=value, port=to.port, ports=settings.webhook_signup_ports))
    checked_addresses(settings, to)
    return url


def checked_addresses(settings: Settings, to: "_outbound.Destination") -> list[str]:
    """The host's addresses, every one public (unless private ones are allowed). The answer is kept
    for `CHECKED_SECONDS`, so the sign-up's rate keys and its one request use what the check saw:
    the name is resolved once per sign-up, and the request dials an address that was checked."""
    key, now = (to.host, to.port), time.monotonic()
    with _checked_lock:
        kept = _checked.get(key)
        if kept and kept[1] > now:
            return kept[0]
    deadline = _outbound.Deadline(settings.webhook_signup_seconds)
    try:
        if settings.webhook_signup_allow_private:
            addresses = _outbound.resolve(to.host, to.port, deadline)
        else:
            addresses = _outbound.public_addresses(to.host, to.port, deadline)
    except _outbound.NotPublic as exc:
        # The form says that much only: naming the address would map the private network behind a name
        # (`postgres`, `redis`) for anyone; the audit trail, read by an operator, keeps it.
        raise RefusedWithDetail(_say(settings, "not_public", host=exc.host),
                                _say(settings, "not_public_detail", host=exc.host, address=exc.address)) from None
    except _outbound.Unresolved as exc:
        # The same words as for a private name: "does not resolve" beside "not public" would tell anyone
        # which names exist inside (`vault`, `postgres`). The audit trail keeps which it was.
        raise RefusedWithDetail(_say(settings, "not_public", host=to.host),
                                _say(settings, "unresolved", problem=str(exc))) from None
    with _checked_lock:
        for stale in [k for k, (_, until) in _checked.items() if until <= now]:
            del _checked[stale]
        _checked[key] = (addresses, now + CHECKED_SECONDS)
    return addresses


def secret_from_token(token: str) -> dict[str, str]:
    """The subscriber's signing secret, derived from its sign-up's token: the verification event is
    signed with it before anyone has seen it, and the secret is shown once the code is confirmed.
    Only the token's hash is stored, so the database alone cannot derive it."""
    digest = hmac.new(token.encode(), b"broadcaster webhook signing secret", hashlib.sha256).digest()
    return {"webhook_secret": "whsec_" + base64.b64encode(digest).decode()}


def send_verification(settings: Settings, confirmation: Confirmation) -> dict:
    """POST the signed verification event, once, to an address the check saw, within
    `webhook_signup_seconds` (wall clock), reading the status line only; {"answered": HTTP status}
    for the page. Any answer will do: a receiver that checks signatures cannot check this one yet,
    and the code is in the body it received. No answer at all is InvalidInput."""
    to = _outbound.destination(confirmation.address)
    addresses = checked_addresses(settings, to)
    body = json.dumps(json.loads(confirmation.fields["body"]), ensure_ascii=False, separators=(",", ":"))
    message_id = "msg_verify_" + hashlib.sha256(confirmation.token.encode()).hexdigest()[:24]
    headers = signed_headers(secret_from_token(confirmation.token)["webhook_secret"], message_id, body)
    deadline = _outbound.Deadline(settings.webhook_signup_seconds)
    try:
        answer = _outbound.post(to, addresses, body.encode(), headers, deadline, _outbound.tls_context())
    except _outbound.OutboundError as exc:
        if exc.timed_out:
            raise InvalidInput(_say(settings, "no_answer", host=to.host, seconds=settings.webhook_signup_seconds)) \
                from None
        raise InvalidInput(_say(settings, "not_delivered", host=to.host, problem=str(exc))) from None
    return {"answered": answer.status}


def rate_keys(settings: Settings, url: str) -> tuple[tuple[str, str], ...]:
    """Besides the URL itself: its domain (`example.com.`, `EXAMPLE.com` and `a1.example.com` count
    as one), the address the request would dial (wildcard DNS names on one server count as one),
    and every webhook sign-up together. (Per client: `client_rate`, counted before the check.)"""
    to = _outbound.destination(url)
    server = checked_addresses(settings, to)[0]
    return ((settings.webhook_signup_rate_per_host, f"host:{registrable_domain(to.host)}"),
            (settings.webhook_signup_rate_per_server, f"server:{server}"),
            (settings.webhook_signup_rate, "all:webhook"))


def client_rate(settings: Settings) -> str:
    return settings.webhook_signup_rate_per_client


# Second-level labels under which a country's registrants get names (example.co.uk, example.com.au):
# a short list, not the Public Suffix List; the per-server key counts what it misses.
SECOND_LEVEL = {"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "nic", "ltd", "plc"}


def registrable_domain(host: str) -> str:
    """The name a registrant controls, roughly: the last two labels, three when the second-to-last
    is a country's second level (co.uk); an IP address as itself. Lower case, no trailing dot."""
    name = host.strip(".").lower()
    try:
        return str(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        pass
    labels = name.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def most_from_the_form(settings: Settings) -> int:
    """Most webhook subscribers the public form may have confirmed (`webhook_signup_max_subscribers`)."""
    return settings.webhook_signup_max_subscribers


SIGNUP = SignUp(by="code", check=signup_url, send=send_verification, rate_keys=rate_keys, client_rate=client_rate,
                credentials=secret_from_token, most=most_from_the_form)

CHANNEL = Channel(
    "webhook", Kind.RECIPIENT, SignedWebhook, address="webhook_url",
    target_details=("webhook_secret", "signed_up_at"), normalise=normalise_url, new_subscriber=new_secret,
    limits=check_payload, idempotent=True, signup=SIGNUP,
)
