"""Links we give people and providers: signed links bound to what they may do (approval and
holding links), and per delivery the unsubscribe and status callback links."""

import hashlib
import hmac
from functools import lru_cache

from .. import channels
from ..config import Settings
from ..domain.errors import InvalidInput
from ..domain.hashing import sha256_hex


def unsubscribe_token(settings: Settings, delivery_id: int, nonce: str | None) -> str:
    """The token of one delivery's unsubscribe link: an HMAC under the secret key over the
    delivery id and the random nonce stored with that delivery, so knowing one link (or that ids
    are sequential) forges no other. The message is prefixed so the same secret can sign other
    things (approval seals) without one ever being valid as the other."""
    mac = _keyed(settings.secret_key).copy()
    mac.update(f"unsubscribe:{int(delivery_id)}:{nonce or ''}".encode())
    return mac.hexdigest()[:32]


@lru_cache(maxsize=4)
def _keyed(secret_key: str) -> hmac.HMAC:
    # Keyed once, copied per link: a fan-out signs a link for every email and SMS it sends.
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


def unsubscribe_url(settings: Settings, delivery_id: int, nonce: str | None) -> str | None:
    if not settings.public_url:
        return None
    token = unsubscribe_token(settings, delivery_id, nonce)
    return f"{settings.public_url.rstrip('/')}/unsubscribe?d={delivery_id}&t={token}"


def status_callback_url(settings: Settings, delivery_id: int) -> str | None:
    """Carries the delivery id: a receipt can arrive before the worker has stored Twilio's sid."""
    if not settings.public_url:
        return None
    return f"{settings.public_url.rstrip('/')}/webhooks/twilio/status?d={delivery_id}"


# Without BROADCASTER_PUBLIC_URL links name this machine's `broadcaster serve`: right on a laptop
# on the `log` provider, and only there (`require_public_url`).
LOCAL_SITE = "http://127.0.0.1:8080"
# Channels whose real provider carries links to this server, and why each needs its address.
NEEDS_PUBLIC_URL = (("email", "email (SendGrid) needs it for the unsubscribe link in every message and the links "
                              "emailed to approvers"),
                    ("sms", "SMS (Twilio) needs it for delivery receipts, the phone line and call-backs"))


def site(settings: Settings) -> str:
    return (settings.public_url or LOCAL_SITE).rstrip("/")


def require_public_url(settings: Settings, what: str) -> None:
    """One policy for a missing BROADCASTER_PUBLIC_URL: a process that will send refuses to start when
    a configured provider would carry links to this server, saying which and why; on the `log`
    provider (nothing leaves the machine) links name this machine's `serve`."""
    if settings.public_url or settings.simulate:
        return
    needs = [why for name, why in NEEDS_PUBLIC_URL if channels.channel(name).configured(settings)]
    if needs:
        raise InvalidInput(f"{what}: BROADCASTER_PUBLIC_URL is not set: {'; '.join(needs)}. Set it to the address "
                           "providers and people reach this server at, e.g. https://broadcaster.example.com")


def link_signature(settings: Settings, *parts) -> str:
    """HMAC under the secret key (never in the database) over what a link is bound to."""
    message = ":".join(str(part) for part in parts)
    return hmac.new(settings.secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]


def valid_token(settings: Settings, token: str, secret_hash: str, *bound) -> bool:
    """A link's `t`: the nonce whose SHA-256 is stored, and the signature over what it is bound to.
    Compared as bytes: `compare_digest` raises on a str that is not ASCII (an edited link)."""
    nonce, _, signature = token.partition(".")
    return bool(nonce) and hmac.compare_digest(sha256_hex(nonce).encode(), secret_hash.encode()) \
        and hmac.compare_digest(signature.encode(), link_signature(settings, *bound, nonce).encode())
