"""The dashboard's incident pages: the home page, an incident and its versions, the editor, a
statement with every channel's words and its actions (submit, approve, reject, publish), the
approvers' inbox and the fan-out progress page."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ... import social
from ...approvals import decisions
from ...audience.reach import reach
from ...domain.approval import Role, permits
from ...domain.errors import BroadcasterError
from ...domain.incident import Impact, IncidentStatus
from ...domain.lifecycle import State
from ...incidents import drafting, publishing, statements
from ...incidents.audience_notes import MOST_ANSWERS
from ...incidents.statements import StatementInput
from ...incidents.translations import MOST_TRANSLATIONS
from ...people import auth
from ...people.audit_trail import audit_trail
from ...playbooks import statement_templates as playbooks
from ...render.languages import language_name
from ..common import settings_of
from .common import MAX_ID, Id, back, check_csrf, incident_of, logged_in, page, reading, run_action, said, split_list

router = APIRouter(include_in_schema=False)


@router.post("/dashboard/incidents")
def open_incident(request: Request, csrf_token: str = Form(""), title: str = Form(""), impact: str = Form(""),
                  components: str = Form("")) -> Response:
    return run_action(request, csrf_token, "open incident",
                      lambda settings, actor: statements.open_incident(settings, actor, title, impact,
                                                                       split_list(components)),
                      "/dashboard/incidents/{id}/new", "/dashboard")


@router.get("/dashboard/incidents/{incident_id}")
def incident_page(request: Request, incident_id: Id) -> HTMLResponse:
    reading(request)
    settings = settings_of(request)
    incident = incident_of(settings, incident_id)
    versions = statements.list_statements(settings, incident_id)
    subjects = [f"statement:{st['id']}" for st in versions] + [f"incident:{incident_id}"]
    events = audit_trail(settings, subjects=subjects, limit=200)["items"]
    return page(request, "incident", incident=incident, versions=versions, events=events)


@router.get("/dashboard/incidents/{incident_id}/new")
def new_statement(request: Request, incident_id: Id,
                  template: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> HTMLResponse:
    """The editor for a new version: the latest version's words, or a template's (`?template=N`)."""
    logged_in(request, "draft")
    settings = settings_of(request)
    incident = incident_of(settings, incident_id)
    versions = statements.list_statements(settings, incident_id)
    latest = versions[-1] if versions else None
    if template is not None:
        values = playbooks.editor_values(settings, template, incident["components"])
        return editor(request, incident, None, {**values, "resolution": "", "contact_centre_closed": False})
    values = {"status": latest["status"] if latest else incident["status"],
              "impact": latest["impact"] if latest else incident["impact"],
              "components": ", ".join(latest["components"] if latest else incident["components"]),
              "headline": latest["headline"] if latest else "", "body": latest["body"] if latest else "",
              "workaround": latest["workaround"] if latest else "", "next_update": "30m",
              "resolution": latest["resolution"] if latest else "",
              "contact_centre_closed": latest["contact_centre_closed"] if latest else False,
              "translations": latest["translations"] if latest else {},
              "agent_notes": latest["agent_notes"] if latest else {},
              "internal_notes": latest["internal_notes"] if latest else {}}
    return editor(request, incident, None, values)


@router.get("/dashboard/statements/{statement_id}/edit")
def edit_statement(request: Request, statement_id: Id) -> HTMLResponse:
    logged_in(request, "edit")
    settings = settings_of(request)
    st = statements.get_statement(settings, statement_id)
    values = {key: st[key] for key in ("status", "impact", "headline", "body", "workaround", "resolution",
                                       "contact_centre_closed", "translations", "agent_notes", "internal_notes")}
    values.update(components=", ".join(st["components"]), next_update="")
    return editor(request, incident_of(settings, st["incident_id"]), st, values)


def editor(request: Request, incident: dict, statement: dict | None, values: dict, status: int = 200,
           problem: str = "") -> HTMLResponse:
    settings = settings_of(request)
    languages = [{"tag": tag, "name": language_name(tag), "required": tag in settings.required_locales}
                 for tag in settings.locales]
    return page(request, "editor", status, incident=incident, statement=statement, values=values, problem=problem,
                statuses=[s.value for s in IncidentStatus], impacts=[i.value for i in Impact],
                languages=languages, default_language=language_name(settings.default_locale),
                templates=playbooks.list_templates(settings) if statement is None else [])


def _translations(locales: list[str], fields: dict[str, list[str]]) -> dict[str, dict[str, str] | None]:
    """The editor's translation fieldsets ({t_locale, t_headline, ...} in the same order) as the use
    case takes them: a language left blank is no translation (and removes one kept from before)."""
    given: dict[str, dict[str, str] | None] = {}
    for i, tag in enumerate(locales[:MOST_TRANSLATIONS]):
        words = {name: (values[i] if i < len(values) else "").strip() for name, values in fields.items()}
        given[tag] = words if any(words.values()) else None
    return given


def _notes(questions: list[str], answers: list[str], do_not_promise: str, impact: str, customers_affected: str,
           owner: str, eta: str) -> tuple[dict, dict]:
    """The editor's notes for agents (question and answer pairs, a blank pair skipped) and stakeholders."""
    pairs = [{"question": q.strip(), "answer": a.strip()}
             for q, a in zip(questions[:MOST_ANSWERS + 1], answers, strict=False) if q.strip() or a.strip()]
    return ({"answers": pairs, "do_not_promise": do_not_promise.strip()},
            {"impact": impact, "customers_affected": customers_affected, "owner": owner, "eta": eta})


@router.post("/dashboard/statements")
def save_statement(request: Request, csrf_token: str = Form(""),
                   incident_id: Annotated[int, Form(ge=1, le=MAX_ID)] = ...,
                   statement_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None, then: str = Form("save"),
                   status: str = Form(""), impact: str = Form(""), components: str = Form(""), headline: str = Form(""),
                   body: str = Form(""), workaround: str = Form(""), next_update: str = Form(""),
                   resolution: str = Form(""), contact_centre_closed: str = Form(""),
                   t_locale: list[str] = Form([]), t_headline: list[str] = Form([]), t_body: list[str] = Form([]),
                   t_workaround: list[str] = Form([]), t_resolution: list[str] = Form([]),
                   q_question: list[str] = Form([]), q_answer: list[str] = Form([]), do_not_promise: str = Form(""),
                   internal_impact: str = Form(""), internal_customers_affected: str = Form(""),
                   internal_owner: str = Form(""), internal_eta: str = Form("")) -> Response:
    """Save the draft (new, or an edit), and submit it for approval if asked. The role is checked
    first: a refusal re-shows the editor with the incident, which only those who may draft may read."""
    settings, session = settings_of(request), logged_in(request)
    check_csrf(settings, session, csrf_token)
    if statement_id:
        auth.authorize(settings, session.actor, "edit", f"statement:{statement_id}")
    else:
        auth.authorize(settings, session.actor, "draft", f"incident:{incident_id}")
    translations = _translations(t_locale, {"headline": t_headline, "body": t_body, "workaround": t_workaround,
                                            "resolution": t_resolution})
    values = {"status": status, "impact": impact, "components": components, "headline": headline, "body": body,
              "workaround": workaround, "next_update": next_update, "resolution": resolution,
              "contact_centre_closed": bool(contact_centre_closed),
              "translations": {tag: words for tag, words in translations.items() if words}}
    values["agent_notes"], values["internal_notes"] = _notes(q_question, q_answer, do_not_promise, internal_impact,
                                                             internal_customers_affected, internal_owner, internal_eta)
    try:
        given = StatementInput(status=status or None, impact=impact or None, components=split_list(components),
                               headline=headline, body=body, workaround=workaround, next_update=next_update or None,
                               resolution=resolution, contact_centre_closed=bool(contact_centre_closed),
                               translations=translations or None, agent_notes=values["agent_notes"],
                               internal_notes=values["internal_notes"])
        if statement_id:
            saved = statements.edit(settings, session.actor, statement_id, given)
        else:
            saved = statements.draft(settings, session.actor, incident_id, given)
        if then == "submit":
            statements.submit(settings, session.actor, saved["id"])
            request.app.state.on_submit(settings, saved["id"])
    except (BroadcasterError, ValidationError) as exc:
        current = statements.get_statement(settings, statement_id) if statement_id else None
        problem = str(exc) if isinstance(exc, BroadcasterError) else "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return editor(request, incident_of(settings, incident_id), current, values, 422, problem)
    return back(f"/dashboard/statements/{saved['id']}", notice=said(settings, "submitted" if then == "submit"
                                                                     else "saved", saved))


@router.post("/dashboard/preview")
def preview_fragment(request: Request, csrf_token: str = Form(""),
                     incident_id: Annotated[int, Form(ge=1, le=MAX_ID)] = ...,
                     statement_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
                     status: str = Form(""), impact: str = Form(""), components: str = Form(""),
                     headline: str = Form(""), body: str = Form(""), workaround: str = Form(""),
                     next_update: str = Form(""), resolution: str = Form(""), contact_centre_closed: str = Form(""),
                     t_locale: list[str] = Form([]), t_headline: list[str] = Form([]), t_body: list[str] = Form([]),
                     t_workaround: list[str] = Form([]), t_resolution: list[str] = Form([]),
                     q_question: list[str] = Form([]), q_answer: list[str] = Form([]), do_not_promise: str = Form(""),
                     internal_impact: str = Form(""), internal_customers_affected: str = Form(""),
                     internal_owner: str = Form(""), internal_eta: str = Form("")) -> HTMLResponse:
    """The editor's live preview of its form as it stands, drawn here as every page draws renditions
    (`_renditions.html`), with the limits and what changed since the live version. Nothing is stored."""
    settings, session = settings_of(request), logged_in(request, "read")
    check_csrf(settings, session, csrf_token)
    translations = _translations(t_locale, {"headline": t_headline, "body": t_body, "workaround": t_workaround,
                                            "resolution": t_resolution})
    try:
        given = StatementInput(status=status or None, impact=impact or None, components=split_list(components),
                               headline=headline or None, body=body or None, workaround=workaround,
                               next_update=next_update or None, resolution=resolution,
                               contact_centre_closed=bool(contact_centre_closed), translations=translations or None,
                               **dict(zip(("agent_notes", "internal_notes"), _notes(
                                   q_question, q_answer, do_not_promise, internal_impact, internal_customers_affected,
                                   internal_owner, internal_eta), strict=True)))
        shown = drafting.preview_draft(settings, incident_id, given, statement_id)
    except (BroadcasterError, ValidationError) as exc:
        problem = str(exc) if isinstance(exc, BroadcasterError) else "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return page(request, "_preview", 422, preview=None, problem=problem)
    return page(request, "_preview", preview=shown, problem="")


@router.get("/dashboard/statements/{statement_id}")
def statement_page(request: Request, statement_id: Id) -> HTMLResponse:
    session = reading(request)
    settings = settings_of(request)
    shown = statements.preview(settings, statement_id)
    st = statements.get_statement(settings, statement_id)
    return page(request, "statement", st=st, preview=shown, mine=st["author"] == session.actor.name,
                incident=incident_of(settings, st["incident_id"]), reach=reach(settings, statement_id))


def _statement_action(name: str, do, then: str = "/dashboard/statements/{id}", notice: str = ""):
    def handler(request: Request, statement_id: Id, csrf_token: str = Form(""), comment: str = Form(""),
                content_hash: str = Form("")) -> Response:
        return run_action(request, csrf_token, name,
                          lambda settings, actor: do(request, settings, actor, statement_id, comment, content_hash),
                          then, f"/dashboard/statements/{statement_id}", notice)
    router.add_api_route(f"/dashboard/statements/{{statement_id}}/{name}", handler, methods=["POST"])


def _submit(request, settings, actor, sid, _comment, _hash):
    result = statements.submit(settings, actor, sid)
    request.app.state.on_submit(settings, sid)
    return result


_statement_action("submit", _submit)


_statement_action("withdraw", lambda request, settings, actor, sid, c, h: statements.withdraw(settings, actor, sid))


_statement_action("approve", lambda request, settings, actor, sid, c, h: decisions.approve(
    settings, actor, sid, h or "-", c), "/dashboard/inbox", "approved")


_statement_action("reject", lambda request, settings, actor, sid, c, h: decisions.reject(settings, actor, sid, c),
                  "/dashboard/inbox", "rejected")


_statement_action("publish", lambda request, settings, actor, sid, c, h: publishing.publish(
    settings, actor, sid, dispatch=request.app.state.dispatch), "/dashboard/statements/{id}/progress")


@router.get("/dashboard/inbox")
def inbox(request: Request) -> HTMLResponse:
    session = reading(request)
    settings = settings_of(request)
    waiting = statements.list_statements(settings, states=[State.PENDING_APPROVAL.value])
    items = [{"st": statements.get_statement(settings, st["id"]), "preview": statements.preview(settings, st["id"]),
              "incident": incident_of(settings, st["incident_id"]), "reach": reach(settings, st["id"])}
             for st in waiting]
    # Free text for a social reply is approved here too, where approvers already look.
    free_text = (social.ledger(settings, "awaiting approval")["replies"]
                 if permits(session.actor, "approve reply") else [])
    return page(request, "inbox", items=items, may_approve=Role.APPROVER in session.actor.roles, free_text=free_text)


@router.get("/dashboard/statements/{statement_id}/progress")
def progress_page(request: Request, statement_id: Id) -> HTMLResponse:
    reading(request)
    return page(request, "progress", st=statements.get_statement(settings_of(request), statement_id))
