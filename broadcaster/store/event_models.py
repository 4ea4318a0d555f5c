"""The events-out table (broadcaster.events): the endpoints an admin registered to receive events."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .orm import Base, utcnow


class EventEndpoint(Base):
    """A URL that receives the event types it asked for as Standard Webhooks. Its signing secret is
    not stored: it is derived from the secret key and `nonce` (shown once when the endpoint is added)."""

    __tablename__ = "event_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list] = mapped_column(JSON)
    nonce: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
