"""/api/v1: subscribers, users, tokens, roles and the audit trail (mostly for admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...audience import subscribers
from ...domain import field_limits as limits
from ...domain.approval import PERMISSIONS, Actor, Role
from ...domain.contacts import SLACK_USER_ID_PATTERN
from ...domain.field_limits import Line
from ...people import audit_trail, auth, users
from ..common import settings_of
from .common import Id, allowed, caller
from .paging import Page, link_next, page, page_of

Email = Line(limits.EMAIL, 1)
Phone = Line(limits.PHONE, 1)


class SubscriberIn(BaseModel):
    # At least one address; an address not given is left out (not null).
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["email"]}, {"required": ["phone"]}, {"required": ["webhook_url"]}]})
    email: Annotated[Email, Field(json_schema_extra={"format": "email"})] = None
    phone: Annotated[Phone, Field(description="E.164, e.g. +14155550123", json_schema_extra={
        "pattern": r"^\+[1-9][0-9]{7,14}$"})] = None
    webhook_url: Annotated[Line(limits.URL, 1), Field(json_schema_extra={
        "format": "uri", "pattern": r"^https?://[^\s\x00-\x1f\x7f]+$"})] = None
    components: list[Line(limits.NAME)] = Field(default=[], max_length=limits.MOST_ITEMS)
    # The language updates are sent in ('es', 'pt-BR'); none: the installation's default.
    locale: Line(limits.LOCALE) | None = None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Line(limits.NAME, 1)
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    email: Annotated[Email, Field(json_schema_extra={"format": "email"})] = None
    phone: Annotated[Phone, Field(description="E.164, e.g. +14155550123", json_schema_extra={
        "pattern": r"^\+[1-9][0-9]{7,14}$"})] = None
    password: Line(limits.PASSWORD, 12, description="At least 12 characters") = None


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Role] = Field(min_length=1, max_length=len(Role))


class SlackIdIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slack_user_id: Annotated[str, Field(max_length=20, pattern=SLACK_USER_ID_PATTERN)] | None = Field(
        description="The user's Slack member id, e.g. U0123ABCD (Slack: profile, ⋮, Copy member ID); null clears it")


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: Line(limits.NAME, 1)
    role: Role


subscriber_routes = APIRouter(prefix="/subscribers", tags=["subscribers"])
user_routes = APIRouter(tags=["users and roles"])
audit_routes = APIRouter(tags=["audit"])


@subscriber_routes.get("")
def list_subscribers(request: Request, response: Response, q: Annotated[str, Query(max_length=320)] = "",
                     chosen: Page = Depends(page), _: Actor = Depends(allowed("manage subscribers"))) -> dict:
    """A page of subscribers; `q` matches any part of any address."""
    found = subscribers.list_subscribers(settings_of(request), q, chosen.limit, chosen.offset)
    link_next(request, response, found["next_offset"])
    return found


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
def list_users(request: Request, response: Response, chosen: Page = Depends(page),
               _: Actor = Depends(allowed("manage users"))) -> list[dict]:
    return page_of(request, response, users.list_users(settings_of(request)), chosen)


@user_routes.post("/users", status_code=201)
def add_user(request: Request, body: UserIn, actor: Actor = Depends(allowed("manage users"))) -> dict:
    return users.add_user_with_password(settings_of(request), actor, body.name, body.roles, body.email, body.phone,
                              body.password)


@user_routes.put("/users/{name}/roles")
def set_roles(request: Request, name: Annotated[str, Path(min_length=1, max_length=100)], body: RolesIn,
              actor: Actor = Depends(allowed("manage users"))) -> dict:
    """Replace a user's roles; the last admin stays one. Their tokens lose any role they lose."""
    return users.set_roles(settings_of(request), actor, name, body.roles)


@user_routes.put("/users/{name}/slack")
def set_slack_id(request: Request, name: Annotated[str, Path(min_length=1, max_length=100)], body: SlackIdIn,
                 actor: Actor = Depends(allowed("manage users"))) -> dict:
    """Map a user to their Slack member: approval requests reach them as a Slack DM with Approve / Reject
    buttons, and their clicks act as this user. One member, one user."""
    return users.set_slack_id(settings_of(request), actor, name, body.slack_user_id)


@user_routes.get("/tokens")
def list_tokens(request: Request, response: Response, chosen: Page = Depends(page),
                _: Actor = Depends(allowed("manage tokens"))) -> list[dict]:
    return page_of(request, response, auth.list_tokens(settings_of(request)), chosen)


@user_routes.post("/tokens", status_code=201)
def create_token(request: Request, body: TokenIn, actor: Actor = Depends(allowed("manage tokens"))) -> dict:
    """The token is in this answer only; only its hash is stored."""
    return auth.create_token(settings_of(request), body.user, body.role, actor)


@user_routes.delete("/tokens/{token_id}")
def revoke_token(request: Request, token_id: Id, actor: Actor = Depends(allowed("manage tokens"))) -> dict:
    return auth.revoke_token(settings_of(request), token_id, actor)


@audit_routes.get("/audit")
def read_audit_trail(request: Request, response: Response,
                     action: Annotated[str | None, Query(max_length=40)] = None,
                     actor: Annotated[str | None, Query(max_length=100)] = None,
                chosen: Page = Depends(page), _: Actor = Depends(allowed("read audit"))) -> dict:
    """Every action, allowed or refused, newest first."""
    found = audit_trail.audit_trail(settings_of(request), action, actor, chosen.limit, chosen.offset)
    link_next(request, response, found["next_offset"])
    return found


routes = [subscriber_routes, user_routes, audit_routes]
