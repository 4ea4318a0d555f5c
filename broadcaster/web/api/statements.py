"""/api/v1: incidents, statements and their lifecycle (draft, edit, preview, submit, approve, reject,
withdraw, publish). Each route is one use case; `publish` enqueues and answers 202 at once."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ...approvals import decisions
from ...domain.approval import Actor
from ...domain.errors import NotFound
from ...incidents import drafting, publishing, statements
from ...incidents.statements import StatementInput
from ..common import settings_of
from .common import Id, allowed

Text = Annotated[str, Field(max_length=5000)]


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Field(min_length=1, max_length=200)]
    impact: Annotated[str, Field(max_length=20)]
    components: list[Annotated[str, Field(max_length=100)]] = []


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_hash: Annotated[str, Field(min_length=8, max_length=64,
                                       description="The hash you saw in the preview (at least 8 characters)")]
    comment: Text = ""


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=5000)]




class PreviewIn(StatementInput):
    incident_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    statement_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None


incident_routes = APIRouter(prefix="/incidents", tags=["incidents"])
statement_routes = APIRouter(tags=["statements"])


@incident_routes.get("")
def list_incidents(request: Request, _: Actor = Depends(allowed("read"))) -> list[dict]:
    return statements.list_incidents(settings_of(request))


@incident_routes.post("", status_code=201)
def open_incident(request: Request, body: IncidentIn, actor: Actor = Depends(allowed("open incident"))) -> dict:
    return statements.open_incident(settings_of(request), actor, body.title, body.impact, body.components)


@incident_routes.get("/{incident_id}")
def get_incident(request: Request, incident_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    """The incident and its statements, oldest first: its timeline."""
    settings = settings_of(request)
    found = [i for i in statements.list_incidents(settings) if i["id"] == incident_id]
    if not found:
        raise NotFound(f"incident {incident_id} does not exist")
    return {**found[0], "statements": statements.list_statements(settings, incident_id)}


@incident_routes.post("/{incident_id}/statements", status_code=201)
def draft(request: Request, incident_id: Id, body: StatementInput,
          actor: Actor = Depends(allowed("draft"))) -> dict:
    return statements.draft(settings_of(request), actor, incident_id, body)


@statement_routes.get("/statements")
def list_statements(request: Request, incident_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    _: Actor = Depends(allowed("read"))) -> list[dict]:
    return statements.list_statements(settings_of(request), incident_id)


@statement_routes.post("/preview")
def preview_draft(request: Request, body: PreviewIn, _: Actor = Depends(allowed("read"))) -> dict:
    """Render unsaved statement fields through every channel, with each limit: nothing is stored."""
    given = StatementInput(**body.model_dump(exclude={"incident_id", "statement_id"}))
    return drafting.preview_draft(settings_of(request), body.incident_id, given, body.statement_id)


@statement_routes.get("/statements/{statement_id}")
def get_statement(request: Request, statement_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    return statements.get_statement(settings_of(request), statement_id)


@statement_routes.patch("/statements/{statement_id}")
def edit(request: Request, statement_id: Id, body: StatementInput, actor: Actor = Depends(allowed("edit"))) -> dict:
    """A draft changes in place; anything submitted becomes a new draft version."""
    return statements.edit(settings_of(request), actor, statement_id, body)


@statement_routes.get("/statements/{statement_id}/preview")
def preview(request: Request, statement_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    return statements.preview(settings_of(request), statement_id)


@statement_routes.post("/statements/{statement_id}/submit")
def submit(request: Request, statement_id: Id, actor: Actor = Depends(allowed("submit"))) -> dict:
    result = statements.submit(settings_of(request), actor, statement_id)
    request.app.state.on_submit(settings_of(request), statement_id)
    return result


@statement_routes.post("/statements/{statement_id}/approve")
def approve(request: Request, statement_id: Id, body: ApproveIn, actor: Actor = Depends(allowed("approve"))) -> dict:
    return decisions.approve(settings_of(request), actor, statement_id, body.content_hash, body.comment)


@statement_routes.post("/statements/{statement_id}/reject")
def reject(request: Request, statement_id: Id, body: RejectIn, actor: Actor = Depends(allowed("reject"))) -> dict:
    return decisions.reject(settings_of(request), actor, statement_id, body.reason)


@statement_routes.post("/statements/{statement_id}/withdraw")
def withdraw(request: Request, statement_id: Id, actor: Actor = Depends(allowed("withdraw"))) -> dict:
    return statements.withdraw(settings_of(request), actor, statement_id)


@statement_routes.post("/statements/{statement_id}/publish", status_code=202)
def publish_statement(request: Request, statement_id: Id, actor: Actor = Depends(allowed("publish"))) -> dict:
    """Make the approved words live. The deliveries are written and enqueued; workers send them:
    follow `/statements/{id}/progress`."""
    return publishing.publish(settings_of(request), actor, statement_id, dispatch=request.app.state.dispatch)










































routes = [incident_routes, statement_routes]
