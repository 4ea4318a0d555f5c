"""Messages through the engine: what a capability calls to send its own words (an approval request,
a sign-up confirmation, a holding link, an update reminder) the way a statement's words are sent.

`add_message` stores the rendered words once with their hash and writes one `pending` delivery per
address, in the caller's transaction; the caller hands the ids to its dispatcher after commit. The
engine then claims, checks the hash, fills the secrets in (`batches.words_of`), sends, retries,
reconciles and logs it. `withdraw` voids messages that no longer matter before they went.
"""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..channels import transport_for
from ..config import Settings
from ..domain.hashing import sha256_of
from ..domain.message_secrets import MessageKind, Secrets, secrets_for
from ..store.db import one_of
from ..store.models import Delivery, Message, utcnow
from . import records


def add_message(s: Session, settings: Settings, kind: MessageKind, subject: str, channel: str,
                fields: dict[str, str], addresses: list[str], expires_at: datetime,
                binding: tuple = (), locale: str | None = None) -> list[Delivery]:
    """The message and one pending delivery per address on `channel` (flushed: their ids and nonces
    are set, so the caller can derive their secrets). `binding`: what a link or code in the words is
    bound to (`domain.message_secrets`); empty when the words hold no secret. `locale`: the language
    the words are in, for the send log (None: the installation's default)."""
    message = Message(kind=kind.value, subject=subject[:60], fields=fields, content_hash=sha256_of(fields),
                      binding=[str(part) for part in binding], created_at=utcnow(), expires_at=expires_at)
    s.add(message)
    s.flush()
    provider = transport_for(channel, settings).provider
    ids = records.add_deliveries(s, [{"message_id": message.id, "channel": channel, "target": address,
                                      "provider": provider, "locale": locale} for address in addresses], kind.value)
    return [s.get(Delivery, delivery_id) for delivery_id in ids]


def secrets_of(settings: Settings, delivery: Delivery) -> Secrets:
    """The token and code this delivery's words go out with (what the real provider sends)."""
    return secrets_for(settings.secret_key, delivery.message.binding, delivery.id, delivery.link_nonce)


def new_nonce(s: Session, delivery: Delivery) -> None:
    """A fresh random nonce for a delivery not yet sent: new secrets (e.g. a code that collided)."""
    import secrets

    delivery.link_nonce = secrets.token_hex(16)
    s.flush()


def withdraw(s: Session, message_ids: list[int], why: str) -> int:
    """These messages no longer matter (the statement they ask about was approved meanwhile...):
    never sent from now on. Returns how many deliveries were cancelled."""
    if not message_ids:
        return 0
    s.execute(update(Message).where(one_of(s, Message.id, message_ids), Message.withdrawn_at.is_(None))
              .values(withdrawn_at=utcnow()).execution_options(synchronize_session=False))
    return records.cancel_unsent(s, one_of(s, Delivery.message_id, message_ids), why)
