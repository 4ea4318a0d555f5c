"""What a message's real provider would have carried: the `log` provider records messages with their
secrets hidden, so a test that must follow a link or type a code reads the words as they go out."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from broadcaster.delivery.batches import words_of
from broadcaster.delivery.messages import secrets_of
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery


def words_sent_to(settings, address: str) -> str:
    """The newest message to `address` (compared case-insensitively), every field, secrets filled in."""
    with transaction(settings.database_url) as s:
        delivery = _newest_to(s, address)
        return "\n".join(words_of(settings, delivery, simulated=False).values()) if delivery else ""


def token_sent_to(settings, address: str) -> str:
    """The token of the newest message to `address`: a sign-up's request, which a code page posts back with
    the code (the page asks for no code when nothing was sent, as with the `log` provider)."""
    with transaction(settings.database_url) as s:
        return secrets_of(settings, _newest_to(s, address)).token


def _newest_to(s, address: str) -> Delivery | None:
    deliveries = s.scalars(select(Delivery).where(Delivery.message_id.is_not(None))
                           .options(selectinload(Delivery.message)).order_by(Delivery.id.desc())).all()
    return next((d for d in deliveries if d.target.lower() == address.lower()), None)
