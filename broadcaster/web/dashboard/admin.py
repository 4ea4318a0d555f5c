"""The dashboard's admin page: users, API tokens and subscribers."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from ...audience import subscribers
from ...domain.approval import Role
from ...domain.errors import BroadcasterError
from ...people import auth, users
from ..common import settings_of
from .common import Id, check_csrf, logged_in, page, run_action

router = APIRouter(include_in_schema=False)


@router.get("/dashboard/admin")
def admin_page(request: Request, q: Annotated[str, Query(max_length=320)] = "") -> HTMLResponse:
    session = logged_in(request)
    settings = settings_of(request)
    auth.authorize(settings, session.actor, "manage users", "dashboard:admin")
    return page(request, "admin", users=users.list_users(settings), tokens=auth.list_tokens(settings),
                subscribers=subscribers.list_subscribers(settings, q, 50)["items"], q=q, new_token=None,
                all_roles=[r.value for r in Role])


@router.post("/dashboard/admin/users")
def add_user(request: Request, csrf_token: str = Form(""), name: str = Form(""), roles: list[str] = Form([]),
             email: str = Form(""), phone: str = Form(""), password: str = Form("")) -> Response:
    return run_action(request, csrf_token, "manage users", lambda settings, actor: users.add_user_with_password(
        settings, actor, name, roles, email or None, phone or None, password or None),
        "/dashboard/admin", "/dashboard/admin", "user_added")


@router.post("/dashboard/admin/users/roles")
def set_roles(request: Request, csrf_token: str = Form(""), name: str = Form(""),
              roles: list[str] = Form([])) -> Response:
    return run_action(request, csrf_token, "manage users",
                      lambda settings, actor: users.set_roles(settings, actor, name, roles),
                      "/dashboard/admin", "/dashboard/admin", "roles_set")


@router.post("/dashboard/admin/users/slack")
def set_slack_id(request: Request, csrf_token: str = Form(""), name: str = Form(""),
                 slack_user_id: str = Form("", max_length=40)) -> Response:
    return run_action(request, csrf_token, "manage users",
                      lambda settings, actor: users.set_slack_id(settings, actor, name, slack_user_id or None),
                      "/dashboard/admin", "/dashboard/admin", "slack_id_set")


@router.post("/dashboard/admin/tokens")
def create_token(request: Request, csrf_token: str = Form(""), user: str = Form(""),
                 role: str = Form("")) -> Response:
    """The new token is shown on this page once (never in a URL or a redirect)."""
    settings, session = settings_of(request), logged_in(request)
    check_csrf(settings, session, csrf_token)
    auth.authorize(settings, session.actor, "manage tokens", "dashboard:tokens")
    try:
        token = auth.create_token(settings, user, role, session.actor)
    except BroadcasterError as exc:
        return page(request, "admin", 422, users=users.list_users(settings), tokens=auth.list_tokens(settings),
                    subscribers=[], q="", new_token=None, all_roles=[r.value for r in Role], problem=str(exc))
    return page(request, "admin", users=users.list_users(settings), tokens=auth.list_tokens(settings),
                subscribers=subscribers.list_subscribers(settings, "", 50)["items"], q="", new_token=token,
                all_roles=[r.value for r in Role])


@router.post("/dashboard/admin/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: Id, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "manage tokens",
                      lambda settings, actor: auth.revoke_token(settings, token_id, actor),
                      "/dashboard/admin", "/dashboard/admin", "token_revoked")


@router.post("/dashboard/admin/subscribers")
def add_subscriber(request: Request, csrf_token: str = Form(""), email: str = Form(""),
                   phone: str = Form(""), locale: str = Form("")) -> Response:
    return run_action(request, csrf_token, "manage subscribers", lambda settings, actor: subscribers.add_subscriber(
        settings, actor, [], locale.strip() or None, email=email or None, phone=phone or None),
        "/dashboard/admin", "/dashboard/admin", "subscriber_added")


@router.post("/dashboard/admin/subscribers/{subscriber_id}/remove")
def remove_subscriber(request: Request, subscriber_id: Id, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "manage subscribers",
                      lambda settings, actor: subscribers.remove_subscriber(settings, actor, subscriber_id),
                      "/dashboard/admin", "/dashboard/admin", "subscriber_removed")
