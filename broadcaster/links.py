"""Links we give providers and customers, per delivery: unsubscribe and status callbacks."""

import hashlib
import hmac

from .config import Settings


def unsubscribe_token(settings: Settings, delivery_id: int, nonce: str | None) -> str:
    """The token of one delivery's unsubscribe link: an HMAC under the secret key over the
    delivery id and the random nonce stored with that delivery, so knowing one link (or that ids
    are sequential) forges no other. The message is prefixed so the same secret can sign other
    things (approval seals) without one ever being valid as the other."""
    message = f"unsubscribe:{int(delivery_id)}:{nonce or ''}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


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
