"""/api/v1: subscribers, users, tokens, roles and the audit trail (mostly for admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ...audience import subscribers
from ...domain.approval import PERMISSIONS, Actor
from ...people import audit_trail, auth, users
from ..common import settings_of
from .common import Id, Limit, Offset, allowed, caller

Short = Annotated[str, Field(max_length=320)]


class SubscriberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Short | None = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    webhook_url: Annotated[str | None, Field(max_length=2000)] = None
    components: list[Annotated[str, Field(max_length=100)]] = []
    # The language updates are sent in ('es', 'pt-BR'); none: the installation's default.
    locale: Annotated[str | None, Field(max_length=35)] = None


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


subscriber_routes = APIRouter(prefix="/subscribers", tags=["subscribers"])
user_routes = APIRouter(tags=["users and roles"])
audit_routes = APIRouter(tags=["audit"])


@subscriber_routes.get("")
def list_subscribers(request: Request, q: Annotated[str, Query(max_length=320)] = "", limit: Limit = 100,
                     offset: Offset = 0, _: Actor = Depends(allowed("manage subscribers"))) -> dict:
    """A page of subscribers; `q` matches any part of any address."""
    return subscribers.list_subscribers(settings_of(request), q, limit, offset)


@subscriber_routes.post("", status_code=201)
def add_subscriber(request: Request, body: SubscriberIn, actor: Actor = Depends(allowed("manage subscribers"))) -> dict:
    """A webhook subscriber's signing secret is in this answer only."""
    addresses = body.model_dump(exclude={"components", "locale"}, exclude_none=True)
    return subscribers.add_subscriber(settings_of(request), actor, body.components, body.locale, **addresses)


@subscriber_routes.delete("/{subscriber_id}")
def remove_subscriber(request: Request, subscriber_id: Id,
                      actor: Actor = Depends(allowed("manage subscribers"))) -> dict:
    return subscribers.remove_subscriber(settings_of(request), actor, subscriber_id)


@user_routes.get("/me")
def me(actor: Actor = Depends(caller)) -> dict:
    """Who the credentials belong to, and the roles they act in."""
    return {"id": actor.id, "name": actor.name, "roles": sorted(r.value for r in actor.roles)}


@user_routes.get("/roles")
def roles(_: Actor = Depends(allowed("read"))) -> dict:
    """The permission table: each action and the roles that may take it."""
    return {action: sorted(r.value for r in allowed_roles) for action, allowed_roles in PERMISSIONS.items()}


@user_routes.get("/users")
def list_users(request: Request, _: Actor = Depends(allowed("manage users"))) -> list[dict]:
    return users.list_users(settings_of(request))


@user_routes.post("/users", status_code=201)
def add_user(request: Request, body: UserIn, actor: Actor = Depends(allowed("manage users"))) -> dict:
    return users.add_user_with_password(settings_of(request), actor, body.name, body.roles, body.email, body.phone,
                              body.password)


@user_routes.put("/users/{name}/roles")
def set_roles(request: Request, name: Annotated[str, Path(min_length=1, max_length=100)], body: RolesIn,
              actor: Actor = Depends(allowed("manage users"))) -> dict:
    """Replace a user's roles; the last admin stays one. Their tokens lose any role they lose."""
    return users.set_roles(settings_of(request), actor, name, body.roles)


@user_routes.get("/tokens")
def list_tokens(request: Request, _: Actor = Depends(allowed("manage tokens"))) -> list[dict]:
    return auth.list_tokens(settings_of(request))


@user_routes.post("/tokens", status_code=201)
def create_token(request: Request, body: TokenIn, actor: Actor = Depends(allowed("manage tokens"))) -> dict:
    """The token is in this answer only; only its hash is stored."""
    return auth.create_token(settings_of(request), body.user, body.role, actor)


@user_routes.delete("/tokens/{token_id}")
def revoke_token(request: Request, token_id: Id, actor: Actor = Depends(allowed("manage tokens"))) -> dict:
    return auth.revoke_token(settings_of(request), token_id, actor)


@audit_routes.get("/audit")
def read_audit_trail(request: Request, action: Annotated[str | None, Query(max_length=40)] = None,
                actor: Annotated[str | None, Query(max_length=100)] = None, limit: Limit = 100, offset: Offset = 0,
                _: Actor = Depends(allowed("read audit"))) -> dict:
    """Every action, allowed or refused, newest first."""
    return audit_trail.audit_trail(settings_of(request), action, actor, limit, offset)


routes = [subscriber_routes, user_routes, audit_routes]
