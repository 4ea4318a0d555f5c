"""/api/v1: subscribers, users, tokens, roles and the audit trail (mostly for admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from .. import auth, directory, people
from ..domain.approval import PERMISSIONS, Actor
from .api import allowed, caller, settings_of

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Short = Annotated[str, Field(max_length=320)]


class SubscriberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Short | None = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    webhook_url: Annotated[str | None, Field(max_length=2000)] = None
    components: list[Annotated[str, Field(max_length=100)]] = []


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=100)]
    roles: list[Annotated[str, Field(max_length=20)]]
    email: Short | None = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    password: Annotated[str | None, Field(max_length=500)] = None


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Annotated[str, Field(max_length=20)]] = Field(max_length=10)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: Annotated[str, Field(min_length=1, max_length=100)]
    role: Annotated[str, Field(max_length=20)]


subscribers = APIRouter(prefix="/subscribers", tags=["subscribers"])
users = APIRouter(tags=["users and roles"])
trail = APIRouter(tags=["audit"])


@subscribers.get("")
def list_subscribers(request: Request, q: Annotated[str, Query(max_length=320)] = "", limit: Limit = 100,
                     offset: Offset = 0, _: Actor = Depends(allowed("manage subscribers"))) -> dict:
    """A page of subscribers; `q` matches any part of any address."""
    return directory.list_subscribers(settings_of(request), q, limit, offset)


@subscribers.post("", status_code=201)
def add_subscriber(request: Request, body: SubscriberIn, actor: Actor = Depends(allowed("manage subscribers"))) -> dict:
    """A webhook subscriber's signing secret is in this answer only."""
    addresses = body.model_dump(exclude={"components"}, exclude_none=True)
    return directory.add_subscriber(settings_of(request), actor, body.components, addresses)


@subscribers.delete("/{subscriber_id}")
def remove_subscriber(request: Request, subscriber_id: Id,
                      actor: Actor = Depends(allowed("manage subscribers"))) -> dict:
    return directory.remove_subscriber(settings_of(request), actor, subscriber_id)


@users.get("/me")
def me(actor: Actor = Depends(caller)) -> dict:
    """Who the credentials belong to, and the roles they act in."""
    return {"id": actor.id, "name": actor.name, "roles": sorted(r.value for r in actor.roles)}


@users.get("/roles")
def roles(_: Actor = Depends(allowed("read"))) -> dict:
    """The permission table: each action and the roles that may take it."""
    return {action: sorted(r.value for r in allowed_roles) for action, allowed_roles in PERMISSIONS.items()}


@users.get("/users")
def list_users(request: Request, _: Actor = Depends(allowed("manage users"))) -> list[dict]:
    return people.list_users(settings_of(request))


@users.post("/users", status_code=201)
def add_user(request: Request, body: UserIn, actor: Actor = Depends(allowed("manage users"))) -> dict:
    return directory.add_user(settings_of(request), actor, body.name, body.roles, body.email, body.phone,
                              body.password)


@users.put("/users/{name}/roles")
def set_roles(request: Request, name: Annotated[str, Path(min_length=1, max_length=100)], body: RolesIn,
              actor: Actor = Depends(allowed("manage users"))) -> dict:
    """Replace a user's roles; the last admin stays one. Their tokens lose any role they lose."""
    return people.set_roles(settings_of(request), actor, name, body.roles)


@users.get("/tokens")
def list_tokens(request: Request, _: Actor = Depends(allowed("manage tokens"))) -> list[dict]:
    return auth.list_tokens(settings_of(request))


@users.post("/tokens", status_code=201)
def create_token(request: Request, body: TokenIn, actor: Actor = Depends(allowed("manage tokens"))) -> dict:
    """The token is in this answer only; only its hash is stored."""
    return auth.create_token(settings_of(request), body.user, body.role, actor)


@users.delete("/tokens/{token_id}")
def revoke_token(request: Request, token_id: Id, actor: Actor = Depends(allowed("manage tokens"))) -> dict:
    return auth.revoke_token(settings_of(request), token_id, actor)


@trail.get("/audit")
def audit_trail(request: Request, action: Annotated[str | None, Query(max_length=40)] = None,
                actor: Annotated[str | None, Query(max_length=100)] = None, limit: Limit = 100, offset: Offset = 0,
                _: Actor = Depends(allowed("read audit"))) -> dict:
    """Every action, allowed or refused, newest first."""
    return directory.audit_trail(settings_of(request), action, actor, limit, offset)


routers = [subscribers, users, trail]
