"""/api/v1/templates: statement templates (reusable drafts per kind of failure) and starting a statement
from one. A template is not approved: what it starts is a draft, submitted and approved as any other."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain.approval import Actor
from ...domain.field_limits import Line
from ...playbooks import statement_templates as playbooks
from ...playbooks.placeholders import Placeholder
from ...playbooks.statement_templates import MOST_VALUES, TemplateInput
from ..common import settings_of
from .common import Id, allowed
from .paging import Page, page, page_of


class UseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incident_id: Annotated[int | None, Field(ge=1, le=2**31 - 1, description=(
        "Draft a new version of this incident; none: open an incident from the template"))] = None
    values: dict[Placeholder, Line(500)] = Field(default={}, max_length=MOST_VALUES, description=(
        "Placeholder values: {alert: ..., summary: ...}; each placeholder the template's words name needs one"))


template_routes = APIRouter(prefix="/templates", tags=["statement templates"])


@template_routes.get("")
def list_templates(request: Request, response: Response, chosen: Page = Depends(page),
                   _: Actor = Depends(allowed("read"))) -> list[dict]:
    """Every template, by name, with the placeholders its words use."""
    return page_of(request, response, playbooks.list_templates(settings_of(request)), chosen)


@template_routes.post("", status_code=201)
def add_template(request: Request, body: TemplateInput, actor: Actor = Depends(allowed("manage templates"))) -> dict:
    """A new template. Its words may hold {components}, {started_at}, {next_update}, {alert}, {summary},
    {source} and {count}, filled when a statement is started from it."""
    return playbooks.add_template(settings_of(request), actor, body)


@template_routes.get("/{template_id}")
def get_template(request: Request, template_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    return playbooks.get_template(settings_of(request), template_id)


@template_routes.put("/{template_id}")
def change_template(request: Request, template_id: Id, body: TemplateInput,
                    actor: Actor = Depends(allowed("manage templates"))) -> dict:
    """Replace its fields; statements already started from it keep their words."""
    return playbooks.change_template(settings_of(request), actor, template_id, body)


@template_routes.delete("/{template_id}")
def remove_template(request: Request, template_id: Id, actor: Actor = Depends(allowed("manage templates"))) -> dict:
    """Remove it (refused while an alert rule uses it)."""
    return playbooks.remove_template(settings_of(request), actor, template_id)


@template_routes.post("/{template_id}/statements", status_code=201)
def start_statement(request: Request, template_id: Id, body: UseIn, actor: Actor = Depends(allowed("draft"))) -> dict:
    """Start a statement from the template: a draft on `incident_id`, or on a new incident with the template's
    title, impact and components; the placeholders filled. Review, submit and approve it as any draft."""
    return playbooks.start_statement(settings_of(request), actor, template_id, body.incident_id,
                                     {name.value: value for name, value in body.values.items()})


routes = [template_routes]
