"""Provider callbacks, Slack's interactive approvals and unsubscribe links. Each handler gathers the
request's parts, has the signature checked and hands over to `delivery.receipts` (or
`approvals.by_slack`, `audience.unsubscribe`); a refused request changes nothing."""

import json
import logging

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from ..approvals import by_slack
from ..audience import unsubscribe
from ..config import Settings
from ..delivery import receipts
from ..domain.errors import InvalidInput, NotAllowed, NotFound
from ..render.environment import environment
from .common import PRIVATE, settings_of, signed_url

router = APIRouter()
logger = logging.getLogger("broadcaster.web")

TWILIO_SIGNATURE = "X-Twilio-Signature"
SLACK_SIGNATURE, SLACK_TIMESTAMP = "X-Slack-Signature", "X-Slack-Request-Timestamp"


def _refused(exc: Exception, status: int = 403) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def refused_unsigned(request: Request, exc: NotAllowed) -> JSONResponse:
    """403 for a callback whose signature does not verify, and the refusal audited."""
    client = request.client.host if request.client else "?"
    try:
        await run_in_threadpool(receipts.record_refused_callback, settings_of(request), request.url.path, client,
                                str(exc))
    except DBAPIError:  # the database is down (the public server answers anyway): refused, unaudited
        logger.warning("refused %s from %s, not audited (database unreachable): %s", request.url.path, client, exc)
    return _refused(exc)


@router.post("/webhooks/twilio/status")
async def twilio_status(request: Request) -> JSONResponse:
    settings = settings_of(request)
    form = await request.form()
    try:
        receipts.verify_twilio_signature(settings, signed_url(settings, request), form,
                                          request.headers.get(TWILIO_SIGNATURE))
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    delivery_id = request.query_params.get("d")
    outcome = await run_in_threadpool(receipts.twilio_status, settings, dict(form),
                                      int(delivery_id) if delivery_id and delivery_id.isdigit() else None)
    return JSONResponse({"outcome": outcome})


@router.post("/webhooks/sendgrid/events")
async def sendgrid_events(request: Request) -> JSONResponse:
    from sendgrid.helpers.eventwebhook import EventWebhookHeader

    settings = settings_of(request)
    body = await request.body()
    try:
        receipts.verify_sendgrid_signature(settings, body, request.headers.get(EventWebhookHeader.SIGNATURE),
                                            request.headers.get(EventWebhookHeader.TIMESTAMP))
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    try:
        events = json.loads(body)
        counts = await run_in_threadpool(receipts.sendgrid_events, settings, events)
    except ValueError as exc:
        return _refused(f"SendGrid event webhook: the body is not JSON: {exc}", 400)
    except InvalidInput as exc:
        return _refused(exc, 400)
    return JSONResponse(counts)


@router.post("/webhooks/slack/interactions")
async def slack_interactions(request: Request, background: BackgroundTasks) -> JSONResponse:
    """A click on an approval request's button in Slack (`approvals.by_slack`): answered within Slack's
    three seconds; the clicker's note is also posted to them after the answer."""
    settings = settings_of(request)
    if not settings.slack_signing_secret:
        return _refused("approval from Slack is not set up (BROADCASTER_SLACK_SIGNING_SECRET)", 404)
    body = await request.body()
    client = request.client.host if request.client else "?"
    answer = await run_in_threadpool(by_slack.take_click, settings, body, request.headers.get(SLACK_TIMESTAMP),
                                     request.headers.get(SLACK_SIGNATURE), client)
    if answer.status != 200:
        return _refused(answer.text, answer.status)
    background.add_task(by_slack.tell, settings, answer)
    return JSONResponse({"response_type": "ephemeral", "replace_original": False, "text": answer.text})


# --- unsubscribe links (RFC 8058 one-click: GET shows a page, only POST acts) ---------------


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(request: Request, d: str = "", t: str = "") -> HTMLResponse:
    # GET never unsubscribes: mail scanners and link previews fetch every link in a message.
    settings = settings_of(request)
    try:
        unsubscribe.check_unsubscribe_link(settings, d, t)
    except NotAllowed as exc:
        return _page(settings, "link_not_valid", 403, problem=str(exc))
    # Relative: right behind a path-prefix proxy too.
    return _page(settings, "unsubscribe", action=f"?{request.url.query}")


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_confirmed(request: Request, d: str = "", t: str = "") -> HTMLResponse:
    settings = settings_of(request)
    try:
        unsubscribe.unsubscribe(settings, d, t)
    except (NotAllowed, NotFound, InvalidInput) as exc:
        status = {NotAllowed: 403, NotFound: 404}.get(type(exc), 400)
        return _page(settings, "link_not_valid", status, problem=str(exc))
    return _page(settings, "unsubscribed")


def _page(settings: Settings, name: str, status: int = 200, **context) -> HTMLResponse:
    """One of the customer pages in templates/_web/ (autoescaped: they are HTML): the unsubscribe link's
    token is in the URL, so PRIVATE (not cached, not framed, no Referer on its /status link)."""
    template = environment(settings.templates_dir).get_template(f"_web/{name}.html")
    return HTMLResponse(template.render(company_name=settings.company_name, **context), status_code=status,
                        headers=PRIVATE)
