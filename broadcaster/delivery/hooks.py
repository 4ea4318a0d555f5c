"""Events raised by the actions, and what a message's target needs: two small registries a capability
above delivery fills when a process is assembled (`broadcaster.events.register_event_hooks()`: the
worker app, the web app, the CLI, embedded `serve`), never by being imported.

- `raise_event(settings, type, data)`: called by an action **after its transaction committed**; each
  registered hook runs, and a hook that fails is logged, never raised: an event never blocks or undoes
  the action that raised it. With no hook registered it does nothing.
- `on_message_target(kind, details)`: for messages of `kind`, `details(settings, delivery)` gives the
  fields the channel's transport reads from `Target.details` (an event's signing secret and id).
"""

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..domain.event_types import EventType

if TYPE_CHECKING:  # only named: registering a hook (`broadcaster --help` does) loads neither settings nor channels
    from ..config import Settings

logger = logging.getLogger("broadcaster.events")

EventHook = Callable[["Settings", EventType, dict], object]
TargetDetails = Callable[["Settings", object], dict]

_event_hooks: list[EventHook] = []
_target_details: dict[str, TargetDetails] = {}


def on_event(hook: EventHook) -> None:
    """Run `hook(settings, type, data)` for every event raised in this process (once, however often
    it is registered)."""
    if hook not in _event_hooks:
        _event_hooks.append(hook)


def raise_event(settings: "Settings", event_type: EventType, data: dict) -> None:
    for hook in tuple(_event_hooks):
        try:
            hook(settings, event_type, data)
        except Exception:  # an event is never worth failing the action that raised it
            logger.exception("event %s not queued", event_type)


def on_message_target(kind: str, details: TargetDetails) -> None:
    _target_details[kind] = details


def message_target_details(settings: "Settings", delivery) -> dict:
    lookup = _target_details.get(delivery.message.kind)
    return lookup(settings, delivery) if lookup else {}


def statement_event(view: dict) -> dict:
    """What a statement event carries: which statement, where it stands and the hash of its words."""
    return {"statement": {k: view.get(k) for k in ("id", "incident_id", "version", "state", "content_hash")}}


def agent_notes_event(statement) -> dict:
    """What `agent_notes.published` carries: the version's live agent notes as approved (each field of
    the agent rendition, the answers as a list), in its own language and in each translation, with the
    incident, the version and the content hash that covers them."""
    def notes(rendition) -> dict:
        fields = dict(rendition.fields)
        fields["answers"] = json.loads(fields.get("answers") or "[]")
        return fields

    from ..channels.agent import NAME as AGENT_NOTES

    own = next((r for r in statement.renditions if r.channel == AGENT_NOTES), None)
    return {"incident": {"id": statement.incident_id, "title": statement.incident.title},
            "statement": {"id": statement.id, "version": statement.version, "status": statement.status,
                          "content_hash": statement.content_hash, "language": statement.language},
            "notes": notes(own) if own else {},
            "translations": {r.locale: notes(r) for r in statement.translated_renditions if r.channel == AGENT_NOTES}}
