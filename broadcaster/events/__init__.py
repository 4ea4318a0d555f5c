"""Events out (issue 25): admin-registered endpoints receive what happens as Standard Webhooks,
delivered through the engine (`endpoints`: the endpoints and the events to them; the table is
`store.event_models.EventEndpoint`, the types `domain.event_types.EventType`).

`register_event_hooks()` is called by whatever assembles a process that raises or sends events: the
worker app, the web app, the CLI, embedded `serve`, the demo. Delivery never imports this package.

Registering loads nothing heavy: `endpoints` (the store, the webhook channel, the broker) is imported
when the first event some endpoint wants (`wanted`) is raised or sent, and by the first use of a name
it exports, so that a CLI process that only reads, or only prints its help, or raises events no
endpoint asked for, does not pay for it."""

from ..domain.event_types import EventType
from ..domain.message_secrets import MessageKind

_ENDPOINTS = ("add_endpoint", "emit", "list_endpoints", "remove_endpoint", "target_details")


def register_event_hooks() -> None:
    from ..delivery.hooks import on_event, on_message_target

    on_event(_emit)
    on_message_target(MessageKind.EVENT.value, _target_details)


def _emit(settings, event_type: EventType, data: dict):
    # Most events of most installations go to no endpoint: asked first, with the store alone, so that
    # a command raising one (open, submit, approve) does not load the webhook channel, its HTTP client
    # and the broker to queue nothing (a third of such a command's start).
    from ..usecase import unit_of_work
    from .wanted import endpoints_wanting

    with unit_of_work(settings) as s:
        if not endpoints_wanting(s, event_type):
            return []
    from .endpoints import emit

    return emit(settings, event_type, data)


def _target_details(settings, delivery) -> dict:
    from .endpoints import target_details

    return target_details(settings, delivery)


def __getattr__(name: str):
    if name in _ENDPOINTS:
        from . import endpoints

        return getattr(endpoints, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["EventType", "add_endpoint", "emit", "list_endpoints", "register_event_hooks", "remove_endpoint"]
