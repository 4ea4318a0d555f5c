"""Signed webhooks out: each published version is POSTed as JSON to the subscriber's URL,
signed per the Standard Webhooks specification with that subscriber's own secret.

The receiver verifies ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` with
any Standard Webhooks library (README, "Receiving webhooks"). The ``webhook-id`` is the same
for every attempt of one delivery, so a receiver that de-duplicates on it (as the spec asks)
sees a resend as the same message: resending an unsure outcome is harmless. A ``410 Gone``
unsubscribes the URL.
"""

import base64
import ipaddress
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from ..config import Settings
from ..domain.errors import InvalidInput
from ..render.limits import LimitCheck
from .base import Channel, Kind, SendContext, SendResult, Target, TransportError, retry_after_seconds

MAX_PAYLOAD_BYTES = 64 * 1024


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
    url = value.strip()
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


def new_secret() -> dict[str, str]:
    """A Standard Webhooks secret for a new subscriber: "whsec_" and 32 random bytes, base64."""
    return {"webhook_secret": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()}


CHANNEL = Channel(
    "webhook", Kind.RECIPIENT, SignedWebhook, address="webhook_url", target_details=("webhook_secret",),
    normalise=normalise_url, new_subscriber=new_secret, limits=check_payload, idempotent=True,
)
