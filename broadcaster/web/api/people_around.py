"""/api/v1: stakeholder audiences (who hears the internal rendition) and the agent desk's notes."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ...agents import desk
from ...domain import field_limits as limits
from ...domain.approval import Actor
from ...stakeholders import audiences as service
from ..common import settings_of
from .common import Id, allowed

AudienceName = Annotated[str, Path(min_length=1, max_length=60)]


class AudienceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=60)]
    description: Annotated[str, Field(max_length=500)] = ""
    sends_on: Literal["every", "open_and_resolve"] = "every"  # every version, or the opening and the resolution


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=100)]
    email: Annotated[str | None, Field(max_length=limits.EMAIL)] = None
    phone: Annotated[str | None, Field(max_length=limits.PHONE)] = None


stakeholder_routes = APIRouter(prefix="/stakeholders", tags=["stakeholder audiences"])
agent_routes = APIRouter(prefix="/agent-notes", tags=["agent desk"])


@stakeholder_routes.get("")
def list_audiences(request: Request, _: Actor = Depends(allowed("manage stakeholders"))) -> list[dict]:
    """Every stakeholder audience with its members."""
    return service.list_audiences(settings_of(request))


@stakeholder_routes.post("", status_code=201)
def create_audience(request: Request, body: AudienceIn, actor: Actor = Depends(allowed("manage stakeholders"))) -> dict:
    """Create an audience; `sends_on`: `every` version, or `open_and_resolve`."""
    return service.create_audience(settings_of(request), actor, body.name, body.description, body.sends_on)


@stakeholder_routes.get("/{audience}")
def get_audience(request: Request, audience: AudienceName, _: Actor = Depends(allowed("manage stakeholders"))) -> dict:
    """One audience (by name or id) with its members."""
    return service.get_audience(settings_of(request), audience)


@stakeholder_routes.delete("/{audience}")
def remove_audience(request: Request, audience: AudienceName,
                    actor: Actor = Depends(allowed("manage stakeholders"))) -> dict:
    """Remove an audience and its list (what it was sent stays in the send log)."""
    return service.remove_audience(settings_of(request), actor, audience)


@stakeholder_routes.post("/{audience}/members", status_code=201)
def add_member(request: Request, audience: AudienceName, body: MemberIn,
               actor: Actor = Depends(allowed("manage stakeholders"))) -> dict:
    """Add a person with an email address, a phone number or both."""
    return service.add_member(settings_of(request), actor, audience, body.name, body.email, body.phone)


@stakeholder_routes.delete("/{audience}/members/{name}")
def remove_member(request: Request, audience: AudienceName, name: Annotated[str, Path(max_length=100)],
                  actor: Actor = Depends(allowed("manage stakeholders"))) -> dict:
    """Take a person off an audience."""
    return service.remove_member(settings_of(request), actor, audience, name)


@agent_routes.get("")
def agent_notes(request: Request, lang: Annotated[str, Query(max_length=35)] = "",
                actor: Actor = Depends(allowed("read agent desk"))) -> dict:
    """The live agent notes of every open incident (what the agent desk shows), and a `signature` that
    changes when any of them does."""
    return desk.desk(settings_of(request), actor, lang or None)


@agent_routes.get("/{incident_id}")
def agent_versions(request: Request, incident_id: Id, lang: Annotated[str, Query(max_length=35)] = "",
                   actor: Actor = Depends(allowed("read agent desk"))) -> dict:
    """One incident's agent notes, every version the desk has shown, newest first."""
    return desk.versions(settings_of(request), actor, incident_id, lang or None)


routes = (stakeholder_routes, agent_routes)
