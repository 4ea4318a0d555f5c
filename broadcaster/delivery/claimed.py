"""A claimed delivery as a send sees it: the row's columns a send reads, with its statement or
message loaded, as plain attributes.

Not the ORM entity: a claim turns a chunk's thousand rows into these, and building a thousand
entities (identity map, instance state, every column's result processor) was a third of a claim's
CPU, on the path every one of a fan-out's messages takes. Nothing here is written back through
the ORM: `records.record` moves the row by its id and claim token."""

from dataclasses import dataclass

from ..store.models import Delivery, Message, Statement

COLUMNS = ("id", "statement_id", "message_id", "channel", "target", "provider", "status", "attempts",
           "provider_message_id", "claim_token", "link_nonce", "locale", "follow_up")


@dataclass(eq=False)
class ClaimedDelivery:
    id: int
    statement_id: int | None
    message_id: int | None
    channel: str
    target: str
    provider: str
    status: str
    attempts: int
    provider_message_id: str | None
    claim_token: str | None
    link_nonce: str | None
    locale: str | None
    follow_up: bool
    statement: Statement | None = None
    message: Message | None = None


def returned_columns():
    """The columns an UPDATE ... RETURNING gives back for a `ClaimedDelivery` each, in its fields' order."""
    table = Delivery.__table__
    return [table.c[name] for name in COLUMNS]
