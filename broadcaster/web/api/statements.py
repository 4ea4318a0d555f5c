"""/api/v1: incidents, statements and their lifecycle (draft, edit, preview, submit, approve, reject,
withdraw, publish). Each route is one use case; `publish` enqueues and answers 202 at once."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...approvals import decisions
from ...domain import field_limits as limits
from ...domain.approval import Actor
from ...domain.component_states import ComponentState
from ...domain.field_limits import Line, Text
from ...domain.incident import Impact, IncidentStatus
from ...domain.locales import normalise_tag
from ...incidents import drafting, publishing, statements
from ...incidents.statements import StatementInput
from ..common import settings_of
from .common import Id, allowed
from .paging import Page, page, page_read, read_one_more

# A resolved statement says what is fixed: its resolution line is required then.
RESOLVED_NEEDS_RESOLUTION = {
    "if": {"properties": {"status": {"const": "resolved"}}, "required": ["status"]},
    "then": {"required": ["resolution"],
             "properties": {"resolution": {"type": "string", "minLength": 1, "pattern": limits.FILLED_LINE_PATTERN}}}}


class StatementIn(StatementInput):
    """A statement's fields as the API takes them: the values each vocabulary has, exactly; a headline
    and a body that say something (fields not given are copied from the incident's latest version)."""
    model_config = ConfigDict(json_schema_extra=RESOLVED_NEEDS_RESOLUTION)
    status: IncidentStatus | None = None
    impact: Impact | None = None
    headline: Line(limits.HEADLINE, 1) | None = None
    body: Text(limits.BODY, 1) | None = None
    component_states: dict[Line(limits.NAME, 1), ComponentState] | None = Field(default=None,
                                                                                max_length=limits.MOST_ITEMS)
    @field_validator("translations")
    @classmethod
    def _tags_as_written(cls, given: dict | None) -> dict | None:
        # The document lists the installation's languages exactly ('es', 'pt-BR'): 'ES' is refused here.
        for tag in given or {}:
            if normalise_tag(tag, f"translations.{tag}") != tag:
                raise ValueError(f"{tag!r}: write the language tag as {normalise_tag(tag)!r}")
        return given

    # The API takes a duration (the CLI and dashboard also take a time): one that cannot be in the past.
    next_update: Annotated[str, Field(max_length=limits.NEXT_UPDATE, pattern=r"^(?:[1-9][0-9]?h(?:[0-5]?[0-9]m)?|"
                                      r"[1-9][0-9]{0,2}m)$", description="When the next update is due, from now: "
                                      "'30m', '2h', '1h30m' (at most 99 hours)")] | None = None


class NewStatementIn(StatementIn):
    """A new version says its words (the rest may come from the version before)."""
    headline: Line(limits.HEADLINE, 1)
    body: Text(limits.BODY, 1)


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Line(limits.TITLE, 1)
    impact: Impact
    components: list[Line(limits.NAME)] = Field(default=[], max_length=limits.MOST_ITEMS)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_hash: Annotated[str, Field(min_length=8, max_length=limits.HASH, pattern=r"^[0-9a-f]+$",
                                       description="The hash you saw in the preview (at least 8 characters)")]
    comment: Text(limits.REASON) = ""


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text(limits.REASON, 1)




class PreviewIn(NewStatementIn):
    incident_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    statement_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None


incident_routes = APIRouter(prefix="/incidents", tags=["incidents"])
statement_routes = APIRouter(tags=["statements"])


@incident_routes.get("")
def list_incidents(request: Request, response: Response, chosen: Page = Depends(page),
                   _: Actor = Depends(allowed("read"))) -> list[dict]:
    return page_read(request, response, statements.list_incidents(settings_of(request), **read_one_more(chosen)),
                     chosen)


@incident_routes.post("", status_code=201)
def open_incident(request: Request, body: IncidentIn, actor: Actor = Depends(allowed("open incident"))) -> dict:
    return statements.open_incident(settings_of(request), actor, body.title, body.impact, body.components)


@incident_routes.get("/{incident_id}")
def get_incident(request: Request, incident_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    """The incident and its statements, oldest first: its timeline."""
    settings = settings_of(request)
    return {**statements.get_incident(settings, incident_id),
            "statements": statements.list_statements(settings, incident_id)}


@incident_routes.post("/{incident_id}/statements", status_code=201)
def draft(request: Request, incident_id: Id, body: NewStatementIn,
          actor: Actor = Depends(allowed("draft"))) -> dict:
    return statements.draft(settings_of(request), actor, incident_id, body)


@statement_routes.get("/statements")
def list_statements(request: Request, response: Response,
                    incident_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    chosen: Page = Depends(page),
                    _: Actor = Depends(allowed("read"))) -> list[dict]:
    return page_read(request, response, statements.list_statements(settings_of(request), incident_id,
                                                                    **read_one_more(chosen)), chosen)


@statement_routes.post("/preview")
def preview_draft(request: Request, body: PreviewIn, _: Actor = Depends(allowed("read"))) -> dict:
    """Render unsaved statement fields through every channel, with each limit: nothing is stored."""
    given = StatementInput(**body.model_dump(exclude={"incident_id", "statement_id"}, mode="json"))
    return drafting.preview_draft(settings_of(request), body.incident_id, given, body.statement_id)


@statement_routes.get("/statements/{statement_id}")
def get_statement(request: Request, statement_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    return statements.get_statement(settings_of(request), statement_id)


@statement_routes.patch("/statements/{statement_id}")
def edit(request: Request, statement_id: Id, body: StatementIn, actor: Actor = Depends(allowed("edit"))) -> dict:
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
