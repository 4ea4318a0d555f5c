"""The confirm pages behind emailed links: an approval (`/approve/...`) and switching on a holding
statement (`/hold/...`). GET shows the exact words and the hash; only the POST acts (mail
scanners and link previews open every link)."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from .. import holding_links, phone_approval
from ..domain.errors import BroadcasterError
from .api import STATUS, settings_of
from .dashboard import page

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/approve/{request_id}")
async def confirm_page(request: Request, request_id: Id, t: str = "") -> HTMLResponse:
    try:
        shown = await run_in_threadpool(phone_approval.check_link, settings_of(request), request_id, t)
    except BroadcasterError as exc:
        return _refused(request, exc)
    return page(request, "approve", preview=shown, approver=shown["approver"], token=t, outcome="")


@router.post("/approve/{request_id}")
async def approve(request: Request, request_id: Id, t: str = Form(""), comment: str = Form("")) -> HTMLResponse:
    try:
        result = await run_in_threadpool(phone_approval.approve_by_link, settings_of(request), request_id, t, comment)
    except BroadcasterError as exc:
        return _refused(request, exc)
    return page(request, "approve", preview=None, outcome=f"Approved v{result['version']}: "
                f"{result['approvals']} of {result['approvals_needed']} approval(s)")


@router.get("/hold/{link_id}")
async def hold_page(request: Request, link_id: Id, t: str = "") -> HTMLResponse:
    try:
        shown = await run_in_threadpool(holding_links.check_link, settings_of(request), link_id, t)
    except BroadcasterError as exc:
        return _refused(request, exc)
    return page(request, "hold", preview=shown, number=shown["number"], user=shown["user"],
                incident_title=shown["incident_title"], token=t, outcome="")


@router.post("/hold/{link_id}")
async def hold(request: Request, link_id: Id, t: str = Form(""), pin: str = Form("")) -> HTMLResponse:
    try:
        result = await run_in_threadpool(holding_links.activate_by_link, settings_of(request), link_id, t, pin,
                                         request.app.state.dispatch)
    except BroadcasterError as exc:
        return _refused(request, exc)
    return page(request, "hold", preview=None, outcome=f"Switched on: holding statement #{result['number']} "
                f"(v{result['version']}) is going out on every channel")


def _refused(request: Request, exc: BroadcasterError) -> HTMLResponse:
    status = next(code for kind, code, _ in STATUS if isinstance(exc, kind))
    return page(request, "error", status, problem=str(exc))
