"""The dashboard's holding statements: keep an approved statement ready, switch one on in an
outage, and send or revoke the standing emailed links to switch it on from a phone."""

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ...holding import emailed_links, holding_statements
from ..common import settings_of
from .common import Id, page, reading, run_action

router = APIRouter(include_in_schema=False)


@router.post("/dashboard/statements/{statement_id}/keep")
def keep_holding(request: Request, statement_id: Id, csrf_token: str = Form("")) -> Response:
    """Keep an approved statement ready as a holding statement, and email its standing links."""
    def keep(settings, actor):
        kept = holding_statements.keep(settings, actor, statement_id)
        return {**kept, "links": emailed_links.send_links(settings, actor, kept["number"])}
    return run_action(request, csrf_token, "keep holding", keep, "/dashboard/holding",
                      f"/dashboard/statements/{statement_id}", "kept_holding")


@router.get("/dashboard/holding")
def holding_page(request: Request) -> HTMLResponse:
    reading(request)
    settings = settings_of(request)
    return page(request, "holding", holdings=emailed_links.ready_with_links(settings),
                email_provider=emailed_links.email_provider(settings))


@router.post("/dashboard/holding/{number}/activate")
def activate_holding(request: Request, number: Id, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "activate holding",
                      lambda settings, actor: holding_statements.activate(settings, actor, number,
                                                                          request.app.state.dispatch),
                      "/dashboard/statements/{id}/progress", "/dashboard/holding")


@router.post("/dashboard/holding/{number}/links")
def send_holding_links(request: Request, number: Id, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "activate holding",
                      lambda settings, actor: emailed_links.send_links(settings, actor, number),
                      "/dashboard/holding", "/dashboard/holding", "links_sent")


@router.post("/dashboard/holding/{number}/links/revoke")
def revoke_holding_links(request: Request, number: Id, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "activate holding",
                      lambda settings, actor: emailed_links.revoke_links(settings, actor, number),
                      "/dashboard/holding", "/dashboard/holding", "links_revoked")
