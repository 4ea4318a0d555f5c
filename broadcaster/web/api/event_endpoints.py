"""/api/v1/event-endpoints: where events are sent (an admin's: each endpoint gets a signing secret,
shown once). The events themselves are described in docs/guides/api.md, "Events out"."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ... import events
from ...domain import field_limits as limits
from ...domain.approval import Actor
from ...domain.event_types import EventType
from ...domain.field_limits import Line
from ..common import settings_of
from .common import Id, allowed
from .paging import Page, page, page_of

ACTION = "manage event endpoints"


class EventEndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[Line(limits.URL, 1), Field(description="https:// (http:// only to this machine)", json_schema_extra={
        "format": "uri", "pattern": r"^https?://[^\s\x00-\x1f\x7f]+$"})]
    event_types: list[EventType] = Field(default=[], max_length=len(EventType),
                                         description="The types it receives; none: every type but "
                                                     "`agent_notes.published` (internal: sent only where named)")
    description: Line(200) = ""


event_routes = APIRouter(prefix="/event-endpoints", tags=["events"])


@event_routes.get("")
def list_event_endpoints(request: Request, response: Response, chosen: Page = Depends(page),
                         actor: Actor = Depends(allowed(ACTION))) -> list[dict]:
    """Each endpoint, the event types it receives (never its secret)."""
    return page_of(request, response, events.list_endpoints(settings_of(request), actor), chosen)


@event_routes.post("", status_code=201)
def add_event_endpoint(request: Request, body: EventEndpointIn, actor: Actor = Depends(allowed(ACTION))) -> dict:
    """The endpoint's Standard Webhooks signing secret (`secret`) is in this answer only."""
    return events.add_endpoint(settings_of(request), actor, url=body.url,
                               event_types=[t.value for t in body.event_types], description=body.description)


@event_routes.delete("/{endpoint_id}")
def remove_event_endpoint(request: Request, endpoint_id: Id, actor: Actor = Depends(allowed(ACTION))) -> dict:
    """It receives nothing more; events already queued to it still go."""
    return events.remove_endpoint(settings_of(request), actor, endpoint_id=endpoint_id)


routes = [event_routes]
