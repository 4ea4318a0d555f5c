"""Unsubscribe links (RFC 8058 one-click): each email's link is signed per delivery, and using it
opts the subscriber out: publish never targets them again, and their unsent deliveries are cancelled.
"""

import hmac
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..config import Settings
from ..delivery.links import unsubscribe_token
from ..delivery.records import opt_out, subscriber_of
from ..domain.errors import NotAllowed, NotFound
from ..store.db import transaction
from ..store.models import Delivery


@dataclass
class Unsubscribed:
    subscriber_id: int | None  # None: that subscriber no longer exists
    address: str
    already: bool  # they had opted out before


def check_unsubscribe_link(settings: Settings, delivery_id, token: str | None) -> int:
    """The delivery id of a genuine link; NotAllowed for anything else (a forged or cut-off link,
    or one for a delivery that does not exist: a stranger learns nothing from the answer)."""
    with transaction(settings.database_url) as s:
        return _genuine_link(s, settings, delivery_id, token).id


def _genuine_link(s: Session, settings: Settings, delivery_id, token: str | None) -> Delivery:
    try:
        delivery_id = int(delivery_id)
    except (TypeError, ValueError):
        raise NotAllowed("unsubscribe link is not valid") from None
    delivery = s.get(Delivery, delivery_id) if 1 <= delivery_id < 2**63 else None
    if delivery is None or not token or not hmac.compare_digest(  # bytes: a str must be ASCII
            unsubscribe_token(settings, delivery.id, delivery.link_nonce).encode(), str(token).encode()):
        raise NotAllowed("unsubscribe link is not valid")
    return delivery


def token_of_delivery(settings: Settings, delivery_id: int) -> str:
    """The token in a delivery's unsubscribe link (its nonce is in the database)."""
    with transaction(settings.database_url) as s:
        delivery = s.get(Delivery, delivery_id)
        if delivery is None:
            raise NotFound(f"delivery {delivery_id} does not exist")
        return unsubscribe_token(settings, delivery.id, delivery.link_nonce)


def unsubscribe(settings: Settings, delivery_id, token: str | None) -> Unsubscribed:
    """Opt out the recipient of the delivery whose link this is. Bad token → NotAllowed."""
    with transaction(settings.database_url) as s:
        delivery = _genuine_link(s, settings, delivery_id, token)
        subscriber = subscriber_of(s, delivery)
        if subscriber is None:
            return Unsubscribed(None, delivery.target, already=True)
        already = subscriber.opted_out_at is not None
        opt_out(s, subscriber, f"unsubscribe link of delivery {delivery.id}")
        return Unsubscribed(subscriber.id, delivery.target, already)
