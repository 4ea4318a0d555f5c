"""/api/v1: what sending did: a resend, fan-out progress, the send log (JSON and CSV), the
deliveries' states and the consistency audit."""

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ...delivery import sendlog
from ...delivery.pause import paused_channels
from ...delivery.progress import progress, totals
from ...domain.approval import Actor
from ...domain.delivery_status import IN_FLIGHT, PREPARING, UNSENT, DeliveryStatus
from ...incidents import consistency, publishing
from ...render.spreadsheet_csv import SafeDictWriter
from ..common import settings_of
from .common import Id, allowed
from .paging import Page, link_next, page

CSV_COLUMNS = ["id", "at", "incident_id", "statement_id", "version", "delivery_id", "channel", "target", "provider",
               "status", "attempt", "provider_message_id", "content_hash", "detail", "locale"]
CSV_PAGE = 5000

delivery_routes = APIRouter(tags=["deliveries"])


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statuses: list[Literal[DeliveryStatus.FAILED.value, DeliveryStatus.UNKNOWN.value]] = Field(
        default=[DeliveryStatus.FAILED.value], min_length=1, max_length=2,
        description="What to resend: failed deliveries, and those whose outcome could not be reconciled")


deliveries = APIRouter(tags=["deliveries"])


@delivery_routes.post("/statements/{statement_id}/retry", status_code=202)
def retry(request: Request, statement_id: Id, body: RetryIn = Body(default_factory=RetryIn),
          actor: Actor = Depends(allowed("publish"))) -> dict:
    count = publishing.retry(settings_of(request), actor, statement_id, tuple(body.statuses),
                          dispatch=request.app.state.dispatch)
    return {"requeued": count}


@delivery_routes.get("/statements/{statement_id}/progress")
def fan_out_progress(request: Request, statement_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    """Per channel: deliveries by status, and how many are done (reached, failed or cancelled)."""
    return progress_summary(progress(settings_of(request), statement_id))


def progress_summary(counts: dict[str, dict[str, int]]) -> dict:

    busy = {PREPARING, *UNSENT, *IN_FLIGHT}
    by_channel = {ch: {"statuses": c, "total": sum(c.values()),
                       "done": sum(n for st, n in c.items() if st not in busy)} for ch, c in counts.items()}
    total = sum(c["total"] for c in by_channel.values())
    done = sum(c["done"] for c in by_channel.values())
    return {"channels": by_channel, "total": total, "done": done,
            "percent": round(100 * done / total) if total else 100}


async def _send_log_filters(statement_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                            channel: Annotated[str | None, Query(max_length=30)] = None,
                            status: Annotated[str | None, Query(max_length=20)] = None,
                            target: Annotated[str | None, Query(max_length=320)] = None) -> dict:
    # A coroutine though it waits on nothing: a plain function would be run in a worker thread (paging.page).
    return {"statement_id": statement_id, "channel": channel, "status": status, "target": target}


@delivery_routes.get("/send-log")
def send_log(request: Request, response: Response, filters: dict = Depends(_send_log_filters),
             chosen: Page = Depends(page), _: Actor = Depends(allowed("read"))) -> dict:
    limit, offset = chosen.limit, chosen.offset
    items = sendlog.send_log(settings_of(request), **filters, limit=limit + 1, offset=offset)
    more = len(items) > limit
    link_next(request, response, offset + limit if more else None)
    return {"items": items[:limit], "limit": limit, "offset": offset, "next_offset": offset + limit if more else None}


@delivery_routes.get("/send-log.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def send_log_csv(request: Request, filters: dict = Depends(_send_log_filters),
                 _: Actor = Depends(allowed("read"))) -> Response:
    """Every matching event, streamed a page at a time: a million-recipient fan-out's log is
    never held in memory at once. A cell that would start a spreadsheet formula (`=`, `+`, `-`, `@`,
    a tab or a carriage return: a target typed on the public form) gets a `'` in front; the JSON
    `/send-log` has the raw values."""
    return StreamingResponse(_csv_pages(settings_of(request), filters), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="send-log.csv"'})


def _csv_pages(settings, filters: dict):
    buffer = io.StringIO()
    writer = SafeDictWriter(buffer, CSV_COLUMNS, extrasaction="ignore")  # a cell that starts a formula: '
    writer.writeheader()
    after = None
    while True:
        events = sendlog.send_log(settings, **filters, limit=CSV_PAGE, after=after)
        writer.writerows(events)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(events) < CSV_PAGE:
            return
        after = events[-1]["id"]


@delivery_routes.get("/delivery-status")
def delivery_status(request: Request, _: Actor = Depends(allowed("read"))) -> dict:
    """Paused channels (credentials refused) and why, and deliveries by status: `broadcaster status`."""
    settings = settings_of(request)
    return {"paused": paused_channels(settings), "deliveries": totals(settings)}


@delivery_routes.get("/consistency")
def consistency_report(request: Request, _: Actor = Depends(allowed("read"))) -> dict:
    """Which version each channel shows, against the live version; `drift` when one is behind."""
    return consistency.consistency_report(settings_of(request))


routes = [delivery_routes]
