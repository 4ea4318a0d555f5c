"""What a message's real provider would have carried: the `log` provider records messages with their
secrets hidden, so a test that must follow a link or type a code reads the words as they go out."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from broadcaster.delivery.batches import words_of
from broadcaster.store.db import transaction
from broadcaster.store.models import Delivery


def words_sent_to(settings, address: str) -> str:
    """The newest message to `address` (compared case-insensitively), every field, secrets filled in."""
    with transaction(settings.database_url) as s:
        deliveries = s.scalars(select(Delivery).where(Delivery.message_id.is_not(None))
                               .options(selectinload(Delivery.message)).order_by(Delivery.id.desc())).all()
        delivery = next((d for d in deliveries if d.target.lower() == address.lower()), None)
        if delivery is None:
            return ""
        return "\n".join(words_of(settings, delivery, simulated=False).values())
