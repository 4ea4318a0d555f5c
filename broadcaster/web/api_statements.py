"""/api/v1: incidents, statements and their lifecycle, publishing, progress, the send log and the
consistency audit. Each route is one use case; `publish` enqueues and answers 202 at once."""

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import audit, drafting, holding, holding_links, publish, statements
from ..delivery.pause import paused_channels
from ..delivery.progress import progress, totals
from ..domain.approval import Actor
from ..domain.errors import NotFound
from ..statements import StatementInput
from .api import allowed, settings_of

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Text = Annotated[str, Field(max_length=5000)]


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Field(min_length=1, max_length=200)]
    impact: Annotated[str, Field(max_length=20)]
    components: list[Annotated[str, Field(max_length=100)]] = []


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_hash: Annotated[str, Field(min_length=8, max_length=64,
                                       description="The hash you saw in the preview (at least 8 characters)")]
    comment: Text = ""


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=5000)]


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statuses: list[Annotated[str, Field(max_length=20)]] = ["failed"]


class PreviewIn(StatementInput):
    incident_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    statement_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None


incidents = APIRouter(prefix="/incidents", tags=["incidents"])
statements_router = APIRouter(tags=["statements"])
deliveries = APIRouter(tags=["deliveries"])


@incidents.get("")
def list_incidents(request: Request, _: Actor = Depends(allowed("read"))) -> list[dict]:
    return statements.list_incidents(settings_of(request))


@incidents.post("", status_code=201)
def open_incident(request: Request, body: IncidentIn, actor: Actor = Depends(allowed("open incident"))) -> dict:
    return statements.open_incident(settings_of(request), actor, body.title, body.impact, body.components)


@incidents.get("/{incident_id}")
def get_incident(request: Request, incident_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    """The incident and its statements, oldest first: its timeline."""
    settings = settings_of(request)
    found = [i for i in statements.list_incidents(settings) if i["id"] == incident_id]
    if not found:
        raise NotFound(f"incident {incident_id} does not exist")
    return {**found[0], "statements": statements.list_statements(settings, incident_id)}


@incidents.post("/{incident_id}/statements", status_code=201)
def draft(request: Request, incident_id: Id, body: StatementInput,
          actor: Actor = Depends(allowed("draft"))) -> dict:
    return statements.draft(settings_of(request), actor, incident_id, body)


@statements_router.get("/statements")
def list_statements(request: Request, incident_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                    _: Actor = Depends(allowed("read"))) -> list[dict]:
    return statements.list_statements(settings_of(request), incident_id)


@statements_router.post("/preview")
def preview_draft(request: Request, body: PreviewIn, _: Actor = Depends(allowed("read"))) -> dict:
    """Render unsaved statement fields through every channel, with each limit: nothing is stored."""
    given = StatementInput(**body.model_dump(exclude={"incident_id", "statement_id"}))
    return drafting.preview_draft(settings_of(request), body.incident_id, given, body.statement_id)


@statements_router.get("/statements/{statement_id}")
def get_statement(request: Request, statement_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    return statements.get_statement(settings_of(request), statement_id)


@statements_router.patch("/statements/{statement_id}")
def edit(request: Request, statement_id: Id, body: StatementInput, actor: Actor = Depends(allowed("edit"))) -> dict:
    """A draft changes in place; anything submitted becomes a new draft version."""
    return statements.edit(settings_of(request), actor, statement_id, body)


@statements_router.get("/statements/{statement_id}/preview")
def preview(request: Request, statement_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    return statements.preview(settings_of(request), statement_id)


@statements_router.post("/statements/{statement_id}/submit")
def submit(request: Request, statement_id: Id, actor: Actor = Depends(allowed("submit"))) -> dict:
    result = statements.submit(settings_of(request), actor, statement_id)
    request.app.state.on_submit(settings_of(request), statement_id)
    return result


@statements_router.post("/statements/{statement_id}/approve")
def approve(request: Request, statement_id: Id, body: ApproveIn, actor: Actor = Depends(allowed("approve"))) -> dict:
    return statements.approve(settings_of(request), actor, statement_id, body.content_hash, body.comment)


@statements_router.post("/statements/{statement_id}/reject")
def reject(request: Request, statement_id: Id, body: RejectIn, actor: Actor = Depends(allowed("reject"))) -> dict:
    return statements.reject(settings_of(request), actor, statement_id, body.reason)


@statements_router.post("/statements/{statement_id}/withdraw")
def withdraw(request: Request, statement_id: Id, actor: Actor = Depends(allowed("withdraw"))) -> dict:
    return statements.withdraw(settings_of(request), actor, statement_id)


@statements_router.post("/statements/{statement_id}/publish", status_code=202)
def publish_statement(request: Request, statement_id: Id, actor: Actor = Depends(allowed("publish"))) -> dict:
    """Make the approved words live. The deliveries are written and enqueued; workers send them:
    follow `/statements/{id}/progress`."""
    return publish.publish(settings_of(request), actor, statement_id, dispatch=request.app.state.dispatch)


@deliveries.post("/statements/{statement_id}/retry", status_code=202)
def retry(request: Request, statement_id: Id, body: RetryIn = Body(default_factory=RetryIn),
          actor: Actor = Depends(allowed("publish"))) -> dict:
    count = publish.retry(settings_of(request), actor, statement_id, tuple(body.statuses),
                          dispatch=request.app.state.dispatch)
    return {"requeued": count}


@deliveries.get("/statements/{statement_id}/progress")
def fan_out_progress(request: Request, statement_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    """Per channel: deliveries by status, and how many are done (reached, failed or cancelled)."""
    return progress_summary(progress(settings_of(request), statement_id))


def progress_summary(counts: dict[str, dict[str, int]]) -> dict:
    from ..delivery.status import PREPARING, UNSENT

    busy = {PREPARING, *UNSENT, "sending", "unknown"}
    by_channel = {ch: {"statuses": c, "total": sum(c.values()),
                       "done": sum(n for st, n in c.items() if st not in busy)} for ch, c in counts.items()}
    total = sum(c["total"] for c in by_channel.values())
    done = sum(c["done"] for c in by_channel.values())
    return {"channels": by_channel, "total": total, "done": done,
            "percent": round(100 * done / total) if total else 100}



def _send_log_filters(statement_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                      channel: Annotated[str | None, Query(max_length=30)] = None,
                      status: Annotated[str | None, Query(max_length=20)] = None,
                      target: Annotated[str | None, Query(max_length=320)] = None) -> dict:
    return {"statement_id": statement_id, "channel": channel, "status": status, "target": target}


@deliveries.get("/send-log")
def send_log(request: Request, filters: dict = Depends(_send_log_filters), limit: Limit = 100, offset: Offset = 0,
             _: Actor = Depends(allowed("read"))) -> dict:
    items = audit.send_log(settings_of(request), **filters, limit=limit + 1, offset=offset)
    more = len(items) > limit
    return {"items": items[:limit], "limit": limit, "offset": offset, "next_offset": offset + limit if more else None}


CSV_COLUMNS = ["id", "at", "incident_id", "statement_id", "version", "delivery_id", "channel", "target", "provider",
               "status", "attempt", "provider_message_id", "content_hash", "detail"]


CSV_PAGE = 5000


@deliveries.get("/send-log.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def send_log_csv(request: Request, filters: dict = Depends(_send_log_filters),
                 _: Actor = Depends(allowed("read"))) -> Response:
    """Every matching event, streamed a page at a time: a million-recipient fan-out's log is
    never held in memory at once."""
    return StreamingResponse(_csv_pages(settings_of(request), filters), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="send-log.csv"'})


def _csv_pages(settings, filters: dict):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    after = None
    while True:
        events = audit.send_log(settings, **filters, limit=CSV_PAGE, after=after)
        writer.writerows(events)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(events) < CSV_PAGE:
            return
        after = events[-1]["id"]


@deliveries.get("/delivery-status")
def delivery_status(request: Request, _: Actor = Depends(allowed("read"))) -> dict:
    """Paused channels (credentials refused) and why, and deliveries by status: `broadcaster status`."""
    settings = settings_of(request)
    return {"paused": paused_channels(settings), "deliveries": totals(settings)}


@deliveries.get("/consistency")
def consistency(request: Request, _: Actor = Depends(allowed("read"))) -> dict:
    """Which version each channel shows, against the live version; `drift` when one is behind."""
    return audit.consistency_report(settings_of(request))


class KeepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statement_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


holding_router = APIRouter(prefix="/holding", tags=["holding statements"])


@holding_router.get("")
def list_holding(request: Request, _: Actor = Depends(allowed("read"))) -> list[dict]:
    """Approved statements kept ready for an outage, by number (the n in `HOLD n <pin>`)."""
    return holding.ready(settings_of(request))


@holding_router.post("", status_code=201)
def keep_holding(request: Request, body: KeepIn, actor: Actor = Depends(allowed("keep holding"))) -> dict:
    """Keep it ready; everyone who may switch it on (with an email address and a PIN) is emailed
    a standing link to its confirm page (`links` says who, and who not and why)."""
    settings = settings_of(request)
    kept = holding.keep(settings, actor, body.statement_id)
    return {**kept, "links": holding_links.summary(holding_links.send_links(settings, actor, kept["number"]))}


@holding_router.post("/{number}/activate", status_code=202)
def activate_holding(request: Request, number: Id, actor: Actor = Depends(allowed("activate holding"))) -> dict:
    """Switch it on: published on every channel at once (enqueued, as publish)."""
    return holding.activate(settings_of(request), actor, number, request.app.state.dispatch, via="API")


class LinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default=[], max_length=100, description="Whom to send a fresh link; empty: everyone who may switch it on")


@holding_router.get("/{number}/links")
def holding_links_list(request: Request, number: Id, _: Actor = Depends(allowed("activate holding"))) -> list[dict]:
    """The standing emailed links of this holding statement: who, where, until when, their email's provider
    and their state (valid, used, revoked, expired, `not sent`: its email failed, `unconfirmed`: the
    provider did not answer)."""
    return holding_links.list_links(settings_of(request), [number])


@holding_router.post("/{number}/links", status_code=201)
def holding_links_send(request: Request, number: Id, body: LinksIn = Body(default_factory=LinksIn),
                       actor: Actor = Depends(allowed("activate holding"))) -> dict:
    """Email fresh links; each revokes that person's older one once the provider has taken its email (a
    failed email leaves them the link they had). `sent` names only those whose email went (`provider`
    `log`: logged, not sent); `skipped` who got none, and why. The links are never in the answer."""
    result = holding_links.send_links(settings_of(request), actor, number, body.users or None)
    return holding_links.summary(result)


@holding_router.delete("/{number}/links")
def holding_links_revoke(request: Request, number: Id, actor: Actor = Depends(allowed("activate holding"))) -> dict:
    return holding_links.revoke_links(settings_of(request), actor, number)


routers = [incidents, statements_router, deliveries, holding_router]
