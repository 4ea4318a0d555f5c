"""Events out: endpoints an admin registers receive what happens as Standard Webhooks.

An action raises an event after its transaction committed (`delivery.hooks.raise_event`); `emit`
writes one message of kind `event` per endpoint that asked for that type, and one pending delivery
on the webhook channel to its URL, and hands them to the engine after commit: retried, logged and
visible in `broadcaster log` like any send, never sent in the action's own thread. The delivery is
signed with the endpoint's secret; its `webhook-id` is the event's id for that endpoint, the same
on every attempt, so a receiver deduplicates on it.

The signing secret is not stored: it is derived under the secret key from the endpoint's id and a
random nonce, shown once when the endpoint is added, and derived again at each send.
"""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ..channels.webhook import normalise_url
from ..config import Settings
from ..delivery import enqueue as broker
from ..delivery import messages
from ..delivery.dispatch import Dispatch
from ..domain.approval import Actor
from ..domain.errors import InvalidInput
from ..domain.event_types import CHOSEN_ONLY, EventType
from ..domain.message_secrets import MessageKind
from ..store.event_models import EventEndpoint
from ..usecase import acting, get, log_action, unit_of_work
from .wanted import endpoints_wanting

MAX_ENDPOINTS = 50
MAX_DESCRIPTION = 200
KEEP_TRYING = timedelta(days=3)  # an event not delivered by then is no longer worth sending
ACTION = "manage event endpoints"


def add_endpoint(settings: Settings, actor: Actor, *, url: str, event_types: list[str] | None = None,
                 description: str = "") -> dict:
    """A new endpoint for `event_types` (when none are given, every type but the agent notes, which are
    internal and sent only where chosen); its view with the signing secret, shown this once."""
    try:
        url = normalise_url(url)  # the webhook channel's check: https (http only to this machine), no private IP
    except InvalidInput as exc:
        raise InvalidInput(str(exc).replace("webhook_url:", "url:", 1)) from None
    types = event_types_of(event_types)
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description: {len(description)} characters; at most {MAX_DESCRIPTION}")
    with acting(settings, actor, ACTION, "event endpoints") as s:
        if len(s.scalars(select(EventEndpoint.id)).all()) >= MAX_ENDPOINTS:
            raise InvalidInput(f"there are {MAX_ENDPOINTS} event endpoints already; remove one first")
        endpoint = EventEndpoint(url=url, event_types=types, nonce=secrets.token_hex(16), description=description,
                                 created_by_id=actor.id)
        s.add(endpoint)
        s.flush()
        log_action(s, actor, "add event endpoint", f"event-endpoint:{endpoint.id}", {"url": url, "types": types})
        return {**view(endpoint), "secret": signing_secret(settings, endpoint)}


def list_endpoints(settings: Settings, actor: Actor) -> list[dict]:
    with acting(settings, actor, ACTION, "event endpoints") as s:
        return [view(e) for e in s.scalars(select(EventEndpoint).order_by(EventEndpoint.id))]


def remove_endpoint(settings: Settings, actor: Actor, *, endpoint_id: int) -> dict:
    """The endpoint receives nothing more (events already queued to it still go)."""
    with acting(settings, actor, ACTION, f"event-endpoint:{endpoint_id}") as s:
        endpoint = get(s, EventEndpoint, endpoint_id)
        removed = view(endpoint)
        s.delete(endpoint)
        log_action(s, actor, "remove event endpoint", f"event-endpoint:{endpoint_id}", {"url": endpoint.url})
        return removed


def event_types_of(values: list[str] | None) -> list[str]:
    """The types named, in the vocabulary's order; none named: every type but the internal ones
    (`CHOSEN_ONLY`: the agent notes), which an endpoint receives only by naming them."""
    if not values:
        return [t.value for t in EventType if t not in CHOSEN_ONLY]
    known = {t.value for t in EventType}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise InvalidInput(f"event type: {unknown[0]!r} is not one of {', '.join(sorted(known))}")
    order = [t.value for t in EventType]
    return sorted(set(values), key=order.index)


def view(endpoint: EventEndpoint) -> dict:
    return {"id": endpoint.id, "url": endpoint.url, "event_types": list(endpoint.event_types),
            "description": endpoint.description, "created_at": endpoint.created_at.isoformat()}


def signing_secret(settings: Settings, endpoint: EventEndpoint) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"event endpoint:{endpoint.id}:{endpoint.nonce}".encode(),
                      hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


def emit(settings: Settings, event_type: EventType, data: dict, dispatch: Dispatch | None = None) -> list[int]:
    """Queue `event_type` with `data` to every endpoint that asked for it; the delivery ids."""
    now = datetime.now(UTC)
    event_id = "evt_" + secrets.token_hex(12)
    with unit_of_work(settings) as s:
        endpoints = endpoints_wanting(s, event_type)
        ids = []
        for endpoint in endpoints:
            payload = {"type": event_type.value, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
            fields = {"body": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                      "webhook_id": f"{event_id}_{endpoint.id}"}
            (delivery,) = messages.add_message(s, settings, MessageKind.EVENT, event_type.value, "webhook", fields,
                                               [endpoint.url], now + KEEP_TRYING,
                                               binding=("event", endpoint.id, endpoint.nonce))
            ids.append(delivery.id)
    if ids:
        (dispatch or broker.enqueue)(settings, ids)
    return ids


def target_details(settings: Settings, delivery) -> dict:
    """What the webhook transport signs an event's delivery with: the endpoint's secret and the event's id.
    An endpoint removed meanwhile has no secret: the send fails as permanent (`no-secret`)."""
    message = delivery.message
    with unit_of_work(settings) as s:
        endpoint = s.get(EventEndpoint, int(message.binding[1]))
        # The endpoint the event was queued to, not a later one that reuses its id (SQLite reuses ids).
        same = endpoint is not None and endpoint.nonce == message.binding[2]
        secret = signing_secret(settings, endpoint) if same else None
    return {"webhook_secret": secret, "webhook_id": message.fields.get("webhook_id")}
