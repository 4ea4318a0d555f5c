"""Links we give providers and customers, per delivery: unsubscribe and status callbacks."""

import hashlib
import hmac

from .config import Settings


def unsubscribe_token(settings: Settings, delivery_id: int) -> str:
    """The token of one delivery's unsubscribe link. The message is prefixed so the same secret
    can sign other links (approval links) without one ever being valid as the other."""
    digest = hmac.new(settings.secret_key.encode(), f"unsubscribe:{int(delivery_id)}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def unsubscribe_url(settings: Settings, delivery_id: int) -> str | None:
    if not settings.public_url:
        return None
    token = unsubscribe_token(settings, delivery_id)
    return f"{settings.public_url.rstrip('/')}/unsubscribe?d={delivery_id}&t={token}"


def status_callback_url(settings: Settings, delivery_id: int) -> str | None:
    """Carries the delivery id: a receipt can arrive before the worker has stored Twilio's sid."""
    if not settings.public_url:
        return None
    return f"{settings.public_url.rstrip('/')}/webhooks/twilio/status?d={delivery_id}"
