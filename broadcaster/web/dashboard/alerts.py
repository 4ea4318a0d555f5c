"""The dashboard's alerts and templates page: statement templates (add one; open an incident from one),
alert rules (add, turn on and off), sources (an admin adds one and sees its credential once) and what
came in. A refused form shows the page again with the message and what was typed."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ...alerts import rules, service, sources
from ...alerts.rules import RuleInput
from ...domain.errors import BroadcasterError, InvalidInput
from ...domain.incident import Impact, parse_choice
from ...people import auth
from ...playbooks import statement_templates as playbooks
from ...playbooks.statement_templates import TemplateInput
from ..common import settings_of
from .common import MAX_ID, Id, back, check_csrf, logged_in, page, reading, run_action, split_list

router = APIRouter(include_in_schema=False)


def alerts_page(request: Request, status: int = 200, problem: str = "", template_form: dict | None = None,
                rule_form: dict | None = None, made_source: dict | None = None) -> HTMLResponse:
    settings = settings_of(request)
    return page(request, "alerts", status, problem=problem, templates=playbooks.list_templates(settings),
                rules=rules.list_rules(settings), sources=sources.list_sources(settings),
                groups=service.list_groups(settings, 20), template_form=template_form or {},
                rule_form=rule_form or {}, made_source=made_source,
                asked=["alert", "summary", "source", "count"])


@router.get("/dashboard/alerts")
def alerts(request: Request) -> HTMLResponse:
    reading(request)
    return alerts_page(request)


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


@router.post("/dashboard/templates")
def add_template(request: Request, csrf_token: str = Form(""), name: str = Form(""), title: str = Form(""),
                 impact: str = Form("major"), components: str = Form(""), headline: str = Form(""),
                 body: str = Form(""), workaround: str = Form(""), next_update: str = Form("30m"),
                 resolution: str = Form(""), resolved_body: str = Form("")) -> Response:
    settings, session = settings_of(request), logged_in(request)
    check_csrf(settings, session, csrf_token)
    form = {"name": name, "title": title, "impact": impact, "components": components, "headline": headline,
            "body": body, "workaround": workaround, "next_update": next_update, "resolution": resolution,
            "resolved_body": resolved_body}
    try:
        auth.authorize(settings, session.actor, "manage templates", "/dashboard/templates")
        made = playbooks.add_template(settings, session.actor, TemplateInput(**{
            **form, "components": split_list(components), "impact": parse_choice(Impact, impact, "impact")}))
    except (BroadcasterError, ValidationError) as exc:
        return alerts_page(request, 422, _problem(exc), template_form=form)
    return back("/dashboard/alerts", notice=f"template {made['name']} added")


@router.post("/dashboard/templates/{template_id}/use")
async def use_template(request: Request, template_id: Id) -> Response:
    """Open an incident from the template, its first draft filled (the form gives the placeholders an alert
    would: alert, summary, ...), and go to the draft in the editor."""
    form = await request.form()
    values = {name.removeprefix("v_"): str(value).strip() for name, value in form.items()
              if name.startswith("v_") and str(value).strip()}
    return run_action(request, str(form.get("csrf_token", "")), "open incident",
                      lambda settings, actor: playbooks.start_statement(settings, actor, template_id, None, values),
                      "/dashboard/statements/{id}/edit", "/dashboard/alerts", "saved")


@router.post("/dashboard/alerts/rules")
def add_rule(request: Request, csrf_token: str = Form(""), name: str = Form(""), template: str = Form(""),
             matchers: str = Form(""), components: str = Form(""), impact: str = Form(""), source: str = Form(""),
             notify: str = Form(""), holding: str = Form(""), holding_after_minutes: str = Form(""),
             position: Annotated[int, Form(ge=0, le=10_000)] = 100) -> Response:
    settings, session = settings_of(request), logged_in(request)
    check_csrf(settings, session, csrf_token)
    form = {"name": name, "template": template, "matchers": matchers, "components": components, "impact": impact,
            "source": source, "notify": notify, "holding": holding, "holding_after_minutes": holding_after_minutes,
            "position": position}
    try:
        auth.authorize(settings, session.actor, "manage alert rules", "/dashboard/alerts/rules")
        given = RuleInput(name=name, template=template, matchers=_matchers(matchers),
                          components=split_list(components), source=source or None,
                          impact=parse_choice(Impact, impact, "impact") if impact.strip() else None,
                          notify=split_list(notify), holding=_number(holding, "holding"),
                          holding_after_minutes=_number(holding_after_minutes, "holding_after_minutes"),
                          position=position)
        made = rules.add_rule(settings, session.actor, given)
    except (BroadcasterError, ValidationError) as exc:
        return alerts_page(request, 422, _problem(exc), rule_form=form)
    return back("/dashboard/alerts", notice=f"rule {made['name']} added")


def _matchers(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if line.strip():
            label, sep, wanted = line.partition("=")
            if not sep or not label.strip():
                raise InvalidInput(f"matchers: {line.strip()[:60]!r} is not LABEL=VALUE (one a line)")
            found[label.strip()] = wanted.strip()
    return found


def _number(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) < 10 and 1 <= int(text) <= MAX_ID):
        raise InvalidInput(f"{what}: {text[:20]!r} is not a whole number from 1")
    return int(text)


def _switch(request: Request, rule_id: int, csrf_token: str, enabled: bool) -> Response:
    def do(settings, actor):
        current = rules.get_rule(settings, rule_id)
        given = RuleInput(**{k: current[k] for k in ("name", "matchers", "impact", "source", "notify", "position")},
                          components=current["components"], template=str(current["template_id"]),
                          holding=current["holding"], holding_after_minutes=current["holding_after_minutes"],
                          enabled=enabled)
        return rules.change_rule(settings, actor, rule_id, given)
    return run_action(request, csrf_token, "manage alert rules", do, "/dashboard/alerts", "/dashboard/alerts")


@router.post("/dashboard/alerts/rules/{rule_id}/enable")
def enable_rule(request: Request, rule_id: Id, csrf_token: str = Form("")) -> Response:
    return _switch(request, rule_id, csrf_token, True)


@router.post("/dashboard/alerts/rules/{rule_id}/disable")
def disable_rule(request: Request, rule_id: Id, csrf_token: str = Form("")) -> Response:
    return _switch(request, rule_id, csrf_token, False)


@router.post("/dashboard/alerts/sources")
def add_source(request: Request, csrf_token: str = Form(""), name: str = Form(""), kind: str = Form(""),
               secret: str = Form("")) -> Response:
    """An admin adds a source; the page shows its token or secret this once (never in a redirect)."""
    settings, session = settings_of(request), logged_in(request)
    check_csrf(settings, session, csrf_token)
    try:
        auth.authorize(settings, session.actor, "manage alert sources", "/dashboard/alerts/sources")
        made = sources.add_source(settings, session.actor, name.strip(), kind, secret.strip() or None)
    except BroadcasterError as exc:
        return alerts_page(request, 422, str(exc))
    return alerts_page(request, 201, made_source=made)
