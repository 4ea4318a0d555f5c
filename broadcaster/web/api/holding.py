"""/api/v1/holding: holding statements kept ready, switched on in an outage, and their standing
emailed links."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain import field_limits as limits
from ...domain.approval import Actor
from ...domain.field_limits import Line
from ...holding import emailed_links, holding_statements
from ..common import settings_of
from .common import Id, allowed
from .paging import Page, page, page_of


class KeepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statement_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


holding_routes = APIRouter(prefix="/holding", tags=["holding statements"])


@holding_routes.get("")
def list_holding(request: Request, response: Response, chosen: Page = Depends(page),
                 _: Actor = Depends(allowed("read"))) -> list[dict]:
    """Approved statements kept ready for an outage, by number (the n in `HOLD n <pin>`)."""
    return page_of(request, response, holding_statements.ready(settings_of(request)), chosen)


@holding_routes.post("", status_code=201)
def keep_holding(request: Request, body: KeepIn, actor: Actor = Depends(allowed("keep holding"))) -> dict:
    """Keep it ready; everyone who may switch it on (with an email address and a PIN) is emailed
    a standing link to its confirm page (`links` says who, and who not and why)."""
    settings = settings_of(request)
    kept = holding_statements.keep(settings, actor, body.statement_id)
    return {**kept, "links": emailed_links.summary(emailed_links.send_links(settings, actor, kept["number"]))}


@holding_routes.post("/{number}/activate", status_code=202)
def activate_holding(request: Request, number: Id, actor: Actor = Depends(allowed("activate holding"))) -> dict:
    """Switch it on: published on every channel at once (enqueued, as publish)."""
    return holding_statements.activate(settings_of(request), actor, number, request.app.state.dispatch, via="API")


class LinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[Line(limits.NAME, 1)] = Field(
        default=[], max_length=limits.MOST_ITEMS,
        description="Whom to send a fresh link; empty: everyone who may switch it on")


@holding_routes.get("/{number}/links")
def holding_links_list(request: Request, response: Response, number: Id, chosen: Page = Depends(page),
                       _: Actor = Depends(allowed("activate holding"))) -> list[dict]:
    """The standing emailed links of this holding statement: who, where, until when, their email's provider
    and their state (valid, used, revoked, expired, `not sent`: its email failed, `unconfirmed`: the
    provider did not answer)."""
    return page_of(request, response, emailed_links.list_links(settings_of(request), [number]), chosen)


@holding_routes.post("/{number}/links", status_code=201)
def holding_links_send(request: Request, number: Id, body: LinksIn = Body(default_factory=LinksIn),
                       actor: Actor = Depends(allowed("activate holding"))) -> dict:
    """Email fresh links; each revokes that person's older one once the provider has taken its email (a
    failed email leaves them the link they had). `sent` names only those whose email went (`provider`
    `log`: logged, not sent); `skipped` who got none, and why. The links are never in the answer."""
    result = emailed_links.send_links(settings_of(request), actor, number, body.users or None)
    return emailed_links.summary(result)


@holding_routes.delete("/{number}/links")
def holding_links_revoke(request: Request, number: Id, actor: Actor = Depends(allowed("activate holding"))) -> dict:
    return emailed_links.revoke_links(settings_of(request), actor, number)


routes = [holding_routes]
