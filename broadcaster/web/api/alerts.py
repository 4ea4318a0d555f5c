"""/api/v1/alerts: the sources that may post alerts (an admin's: each holds a credential), the rules that
map their labels to a template, components and impact, and what came in (groups of alerts)."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...alerts import rules, service, sources
from ...alerts.enums import SourceKind
from ...alerts.rules import RuleInput
from ...domain.approval import Actor
from ..common import settings_of
from .common import Id, allowed
from .paging import Page, page, page_of

SourceName = Annotated[str, Path(min_length=1, max_length=50)]
Secret = Annotated[str | None, Field(pattern=sources.SECRET_PATTERN)]
SECRET_NOTE = "PagerDuty only: the signing secret PagerDuty showed for the webhook subscription"
# Which kinds take a secret, stated in the schema as the service checks it (sources._credential):
# PagerDuty's is required, the others make their own credential and take none.
_SECRET_BY_KIND = {"anyOf": [
    {"properties": {"kind": {"const": SourceKind.PAGERDUTY.value}, "secret": {"type": "string"}},
     "required": ["kind", "secret"]},
    {"properties": {"kind": {"enum": [k.value for k in SourceKind if k != SourceKind.PAGERDUTY]},
                    "secret": {"type": "null"}}},
]}


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_SECRET_BY_KIND)
    name: Annotated[str, Field(pattern=sources.NAME_PATTERN, description=(
        "Lower-case letters, digits and '-', as it appears in the URL it posts to"))]
    kind: SourceKind
    secret: Annotated[Secret, Field(description=SECRET_NOTE)] = None


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: Annotated[Secret, Field(description="PagerDuty only: the new signing secret (required for one, "
                                                "refused for the others)")] = None


alert_routes = APIRouter(prefix="/alerts", tags=["alerts"])


@alert_routes.get("/sources")
def list_sources(request: Request, response: Response, chosen: Page = Depends(page),
                 _: Actor = Depends(allowed("read"))) -> list[dict]:
    """Each source, its kind, the URL it posts to and when it last did (never its credential)."""
    return page_of(request, response, sources.list_sources(settings_of(request)), chosen)


@alert_routes.post("/sources", status_code=201)
def add_source(request: Request, body: SourceIn, actor: Actor = Depends(allowed("manage alert sources"))) -> dict:
    """A new source. The answer holds its bearer `token` (Alertmanager, Grafana) or `secret` (generic,
    Standard Webhooks), shown this once."""
    return sources.add_source(settings_of(request), actor, body.name, body.kind, body.secret)


@alert_routes.post("/sources/{name}/rotate")
def rotate_source(request: Request, name: SourceName, body: RotateIn = Body(default_factory=RotateIn),
                  actor: Actor = Depends(allowed("manage alert sources"))) -> dict:
    """A new token or secret; the old one stops working at once."""
    return sources.rotate(settings_of(request), actor, name, body.secret)


@alert_routes.delete("/sources/{name}")
def remove_source(request: Request, name: SourceName, actor: Actor = Depends(allowed("manage alert sources"))) -> dict:
    """Remove a source nothing came from yet (else rotate its credential to shut it out)."""
    return sources.remove_source(settings_of(request), actor, name)


@alert_routes.get("/rules")
def list_rules(request: Request, response: Response, chosen: Page = Depends(page),
               _: Actor = Depends(allowed("read"))) -> list[dict]:
    """The rules in the order they are tried (position, then id)."""
    return page_of(request, response, rules.list_rules(settings_of(request)), chosen)


@alert_routes.post("/rules", status_code=201)
def add_rule(request: Request, body: RuleInput, actor: Actor = Depends(allowed("manage alert rules"))) -> dict:
    """A new rule; its drafts are written in your name (so you cannot approve them)."""
    return rules.add_rule(settings_of(request), actor, body)


@alert_routes.get("/rules/{rule_id}")
def get_rule(request: Request, rule_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    return rules.get_rule(settings_of(request), rule_id)


@alert_routes.put("/rules/{rule_id}")
def change_rule(request: Request, rule_id: Id, body: RuleInput,
                actor: Actor = Depends(allowed("manage alert rules"))) -> dict:
    return rules.change_rule(settings_of(request), actor, rule_id, body)


@alert_routes.delete("/rules/{rule_id}")
def remove_rule(request: Request, rule_id: Id, actor: Actor = Depends(allowed("manage alert rules"))) -> dict:
    """Remove a rule no alert has matched yet (else disable it)."""
    return rules.remove_rule(settings_of(request), actor, rule_id)


@alert_routes.get("/groups")
def list_groups(request: Request, response: Response, chosen: Page = Depends(page),
                _: Actor = Depends(allowed("read"))) -> list[dict]:
    """What came in, newest first: each group of alerts, its rule, its incident and how many fire."""
    newest = service.list_groups(settings_of(request), chosen.offset + chosen.limit + 1)
    return page_of(request, response, newest, chosen)


routes = [alert_routes]
