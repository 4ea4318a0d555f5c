"""The confirm page behind an emailed approval link: GET shows the exact words and the hash,
only the POST approves (mail scanners and link previews open every link)."""

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from .. import phone_approval
from ..domain.errors import BroadcasterError
from .api import STATUS, settings_of
from .dashboard import page

router = APIRouter(include_in_schema=False)


@router.get("/approve/{request_id}")
async def confirm_page(request: Request, request_id: int, t: str = "") -> HTMLResponse:
    try:
        shown = await run_in_threadpool(phone_approval.check_link, settings_of(request), request_id, t)
    except BroadcasterError as exc:
        return _refused(request, exc)
    return page(request, "approve", preview=shown, approver=shown["approver"], token=t, outcome="")


@router.post("/approve/{request_id}")
async def approve(request: Request, request_id: int, t: str = Form(""), comment: str = Form("")) -> HTMLResponse:
    try:
        result = await run_in_threadpool(phone_approval.approve_by_link, settings_of(request), request_id, t, comment)
    except BroadcasterError as exc:
        return _refused(request, exc)
    return page(request, "approve", preview=None, outcome=f"Approved v{result['version']}: "
                f"{result['approvals']} of {result['approvals_needed']} approval(s)")


def _refused(request: Request, exc: BroadcasterError) -> HTMLResponse:
    status = next(code for kind, code, _ in STATUS if isinstance(exc, kind))
    return page(request, "error", status, problem=str(exc))
