"""The dashboard's view of sending: the send log (filtered, paged) and the consistency audit."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ...delivery import sendlog
from ...incidents import consistency
from ..common import settings_of
from .common import MAX_ID, id_filter, page, reading

router = APIRouter(include_in_schema=False)


@router.get("/dashboard/send-log")
def send_log_page(request: Request, statement_id: str = "", channel: Annotated[str, Query(max_length=30)] = "",
             status: Annotated[str, Query(max_length=20)] = "", target: Annotated[str, Query(max_length=320)] = "",
             offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> HTMLResponse:
    reading(request)
    filters = {"statement_id": id_filter(statement_id, "statement id"), "channel": channel or None,
               "status": status or None, "target": target or None}
    rows = sendlog.send_log(settings_of(request), **filters, limit=101, offset=offset)
    query = urlencode({k: v for k, v in filters.items() if v is not None})
    return page(request, "send_log", rows=rows[:100], more=len(rows) > 100, offset=offset, query=query,
                filters={k: v if v is not None else "" for k, v in filters.items()})


@router.get("/dashboard/consistency")
def consistency_page(request: Request) -> HTMLResponse:
    reading(request)
    return page(request, "consistency", report=consistency.consistency_report(settings_of(request)))
