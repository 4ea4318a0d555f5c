"""Events out (issue 25): admin-registered endpoints receive what happens as Standard Webhooks,
delivered through the engine (`endpoints`: the endpoints and the events to them; the table is
`store.event_models.EventEndpoint`, the types `domain.event_types.EventType`).

`register_event_hooks()` is called by whatever assembles a process that raises or sends events: the
worker app, the web app, the CLI, embedded `serve`, the demo. Delivery never imports this package."""

from ..delivery.hooks import on_event, on_message_target
from ..domain.event_types import EventType
from ..domain.message_secrets import MessageKind
from .endpoints import add_endpoint, emit, list_endpoints, remove_endpoint, target_details


def register_event_hooks() -> None:
    on_event(emit)
    on_message_target(MessageKind.EVENT.value, target_details)


__all__ = ["EventType", "add_endpoint", "emit", "list_endpoints", "register_event_hooks", "remove_endpoint"]
