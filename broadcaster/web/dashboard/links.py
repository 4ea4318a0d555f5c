"""The confirm pages behind emailed links: an approval (`/approve/...`) and switching on a holding
statement (`/hold/...`). GET shows the exact words and the hash; only the POST acts (mail
scanners and link previews open every link)."""


from typing import Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ...approvals import by_phone
from ...approvals.link_story import link_story
from ...approvals.renewal import renew_expired_link
from ...audience.reach import reach
from ...channels import is_simulated
from ...domain.errors import BroadcasterError, InvalidInput
from ...holding import emailed_links
from ...holding.holding_link_story import link_story as holding_link_story
from ...incidents import statements
from ...store.models import utcnow
from ..api.common import STATUS
from ..common import settings_of
from .common import Id, incident_of, page

router = APIRouter(include_in_schema=False)


@router.get("/approve/{request_id}")
async def confirm_page(request: Request, request_id: Id, t: str = "") -> HTMLResponse:
    try:
        asked = await run_in_threadpool(by_phone.check_link, settings_of(request), request_id, t)
    except BroadcasterError as exc:
        return await _link_refused(request, request_id, t, exc)
    return await _approve_form(request, asked, t)


async def _approve_form(request: Request, asked: dict, token: str, status: int = 200, problem: str = "",
                        comment: str = "") -> HTMLResponse:
    """The first screen of a phone: the incident, what changed, where it goes, and both buttons."""
    settings = settings_of(request)
    shown = await run_in_threadpool(statements.preview, settings, asked["statement_id"])
    incident = await run_in_threadpool(incident_of, settings, shown["statement"]["incident_id"])
    audience = await run_in_threadpool(reach, settings, asked["statement_id"])
    return page(request, "approve", status, preview=shown, approver=asked["approver"], token=token,
                incident=incident, reach=audience, problem=problem, comment=comment)


@router.post("/approve/{request_id}")
async def approve(request: Request, request_id: Id, t: str = Form(""), comment: str = Form(""),
                  decision: Literal["approve", "reject"] = Form("approve")) -> HTMLResponse:
    """Approve (the default) or reject; a rejection without a reason shows the page again, saying so,
    with what was typed kept and the link still usable."""
    settings = settings_of(request)
    try:
        if decision == "reject":
            result = await run_in_threadpool(by_phone.reject_by_link, settings, request_id, t, comment)
        else:
            result = await run_in_threadpool(by_phone.approve_by_link, settings, request_id, t, comment)
    except InvalidInput as exc:
        try:
            asked = await run_in_threadpool(by_phone.check_link, settings, request_id, t)
        except BroadcasterError as refused:
            return await _link_refused(request, request_id, t, refused)
        return await _approve_form(request, asked, t, 422, str(exc), comment)
    except BroadcasterError as exc:
        return await _link_refused(request, request_id, t, exc)
    story = await run_in_threadpool(link_story, settings, request_id, t)  # whether the dashboard is theirs
    return page(request, "approve", preview=None, result=result, decision=decision, story=story,
                incident=incident_of(settings, result["incident_id"]))


@router.post("/approve/{request_id}/renew")
async def renew(request: Request, request_id: Id, t: str = Form("")) -> HTMLResponse:
    """An expired link's **Email me a new link**: the page says the same whatever became of the press
    (`approvals.renewal`); only a mangled or forged link is told it does not work."""
    settings = settings_of(request)
    genuine = await run_in_threadpool(renew_expired_link, settings, request_id, t,
                                      getattr(request.app.state, "dispatch", None))
    if not genuine:
        return await _link_refused(request, request_id, t, by_phone.LinkNotValid("this approval link is not valid"))
    return page(request, "approve_renewed", hours=settings.approval_link_hours, emails=_emails(settings))


async def _link_refused(request: Request, request_id: int, token: str, exc: BroadcasterError) -> HTMLResponse:
    """A link that no longer approves says what became of its version (`link_story`); a link that is not
    genuine, or whose approver lost the role, says only that, and why."""
    story = None
    if isinstance(exc, by_phone.LinkSpent):
        story = await run_in_threadpool(link_story, settings_of(request), request_id, token)
    reason = "not valid" if isinstance(exc, by_phone.LinkNotValid) else ""
    return page(request, "approve_refused", _status(exc), story=story, reason=reason, refusal=str(exc), token=token,
                tz=story["tz"] if story else None, now=story["now"] if story else None,
                emails=_emails(settings_of(request)))


def _emails(settings) -> bool:
    """Whether this installation can email anyone: False with the `log` provider (no email provider set
    up, or BROADCASTER_SIMULATE), which records each email, its links hidden, and sends nothing."""
    return not is_simulated("email", settings)


@router.get("/hold/{link_id}")
async def hold_page(request: Request, link_id: Id, t: str = "") -> HTMLResponse:
    try:
        shown = await run_in_threadpool(emailed_links.check_link, settings_of(request), link_id, t)
    except BroadcasterError as exc:
        return await _hold_refused(request, link_id, t, exc)
    return _hold_form(request, shown, t)


@router.post("/hold/{link_id}")
async def hold(request: Request, link_id: Id, t: str = Form(""), pin: str = Form("")) -> HTMLResponse:
    """A refused press that leaves the link usable (a wrong PIN, the PIN limits, a publish rule) shows the
    confirm page again with why, what is left and the PIN field: on a phone in an outage there is no
    hunting for Back. The words are hold.html's, from the refusal's facts (`emailed_links.PinRefused`)."""
    settings = settings_of(request)
    try:
        result = await run_in_threadpool(emailed_links.activate_by_link, settings, link_id, t, pin,
                                         request.app.state.dispatch)
    except BroadcasterError as exc:
        shown = await run_in_threadpool(emailed_links.still_usable, settings, link_id, t)
        if shown is None:
            return await _hold_refused(request, link_id, t, exc)
        return _hold_form(request, shown, t, _status(exc), exc)
    return page(request, "hold", preview=None, result=result)


def _hold_form(request: Request, shown: dict, token: str, status: int = 200,
               refusal: BroadcasterError | None = None) -> HTMLResponse:
    settings = settings_of(request)
    audience = reach(settings, shown["statement"]["id"])
    pin = refusal if isinstance(refusal, emailed_links.PinRefused) else None
    return page(request, "hold", status, preview=shown, number=shown["number"], user=shown["user"],
                incident_title=shown["incident_title"], token=token, refused=refusal is not None, pin=pin,
                pin_accepted=getattr(refusal, "pin_accepted", False),
                reach=audience, tz=settings.zone, now=utcnow())


async def _hold_refused(request: Request, link_id: int, token: str, exc: BroadcasterError) -> HTMLResponse:
    """A holding link that no longer switches anything on says what became of its holding statement and
    what its person can still do (`holding.holding_link_story`); a link that is not genuine says only that."""
    story = await run_in_threadpool(holding_link_story, settings_of(request), link_id, token)
    return page(request, "hold_refused", _status(exc), story=story, tz=story.get("tz") if story else None,
                now=story.get("now") if story else None)


def _status(exc: BroadcasterError) -> int:
    return next(code for kind, code, _ in STATUS if isinstance(exc, kind))
