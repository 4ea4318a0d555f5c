"""The stakeholder audiences page (`/dashboard/stakeholders`): who hears the internal rendition of every
approved version (leadership, the regulator, first responders), and the forms that keep the lists."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import BroadcasterError
from ...people import auth
from ...stakeholders import audiences as service
from ...stakeholders.sends_on import SendsOn
from ..common import settings_of
from .common import back, check_csrf, logged_in, page

router = APIRouter(include_in_schema=False)
PAGE = "/dashboard/stakeholders"
Short = Annotated[str, Form(max_length=320)]


@router.get(PAGE)
def stakeholders_page(request: Request) -> HTMLResponse:
    logged_in(request, "manage stakeholders")
    return _page(request)


def _page(request: Request, status: int = 200, problem: str = "", kept: dict | None = None) -> HTMLResponse:
    return page(request, "stakeholders", status, audiences=service.list_audiences(settings_of(request)),
                rules=[rule.value for rule in SendsOn], problem=problem, kept=kept or {})


@router.post(PAGE)
def create_audience(request: Request, csrf_token: str = Form(""), name: Short = "", description: Short = "",
                    sends_on: Annotated[str, Form(max_length=20)] = SendsOn.EVERY.value) -> Response:
    return _act(request, csrf_token, lambda settings, actor: service.create_audience(
        settings, actor, name, description, sends_on), {"name": name, "description": description})


@router.post(PAGE + "/{audience}/members")
def add_member(request: Request, audience: str, csrf_token: str = Form(""), name: Short = "", email: Short = "",
               phone: Short = "") -> Response:
    return _act(request, csrf_token, lambda settings, actor: service.add_member(
        settings, actor, audience[:60], name, email or None, phone or None),
        {"audience": audience[:60], "member": name, "email": email, "phone": phone})


@router.post(PAGE + "/{audience}/members/{name}/remove")
def remove_member(request: Request, audience: str, name: str, csrf_token: str = Form("")) -> Response:
    return _act(request, csrf_token, lambda settings, actor: service.remove_member(
        settings, actor, audience[:60], name[:100]), {})


@router.post(PAGE + "/{audience}/remove")
def remove_audience(request: Request, audience: str, csrf_token: str = Form("")) -> Response:
    return _act(request, csrf_token, lambda settings, actor: service.remove_audience(settings, actor, audience[:60]),
                {})


def _act(request: Request, csrf_token: str, do, kept: dict) -> Response:
    """Run it; a refusal shows the page again with the reason and what was typed kept."""
    settings, session = settings_of(request), logged_in(request)
    check_csrf(settings, session, csrf_token)
    try:
        auth.authorize(settings, session.actor, "manage stakeholders", PAGE)
        do(settings, session.actor)
    except BroadcasterError as exc:
        return _page(request, 422, str(exc), kept)
    return back(PAGE)
