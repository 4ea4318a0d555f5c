"""The dashboard: server-rendered pages for authors, approvers, the social team and admins (templates in
templates/_web/dashboard/), usable on a phone. No build step: the editor's live preview and the
fan-out progress are a few lines of vanilla JavaScript over the JSON API, with the session cookie.

Every form carries the session's CSRF token; a post without it is refused (403) and audited.
Every action goes through `auth.authorize` (the one permission table) and then the use case.
"""

import hmac
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import audit, auth, holding, publish, social, statements
from ..config import Settings
from ..directory import audit_trail
from ..domain.approval import PERMISSIONS, Role
from ..domain.errors import BroadcasterError, NotAllowed
from ..domain.incident import Impact, IncidentStatus
from ..render.environment import environment
from ..statements import StatementInput
from ..usecase import log_action, unit_of_work
from .api import SESSION_COOKIE, broadcaster_problem, settings_of

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "broadcaster_login_csrf"
PAGES = ("/dashboard", "/login", "/logout", "/approve/")


class LoginRequired(Exception):
    def __init__(self, path: str):
        self.path = path


def _session(request: Request) -> auth.Session:
    try:
        session = auth.session_for(settings_of(request), request.cookies.get(SESSION_COOKIE))
    except auth.NotAuthenticated:
        raise LoginRequired(request.url.path) from None
    request.state.session = session
    return session


def reading(request: Request, action: str = "read") -> auth.Session:
    """The logged-in session, if the permission table lets it read this page (a refusal is audited)."""
    session = _session(request)
    auth.authorize(settings_of(request), session.actor, action, request.url.path[:60])
    return session


def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    settings = settings_of(request)
    session = getattr(request.state, "session", None)
    roles = {r.value for r in session.actor.roles} if session else set()
    may = {action for action, allowed in PERMISSIONS.items() if session and session.actor.roles & allowed}
    template = environment(settings.templates_dir).get_template(f"_web/dashboard/{name}.html")
    return HTMLResponse(template.render(
        company_name=settings.company_name, me=session.actor.name if session else None, roles=roles, may=may,
        csrf=session.csrf_token if session else "", error=request.query_params.get("error", ""),
        notice=request.query_params.get("notice", ""), **context), status_code=status)


def back(path: str, **message: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(message)}" if message else path, status_code=303)


def check_csrf(settings: Settings, session: auth.Session, token: str) -> None:
    if not hmac.compare_digest(token.encode(), session.csrf_token.encode()):
        with unit_of_work(settings) as s:
            log_action(s, session.actor, "refused: form", "csrf", {"reason": "missing or wrong CSRF token"})
        raise NotAllowed("this form is missing its security token or it is stale: reload the page and try again")


def run_action(request: Request, csrf_token: str, action: str, do, then: str, failed: str) -> Response:
    """Check CSRF and the role, run the use case; on a refusal go back to `failed` saying why."""
    settings, session = settings_of(request), _session(request)
    check_csrf(settings, session, csrf_token)
    try:
        auth.authorize(settings, session.actor, action, request.url.path[:60])
        result = do(settings, session.actor)
    except BroadcasterError as exc:
        return back(failed, error=str(exc))
    return back(then.format(**result) if isinstance(result, dict) else then)


# --- login and logout ----------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/dashboard") -> HTMLResponse:
    import secrets

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
    response = back("/login", notice="logged out")
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
def incident_page(request: Request, incident_id: int) -> HTMLResponse:
    reading(request)
    settings = settings_of(request)
    incident = _incident(settings, incident_id)
    versions = statements.list_statements(settings, incident_id)
    subjects = [f"statement:{st['id']}" for st in versions] + [f"incident:{incident_id}"]
    events = audit_trail(settings, subjects=subjects, limit=200)["items"]
    return page(request, "incident", incident=incident, versions=versions, events=events)


@router.get("/dashboard/incidents/{incident_id}/new")
def new_statement(request: Request, incident_id: int) -> HTMLResponse:
    reading(request)
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
def edit_statement(request: Request, statement_id: int) -> HTMLResponse:
    reading(request)
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
def save_statement(request: Request, csrf_token: str = Form(""), incident_id: int = Form(...),
                   statement_id: int | None = Form(None), then: str = Form("save"), status: str = Form(""),
                   impact: str = Form(""), components: str = Form(""), headline: str = Form(""),
                   body: str = Form(""), workaround: str = Form(""), next_update: str = Form("")) -> Response:
    """Save the draft (new, or an edit), and submit it for approval if asked."""
    settings, session = settings_of(request), _session(request)
    check_csrf(settings, session, csrf_token)
    values = {"status": status, "impact": impact, "components": components, "headline": headline, "body": body,
              "workaround": workaround, "next_update": next_update}
    given = StatementInput(status=status or None, impact=impact or None, components=_split(components),
                           headline=headline, body=body, workaround=workaround, next_update=next_update or None)
    try:
        if statement_id:
            auth.authorize(settings, session.actor, "edit", f"statement:{statement_id}")
            saved = statements.edit(settings, session.actor, statement_id, given)
        else:
            auth.authorize(settings, session.actor, "draft", f"incident:{incident_id}")
            saved = statements.draft(settings, session.actor, incident_id, given)
        if then == "submit":
            statements.submit(settings, session.actor, saved["id"])
            request.app.state.on_submit(settings, saved["id"])
    except BroadcasterError as exc:
        current = statements.get_statement(settings, statement_id) if statement_id else None
        return editor(request, _incident(settings, incident_id), current, values, 422, str(exc))
    notice = "submitted for approval" if then == "submit" else "saved"
    return back(f"/dashboard/statements/{saved['id']}", notice=notice)


@router.get("/dashboard/statements/{statement_id}")
def statement_page(request: Request, statement_id: int) -> HTMLResponse:
    session = reading(request)
    settings = settings_of(request)
    shown = statements.preview(settings, statement_id)
    st = statements.get_statement(settings, statement_id)
    return page(request, "statement", st=st, preview=shown, mine=st["author"] == session.actor.name)


def _statement_action(name: str, do, then: str = "/dashboard/statements/{id}"):
    def handler(request: Request, statement_id: int, csrf_token: str = Form(""), comment: str = Form(""),
                content_hash: str = Form("")) -> Response:
        return run_action(request, csrf_token, name,
                          lambda settings, actor: do(request, settings, actor, statement_id, comment, content_hash),
                          then, f"/dashboard/statements/{statement_id}")
    router.add_api_route(f"/dashboard/statements/{{statement_id}}/{name}", handler, methods=["POST"])


def _submit(request, settings, actor, sid, _comment, _hash):
    result = statements.submit(settings, actor, sid)
    request.app.state.on_submit(settings, sid)
    return result


_statement_action("submit", _submit)
_statement_action("withdraw", lambda request, settings, actor, sid, c, h: statements.withdraw(settings, actor, sid))
_statement_action("approve", lambda request, settings, actor, sid, c, h: statements.approve(
    settings, actor, sid, h or "-", c), "/dashboard/inbox?notice=approved")
_statement_action("reject", lambda request, settings, actor, sid, c, h: statements.reject(settings, actor, sid, c),
                  "/dashboard/inbox?notice=rejected")
_statement_action("publish", lambda request, settings, actor, sid, c, h: publish.publish(
    settings, actor, sid, dispatch=request.app.state.dispatch), "/dashboard/statements/{id}/progress")


@router.post("/dashboard/statements/{statement_id}/keep")
def keep_holding(request: Request, statement_id: int, csrf_token: str = Form("")) -> Response:
    """Keep an approved statement ready as a holding statement."""
    return run_action(request, csrf_token, "keep holding",
                      lambda settings, actor: holding.keep(settings, actor, statement_id),
                      "/dashboard/holding?notice=kept+as+a+holding+statement", f"/dashboard/statements/{statement_id}")


@router.get("/dashboard/holding")
def holding_page(request: Request) -> HTMLResponse:
    reading(request)
    return page(request, "holding", holdings=holding.ready(settings_of(request)))


@router.post("/dashboard/holding/{number}/activate")
def activate_holding(request: Request, number: int, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "activate holding",
                      lambda settings, actor: holding.activate(settings, actor, number, request.app.state.dispatch),
                      "/dashboard/statements/{id}/progress", "/dashboard/holding")


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
def progress_page(request: Request, statement_id: int) -> HTMLResponse:
    reading(request)
    return page(request, "progress", st=statements.get_statement(settings_of(request), statement_id))


@router.get("/dashboard/send-log")
def send_log(request: Request, statement_id: str = "", channel: str = "", status: str = "", target: str = "",
             offset: int = 0) -> HTMLResponse:
    reading(request)
    filters = {"statement_id": int(statement_id) if statement_id.isdigit() else None, "channel": channel or None,
               "status": status or None, "target": target or None}
    rows = audit.send_log(settings_of(request), **filters, limit=101, offset=max(offset, 0))
    query = urlencode({k: v for k, v in filters.items() if v is not None})
    return page(request, "send_log", rows=rows[:100], more=len(rows) > 100, offset=max(offset, 0), query=query,
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


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def install(app: FastAPI) -> None:
    """The dashboard's routes, and how its refusals look: a login redirect, or a page saying why."""
    from . import approval_links, dashboard_admin, dashboard_social

    app.include_router(router)
    app.include_router(dashboard_admin.router)
    app.include_router(dashboard_social.router)
    app.include_router(approval_links.router)

    @app.exception_handler(LoginRequired)
    def to_login(_request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)

    @app.exception_handler(BroadcasterError)
    def refused(request: Request, exc: BroadcasterError) -> Response:
        answer = broadcaster_problem(request, exc)
        if request.url.path.startswith(PAGES):  # a person with a browser: a page saying why
            return error_page(request, answer.status_code, str(exc))
        return answer


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    return page(request, "error", status, problem=detail)

