"""The dashboard's view of sending: the send log (one row per delivery with its latest status,
expandable to every state it went through; filters as choices; paged; CSV) and the consistency audit."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ... import channels
from ...delivery.delivery_rows import delivery_rows
from ...delivery.sendlog import STATEMENT
from ...domain.delivery_status import DeliveryStatus
from ...domain.errors import InvalidInput
from ...domain.lifecycle import State
from ...domain.message_secrets import MessageKind
from ...incidents import consistency, statements
from ..common import settings_of
from .common import MAX_ID, id_filter, page, reading

router = APIRouter(include_in_schema=False)
PAGE = 50
VERSION_CHOICES = 200
SENT_STATES = (State.PUBLISHED.value, State.SUPERSEDED.value)


@router.get("/dashboard/send-log")
def send_log_page(request: Request, statement_id: str = "", channel: Annotated[str, Query(max_length=30)] = "",
                  status: Annotated[str, Query(max_length=20)] = "", target: Annotated[str, Query(max_length=320)] = "",
                  kind: Annotated[str, Query(max_length=30)] = "",
                  offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> HTMLResponse:
    reading(request)
    settings = settings_of(request)
    choices = {"channel": channels.names(), "status": [s.value for s in DeliveryStatus],
               "kind": [STATEMENT, *(k.value for k in MessageKind)]}
    for name, value in (("channel", channel), ("status", status), ("kind", kind)):
        if value and value not in choices[name]:
            raise InvalidInput(f"{name}: {value[:30]!r} is not one of {', '.join(choices[name])}")
    filters = {"statement_id": id_filter(statement_id, "statement id"), "channel": channel or None,
               "status": status or None, "target": target.strip() or None, "kind": kind or None}
    rows = delivery_rows(settings, **filters, limit=PAGE + 1, offset=offset)
    query = urlencode({k: v for k, v in filters.items() if v is not None})
    csv_query = urlencode({k: v for k, v in filters.items() if v is not None and k != "kind"})
    # The newest versions that went out, read in SQL: the filter's choices, not the installation's history.
    versions = [{"id": st["id"], "label": f"#{st['incident_id']} v{st['version']}: {st['headline'][:60]}"}
                for st in statements.list_statements(settings, states=SENT_STATES, limit=VERSION_CHOICES,
                                                     newest_first=True)]
    return page(request, "send_log", rows=rows[:PAGE], more=len(rows) > PAGE, offset=offset, page_size=PAGE,
                query=query, csv_query=csv_query, choices=choices, versions=versions,
                filters={k: v if v is not None else "" for k, v in filters.items()})


@router.get("/dashboard/consistency")
def consistency_page(request: Request, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> HTMLResponse:
    reading(request)
    settings = settings_of(request)
    simulated = [name for name in channels.names() if channels.is_simulated(name, settings)]
    report = consistency.consistency_report(settings)
    # After a year, thousands of incidents have a live version: those with a channel behind come first (what
    # someone opens this page for), then the newest, a page at a time. The verdict counts them all.
    ordered = sorted(report["incidents"], key=lambda i: (not i["drift"], -i["incident_id"]))
    return page(request, "consistency", report=report, simulated=simulated, incidents=ordered[offset:offset + PAGE],
                drifting=[i for i in ordered if i["drift"]], total=len(ordered), offset=offset,
                more=len(ordered) > offset + PAGE, page_size=PAGE)
