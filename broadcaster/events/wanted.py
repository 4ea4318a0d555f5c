"""Which endpoints asked for an event type: the store alone, so that an event no endpoint wants costs
one query and loads nothing of sending (`register_event_hooks` asks this before `endpoints.emit`)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.event_types import EventType
from ..store.event_models import EventEndpoint


def endpoints_wanting(s: Session, event_type: EventType) -> list[EventEndpoint]:
    """The endpoints that asked for `event_type`, oldest first."""
    return [e for e in s.scalars(select(EventEndpoint).order_by(EventEndpoint.id)) if event_type.value in e.event_types]
