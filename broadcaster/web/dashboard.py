"""The dashboard: server-rendered pages for authors, approvers, the social team and admins (templates in
templates/_web/dashboard/), usable on a phone. No build step: the editor's live preview and the
fan-out progress are a few lines of vanilla JavaScript over the JSON API, with the session cookie.

Every form carries the session's CSRF token; a post without it is refused (403) and audited.
Every action goes through `auth.authorize` (the one permission table) and then the use case.
"""

import base64
import hmac
import json
import secrets
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import audit, auth, holding, holding_links, publish, social, statements
from ..config import Settings
from ..directory import audit_trail
from ..domain.approval import PERMISSIONS, Role
from ..domain.errors import BroadcasterError, InvalidInput, NotAllowed
from ..domain.incident import Impact, IncidentStatus
from ..render.environment import environment
from ..statements import StatementInput
from .api import SESSION_COOKIE, broadcaster_problem, refuse_nul, settings_of, validation_problem

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "broadcaster_login_csrf"
FLASH_COOKIE = "broadcaster_flash"
PAGES = ("/dashboard", "/login", "/logout", "/approve/", "/hold/")
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


class LoginRequired(Exception):
    def __init__(self, path: str):
        self.path = path


def _session(request: Request, action: str | None = None) -> auth.Session:
    """The logged-in session; with `action`, also checked against the permission table (audited)."""
    try:
        session = auth.session_for(settings_of(request), request.cookies.get(SESSION_COOKIE))
    except auth.NotAuthenticated:
        raise LoginRequired(request.url.path) from None
    request.state.session = session
    if action:
        auth.authorize(settings_of(request), session.actor, action, request.url.path[:60])
    return session


def reading(request: Request, action: str = "read") -> auth.Session:
    """The logged-in session, if the permission table lets it read this page (a refusal is audited)."""
    return _session(request, action)


# Pages run no script but their own (each with this response's nonce), cannot be framed (a
# confirm button under someone else's page is a click away from being pressed), and send no
# Referer (an emailed link's token is in the URL); nothing is cached (the back button after a logout).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
                               "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    settings = settings_of(request)
    session = getattr(request.state, "session", None)
    roles = {r.value for r in session.actor.roles} if session else set()
    may = {action for action, allowed in PERMISSIONS.items() if session and session.actor.roles & allowed}
    template = environment(settings.templates_dir).get_template(f"_web/dashboard/{name}.html")
    flash, nonce = _flash(request), secrets.token_urlsafe(16)
    response = HTMLResponse(template.render(
        company_name=settings.company_name, me=session.actor.name if session else None, roles=roles, may=may,
        csrf=session.csrf_token if session else "", error=flash.get("error", ""), notice=flash.get("notice", ""),
        csp_nonce=nonce, **context), status_code=status)
    response.headers.update({k: v.format(nonce=nonce) for k, v in SECURITY_HEADERS.items()})
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)
    return response


def back(path: str, **message: str) -> RedirectResponse:
    """A redirect after a form; its message travels in a short-lived cookie, never in the URL
    (a link such as `/login?error=Call+this+number` must not put someone else's words on our pages)."""
    response = RedirectResponse(path, status_code=303)
    if message:
        value = base64.urlsafe_b64encode(json.dumps({k: v[:1000] for k, v in message.items()}).encode()).decode()
        response.set_cookie(FLASH_COOKIE, value, max_age=60, httponly=True, samesite="strict")
    return response


def _flash(request: Request) -> dict[str, str]:
    try:
        given = json.loads(base64.urlsafe_b64decode(request.cookies.get(FLASH_COOKIE, "").encode()) or b"{}")
    except ValueError:
        return {}
    return {k: str(v) for k, v in given.items() if k in ("error", "notice")} if isinstance(given, dict) else {}


def check_csrf(settings: Settings, session: auth.Session, token: str) -> None:
    auth.check_csrf(settings, session, token, "this form is missing its security token or it is stale: "
                    "reload the page and try again")


def said(settings: Settings, notice: str, result=None) -> str:
    """What a page says once a form went through: the macro `notice` of templates/_web/dashboard/
    notices.txt (wording lives only in templates), given the use case's result."""
    notices = environment(settings.templates_dir).get_template("_web/dashboard/notices.txt").module
    return str(getattr(notices, notice)(result)).strip()


def run_action(request: Request, csrf_token: str, action: str, do, then: str, failed: str,
               notice: str = "") -> Response:
    """Check CSRF and the role, run the use case, go on to `then` (formatted with the result) saying
    the `notice` (a macro of notices.txt, given the result); on a refusal go back to `failed` saying why."""
    settings, session = settings_of(request), _session(request)
    check_csrf(settings, session, csrf_token)
    try:
        auth.authorize(settings, session.actor, action, request.url.path[:60])
        result = do(settings, session.actor)
    except BroadcasterError as exc:
        return back(failed, error=str(exc))
    return back(then.format(**result) if isinstance(result, dict) else then,
                **({"notice": said(settings, notice, result)} if notice else {}))


# --- login and logout ----------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/dashboard") -> HTMLResponse:
    token = secrets.token_urlsafe(24)  # double-submit: the form's token must match this cookie
    response = page(request, "login", csrf_login=token, next=_local(next))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request))
    return response


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/dashboard")) -> Response:
    settings = settings_of(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        return page(request, "login", 403, csrf_login=expected, next=_local(next),
                    problem="the login form is stale: reload the page and try again")
    try:
        actor = auth.login(settings, name, password, request.client.host if request.client else "unknown")
    except NotAllowed as exc:
        status = 429 if isinstance(exc, auth.TooManyAttempts) else 403
        return page(request, "login", status, csrf_login=expected, next=_local(next), problem=str(exc))
    auth.end_session(settings, request.cookies.get(SESSION_COOKIE))  # a new login never continues an old session
    cookie, _csrf = auth.start_session(settings, actor)
    response = back(_local(next))
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(settings.session_hours * 3600), httponly=True,
                        samesite="lax", secure=_secure(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    settings, session = settings_of(request), _session(request)
    check_csrf(settings, session, csrf_token)
    auth.end_session(settings, request.cookies.get(SESSION_COOKIE))
    response = back("/login", notice=said(settings, "logged_out"))
    response.delete_cookie(SESSION_COOKIE)
    return response


def _secure(request: Request) -> bool:
    return (settings_of(request).public_url or "").startswith("https://")


def _local(path: str) -> str:
    """Only a path on this site: `next` must not send a fresh login elsewhere."""
    return path if path.startswith("/") and not path.startswith("//") else "/dashboard"


# --- incidents, the editor, a statement -----------------------------------------------------


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=307)


@router.get("/dashboard")
def home(request: Request) -> Response:
    session = _session(request)
    settings = settings_of(request)
    if not session.actor.roles & PERMISSIONS["read"] and session.actor.roles & PERMISSIONS["read social"]:
        return RedirectResponse("/dashboard/social", status_code=303)  # the social team's page is its home
    auth.authorize(settings, session.actor, "read", "/dashboard")
    pending = [st for st in statements.list_statements(settings) if st["state"] == "pending_approval"]
    return page(request, "home", incidents=list(reversed(statements.list_incidents(settings))),
                pending=len(pending), impacts=[i.value for i in Impact])


@router.post("/dashboard/incidents")
def open_incident(request: Request, csrf_token: str = Form(""), title: str = Form(""), impact: str = Form(""),
                  components: str = Form("")) -> Response:
    return run_action(request, csrf_token, "open incident",
                      lambda settings, actor: statements.open_incident(settings, actor, title, impact,
                                                                       _split(components)),
                      "/dashboard/incidents/{id}/new", "/dashboard")


@router.get("/dashboard/incidents/{incident_id}")
def incident_page(request: Request, incident_id: Id) -> HTMLResponse:
    reading(request)
    settings = settings_of(request)
    incident = _incident(settings, incident_id)
    versions = statements.list_statements(settings, incident_id)
    subjects = [f"statement:{st['id']}" for st in versions] + [f"incident:{incident_id}"]
    events = audit_trail(settings, subjects=subjects, limit=200)["items"]
    return page(request, "incident", incident=incident, versions=versions, events=events)


@router.get("/dashboard/incidents/{incident_id}/new")
def new_statement(request: Request, incident_id: Id) -> HTMLResponse:
    _session(request, "draft")
    settings = settings_of(request)
    incident = _incident(settings, incident_id)
    versions = statements.list_statements(settings, incident_id)
    latest = versions[-1] if versions else None
    values = {"status": latest["status"] if latest else incident["status"],
              "impact": latest["impact"] if latest else incident["impact"],
              "components": ", ".join(latest["components"] if latest else incident["components"]),
              "headline": latest["headline"] if latest else "", "body": latest["body"] if latest else "",
              "workaround": latest["workaround"] if latest else "", "next_update": "30m"}
    return editor(request, incident, None, values)


@router.get("/dashboard/statements/{statement_id}/edit")
def edit_statement(request: Request, statement_id: Id) -> HTMLResponse:
    _session(request, "edit")
    settings = settings_of(request)
    st = statements.get_statement(settings, statement_id)
    values = {key: st[key] for key in ("status", "impact", "headline", "body", "workaround")}
    values.update(components=", ".join(st["components"]), next_update="")
    return editor(request, _incident(settings, st["incident_id"]), st, values)


def editor(request: Request, incident: dict, statement: dict | None, values: dict, status: int = 200,
           problem: str = "") -> HTMLResponse:
    return page(request, "editor", status, incident=incident, statement=statement, values=values, problem=problem,
                statuses=[s.value for s in IncidentStatus], impacts=[i.value for i in Impact])


@router.post("/dashboard/statements")
def save_statement(request: Request, csrf_token: str = Form(""),
                   incident_id: Annotated[int, Form(ge=1, le=MAX_ID)] = ...,
                   statement_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None, then: str = Form("save"),
                   status: str = Form(""), impact: str = Form(""), components: str = Form(""), headline: str = Form(""),
                   body: str = Form(""), workaround: str = Form(""), next_update: str = Form("")) -> Response:
    """Save the draft (new, or an edit), and submit it for approval if asked. The role is checked
    first: a refusal re-shows the editor with the incident, which only those who may draft may read."""
    settings, session = settings_of(request), _session(request)
    check_csrf(settings, session, csrf_token)
    if statement_id:
        auth.authorize(settings, session.actor, "edit", f"statement:{statement_id}")
    else:
        auth.authorize(settings, session.actor, "draft", f"incident:{incident_id}")
    values = {"status": status, "impact": impact, "components": components, "headline": headline, "body": body,
              "workaround": workaround, "next_update": next_update}
    given = StatementInput(status=status or None, impact=impact or None, components=_split(components),
                           headline=headline, body=body, workaround=workaround, next_update=next_update or None)
    try:
        if statement_id:
            saved = statements.edit(settings, session.actor, statement_id, given)
        else:
            saved = statements.draft(settings, session.actor, incident_id, given)
        if then == "submit":
            statements.submit(settings, session.actor, saved["id"])
            request.app.state.on_submit(settings, saved["id"])
    except BroadcasterError as exc:
        current = statements.get_statement(settings, statement_id) if statement_id else None
        return editor(request, _incident(settings, incident_id), current, values, 422, str(exc))
    return back(f"/dashboard/statements/{saved['id']}", notice=said(settings, "submitted" if then == "submit"
                                                                     else "saved", saved))


@router.get("/dashboard/statements/{statement_id}")
def statement_page(request: Request, statement_id: Id) -> HTMLResponse:
    session = reading(request)
    settings = settings_of(request)
    shown = statements.preview(settings, statement_id)
    st = statements.get_statement(settings, statement_id)
    return page(request, "statement", st=st, preview=shown, mine=st["author"] == session.actor.name)


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
_statement_action("approve", lambda request, settings, actor, sid, c, h: statements.approve(
    settings, actor, sid, h or "-", c), "/dashboard/inbox", "approved")
_statement_action("reject", lambda request, settings, actor, sid, c, h: statements.reject(settings, actor, sid, c),
                  "/dashboard/inbox", "rejected")
_statement_action("publish", lambda request, settings, actor, sid, c, h: publish.publish(
    settings, actor, sid, dispatch=request.app.state.dispatch), "/dashboard/statements/{id}/progress")


@router.post("/dashboard/statements/{statement_id}/keep")
def keep_holding(request: Request, statement_id: Id, csrf_token: str = Form("")) -> Response:
    """Keep an approved statement ready as a holding statement, and email its standing links."""
    def keep(settings, actor):
        kept = holding.keep(settings, actor, statement_id)
        return {**kept, "links": holding_links.send_links(settings, actor, kept["number"])}
    return run_action(request, csrf_token, "keep holding", keep, "/dashboard/holding",
                      f"/dashboard/statements/{statement_id}", "kept_holding")


@router.get("/dashboard/holding")
def holding_page(request: Request) -> HTMLResponse:
    reading(request)
    settings = settings_of(request)
    return page(request, "holding", holdings=holding_links.ready_with_links(settings),
                email_provider=holding_links.email_provider(settings))


@router.post("/dashboard/holding/{number}/activate")
def activate_holding(request: Request, number: Id, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "activate holding",
                      lambda settings, actor: holding.activate(settings, actor, number, request.app.state.dispatch),
                      "/dashboard/statements/{id}/progress", "/dashboard/holding")


@router.post("/dashboard/holding/{number}/links")
def send_holding_links(request: Request, number: Id, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "activate holding",
                      lambda settings, actor: holding_links.send_links(settings, actor, number),
                      "/dashboard/holding", "/dashboard/holding", "links_sent")


@router.post("/dashboard/holding/{number}/links/revoke")
def revoke_holding_links(request: Request, number: Id, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "activate holding",
                      lambda settings, actor: holding_links.revoke_links(settings, actor, number),
                      "/dashboard/holding", "/dashboard/holding", "links_revoked")


@router.get("/dashboard/inbox")
def inbox(request: Request) -> HTMLResponse:
    session = reading(request)
    settings = settings_of(request)
    waiting = [st for st in statements.list_statements(settings) if st["state"] == "pending_approval"]
    items = [{"st": statements.get_statement(settings, st["id"]), "preview": statements.preview(settings, st["id"])}
             for st in waiting]
    # Free text for a social reply is approved here too, where approvers already look.
    free_text = (social.ledger(settings, "awaiting approval")["replies"]
                 if session.actor.roles & PERMISSIONS["approve reply"] else [])
    return page(request, "inbox", items=items, may_approve=Role.APPROVER in session.actor.roles, free_text=free_text)


@router.get("/dashboard/statements/{statement_id}/progress")
def progress_page(request: Request, statement_id: Id) -> HTMLResponse:
    reading(request)
    return page(request, "progress", st=statements.get_statement(settings_of(request), statement_id))


@router.get("/dashboard/send-log")
def send_log(request: Request, statement_id: str = "", channel: Annotated[str, Query(max_length=30)] = "",
             status: Annotated[str, Query(max_length=20)] = "", target: Annotated[str, Query(max_length=320)] = "",
             offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> HTMLResponse:
    reading(request)
    filters = {"statement_id": _id_filter(statement_id, "statement id"), "channel": channel or None,
               "status": status or None, "target": target or None}
    rows = audit.send_log(settings_of(request), **filters, limit=101, offset=offset)
    query = urlencode({k: v for k, v in filters.items() if v is not None})
    return page(request, "send_log", rows=rows[:100], more=len(rows) > 100, offset=offset, query=query,
                filters={k: v if v is not None else "" for k, v in filters.items()})


@router.get("/dashboard/consistency")
def consistency(request: Request) -> HTMLResponse:
    reading(request)
    return page(request, "consistency", report=audit.consistency_report(settings_of(request)))


def _incident(settings: Settings, incident_id: int) -> dict:
    from ..domain.errors import NotFound

    found = [i for i in statements.list_incidents(settings) if i["id"] == incident_id]
    if not found:
        raise NotFound(f"incident {incident_id} does not exist")
    return found[0]


def _id_filter(text: str, what: str) -> int | None:
    """A filter's id as typed (blank: no filter). Only ASCII digits: `int()` also reads other scripts'
    digits and refuses some characters `isdigit()` accepts ('²'), and a 5,000-digit number."""
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)) and 1 <= int(text) <= MAX_ID):
        raise InvalidInput(f"{what}: {text[:20]!r} is not an id; ids are whole numbers from 1")
    return int(text)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def install(app: FastAPI) -> None:
    """The dashboard's routes, and how its refusals look: a login redirect, or a page saying why."""
    from . import approval_links, dashboard_admin, dashboard_social

    for pages in (router, dashboard_admin.router, dashboard_social.router, approval_links.router):
        app.include_router(pages, dependencies=[Depends(refuse_nul)])

    @app.exception_handler(LoginRequired)
    def to_login(_request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)

    @app.exception_handler(BroadcasterError)
    def refused(request: Request, exc: BroadcasterError) -> Response:
        answer = broadcaster_problem(request, exc)
        if request.url.path.startswith(PAGES):  # a person with a browser: a page saying why
            return error_page(request, answer.status_code, str(exc))
        return answer

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        answer = validation_problem(request, exc)
        if request.url.path.startswith(PAGES):  # an edited URL or form: a page saying which part
            return error_page(request, 422, json.loads(answer.body)["detail"])
        return answer


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    return page(request, "error", status, problem=detail)

