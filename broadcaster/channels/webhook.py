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
before any request is made (https, and every address its host resolves to public), the one request
goes to the address that was checked (no second lookup to rebind), with a short timeout and no
redirects, and sign-ups are counted per host as well as per URL.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from ..config import Settings
from ..domain.errors import InvalidInput, NotAllowed
from ..render.limits import LimitCheck
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


class SignedWebhook:
    provider = "webhook"
    account = "webhook"  # every receiver is its own server: no shared provider account to pace
    batch_size = 1

    def __init__(self, settings: Settings):
        # No redirects: a signed body must reach the URL the subscriber registered, nowhere else.
        self.client = httpx.Client(timeout=10, follow_redirects=False)

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        results = []
        for target in targets:
            message_id = f"msg_{context.statement_id}_{target.delivery_id}"
            body = json.dumps({**json.loads(fields["body"]), "content_hash": context.content_hash},
                              ensure_ascii=False, separators=(",", ":"))
            headers = signed_headers(target.details.get("webhook_secret"), message_id, body)
            try:
                response = self.client.post(target.address, content=body.encode(), headers=headers)
            except httpx.HTTPError as e:
                raise TransportError(f"webhook {target.address}: {e!r}") from e
            _raise_for_status(response)
            results.append(SendResult(target.delivery_id, "sent", message_id, f"{response.status_code}"))
        return results


def signed_headers(secret: str | None, message_id: str, body: str) -> dict[str, str]:
    if not secret:
        raise TransportError("webhook: the subscriber has no signing secret", permanent=True, code="no-secret")
    now = datetime.now(UTC)
    return {"content-type": "application/json", "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, now, body)}


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"webhook {response.request.url} answered {status}"
    if status == 410:
        raise TransportError(message + ": gone, unsubscribed", permanent=True, code="410", opted_out=True)
    if status == 429:
        raise TransportError(message, code="429", retry_after=retry_after_seconds(response.headers.get("Retry-After")))
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
    points a signed request at a private address by its IP."""
    url = _stripped(value)
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local):
        raise InvalidInput(f"webhook_url: {value!r} must be an https:// URL")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return url
    if not local and (address.is_private or address.is_link_local or address.is_reserved):
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

VERIFY_TIMEOUT_SECONDS = 5.0  # one request; a receiver that cannot answer in 5 s is not waited for


def signup_url(settings: Settings, value: str) -> str:
    """A webhook URL typed on the public form: https, no user name or password, and a host whose
    every address is public (else NotAllowed, audited); checked before any request is made. With
    `webhook_signup_allow_private`, what an operator may add by hand is accepted."""
    if settings.webhook_signup_allow_private:
        url = normalise_url(value)
    else:
        url = _stripped(value)
        if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
            raise InvalidInput(f"webhook_url: {value!r} must be an https:// URL")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("webhook_url: give the URL without a user name or password")
    try:
        port = _port(parts)
    except ValueError:
        raise InvalidInput(f"webhook_url: {value!r} has no valid port") from None
    if not settings.webhook_signup_allow_private:
        public_addresses(settings, parts.hostname, port)
    return url


def public_addresses(settings: Settings, host: str, port: int) -> list[str]:
    """The addresses `host` resolves to; NotAllowed if any of them is not a public one (loopback,
    private, link-local, shared, reserved, multicast), unless private addresses are allowed."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInput(f"webhook_url: the host {host!r} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not settings.webhook_signup_allow_private:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            mapped = getattr(ip, "ipv4_mapped", None)
            if not ip.is_global or ip.is_multicast or (mapped is not None and not mapped.is_global):
                raise NotAllowed(f"webhook_url: {host!r} resolves to {address}, which is not a public address")
    if not addresses:
        raise InvalidInput(f"webhook_url: the host {host!r} has no address")
    return addresses


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def secret_from_token(token: str) -> dict[str, str]:
    """The subscriber's signing secret, derived from its sign-up's token: the verification event is
    signed with it before anyone has seen it, and the secret is shown once the code is confirmed.
    Only the token's hash is stored, so the database alone cannot derive it."""
    digest = hmac.new(token.encode(), b"broadcaster webhook signing secret", hashlib.sha256).digest()
    return {"webhook_secret": "whsec_" + base64.b64encode(digest).decode()}


def send_verification(settings: Settings, confirmation: Confirmation) -> dict:
    """POST the signed verification event, once, to the address that was checked; {"answered": HTTP
    status} for the page. Any answer will do: a receiver that checks signatures cannot check this
    one yet, and the code is in the body it received. No answer at all is InvalidInput."""
    parts = urlsplit(confirmation.address)
    host, port = parts.hostname, _port(parts)
    address = public_addresses(settings, host, port)[0]  # the check again, and this is where we connect
    pinned = urlunsplit((parts.scheme, f"[{address}]:{port}" if ":" in address else f"{address}:{port}",
                         parts.path or "/", parts.query, ""))
    body = json.dumps(json.loads(confirmation.fields["body"]), ensure_ascii=False, separators=(",", ":"))
    message_id = "msg_verify_" + hashlib.sha256(confirmation.token.encode()).hexdigest()[:24]
    headers = signed_headers(secret_from_token(confirmation.token)["webhook_secret"], message_id, body)
    headers["host"] = parts.netloc
    # TLS is checked against the host's name (SNI), not the address we dialled.
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        with httpx.Client(timeout=VERIFY_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
            response = client.post(pinned, content=body.encode(), headers=headers, extensions=extensions)
    except httpx.TimeoutException:
        raise InvalidInput(f"webhook_url: {host} did not answer within {VERIFY_TIMEOUT_SECONDS:.0f} s; "
                           "check the URL and try again") from None
    except httpx.HTTPError as exc:
        raise InvalidInput(f"webhook_url: could not deliver the verification event to {host}: {exc}") from None
    return {"answered": response.status_code}


def _host_key(settings: Settings, url: str) -> tuple[tuple[str, str], ...]:
    return ((settings.webhook_signup_rate_per_host, f"host:{(urlsplit(url).hostname or '').lower()}"),)


SIGNUP = SignUp(by="code", check=signup_url, send=send_verification, rate_keys=_host_key,
                credentials=secret_from_token)

CHANNEL = Channel(
    "webhook", Kind.RECIPIENT, SignedWebhook, address="webhook_url", target_details=("webhook_secret",),
    normalise=normalise_url, new_subscriber=new_secret, limits=check_payload, idempotent=True, signup=SIGNUP,
)
