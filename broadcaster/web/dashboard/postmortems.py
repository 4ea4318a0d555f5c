"""The dashboard's postmortem page: an author writes the Markdown and previews what the status page
will show (nothing stored until saved); an approver reads the sanitised HTML and approves exactly that
content hash; an author publishes it. Bad input shows the form again with the message and the text kept."""

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import BroadcasterError, NotFound
from ...postmortems import workflow
from ...postmortems.rendering import MOST_CHARACTERS
from ..common import settings_of
from .common import Id, back, check_csrf, incident_of, logged_in, page, reading, run_action, said

router = APIRouter(include_in_schema=False)


def _page(request: Request, incident_id: int, markdown: str | None = None, preview: dict | None = None,
          problem: str = "", status: int = 200) -> HTMLResponse:
    settings = settings_of(request)
    incident = incident_of(settings, incident_id)
    try:
        postmortem = workflow.of_incident(settings, incident_id)
    except NotFound:
        postmortem = None
    text = markdown if markdown is not None else (postmortem["markdown"] if postmortem else "")
    return page(request, "postmortem", status=status, incident=incident, postmortem=postmortem, markdown=text,
                preview=preview, problem=problem, most=MOST_CHARACTERS)


@router.get("/dashboard/incidents/{incident_id}/postmortem")
def postmortem_page(request: Request, incident_id: Id) -> HTMLResponse:
    reading(request)
    return _page(request, incident_id)


@router.post("/dashboard/incidents/{incident_id}/postmortem")
def write_postmortem(request: Request, incident_id: Id, csrf_token: str = Form(""),
                     markdown: str = Form("", max_length=MOST_CHARACTERS * 2), intent: str = Form("preview")
                     ) -> Response:
    """`intent` preview: show what it would look like (nothing stored); save: write it."""
    settings, session = settings_of(request), logged_in(request, "draft")
    check_csrf(settings, session, csrf_token)
    try:
        if intent != "save":
            return _page(request, incident_id, markdown, preview=workflow.preview(markdown))
        workflow.write(settings, session.actor, incident_id, markdown)
    except BroadcasterError as exc:
        return _page(request, incident_id, markdown, problem=str(exc), status=422)
    return back(f"/dashboard/incidents/{incident_id}/postmortem", notice=said(settings, "saved"))


@router.post("/dashboard/postmortems/{postmortem_id}/approve")
def approve_postmortem(request: Request, postmortem_id: Id, csrf_token: str = Form(""),
                       content_hash: str = Form("", max_length=64), incident_id: int = Form(0)) -> Response:
    target = f"/dashboard/incidents/{int(incident_id)}/postmortem" if incident_id > 0 else "/dashboard"
    return run_action(request, csrf_token, "approve",
                      lambda settings, actor: workflow.approve(settings, actor, postmortem_id, content_hash),
                      target, target, "approved")


@router.post("/dashboard/postmortems/{postmortem_id}/publish")
def publish_postmortem(request: Request, postmortem_id: Id, csrf_token: str = Form(""),
                       incident_id: int = Form(0)) -> Response:
    target = f"/dashboard/incidents/{int(incident_id)}/postmortem" if incident_id > 0 else "/dashboard"
    return run_action(request, csrf_token, "publish",
                      lambda settings, actor: workflow.publish(settings, actor, postmortem_id,
                                                              dispatch=request.app.state.dispatch),
                      target, target, "postmortem_published")
