"""Every list of the API a page at a time: `limit` (1–1000, default 100) and either `offset` or the
opaque `cursor` of a `Link: <...>; rel="next"` header (RFC 8288), which every list answers with
while there is more. A client follows `next` links until there is none."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Request, Response

from .common import Limit, Offset

Cursor = Annotated[str | None, Query(max_length=10, pattern=r"^o[0-9]{1,9}$", description=(
    "Where the page starts: the `cursor` of the previous page's `Link: <...>; rel=\"next\"` (opaque)"))]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


async def page(limit: Limit = 100, offset: Offset = 0, cursor: Cursor = None) -> Page:
    """A dependency: the page asked for (a cursor wins over an offset). A coroutine, though it waits on
    nothing: FastAPI runs a plain function in a worker thread, a hop and back for every list asked for."""
    return Page(limit, offset if cursor is None else _offset_of(cursor))


def cursor_at(offset: int) -> str:
    return f"o{offset}"


def _offset_of(cursor: str) -> int:
    # The pattern is checked first (422 naming `cursor`); what it lets through is a position.
    return int(cursor[1:])


def link_next(request: Request, response: Response, next_offset: int | None) -> None:
    """`Link: <this URL, next page>; rel="next"` when there is a next page."""
    if next_offset is None:
        return
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "cursor")]
    url = request.url.include_query_params(**dict(query), cursor=cursor_at(next_offset)).remove_query_params("offset")
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'


def page_of(request: Request, response: Response, items: list, chosen: Page) -> list:
    """One page of a list the use case gives whole (a short one: users, tokens, holding statements); a list
    that grows with history is paged in SQL instead (`read_one_more`, `page_read`)."""
    end = chosen.offset + chosen.limit
    link_next(request, response, end if len(items) > end else None)
    return items[chosen.offset:end]


def read_one_more(chosen: Page) -> dict:
    """The `limit` and `offset` to read a page in SQL: one row more than the page, to know if there is a next."""
    return {"limit": chosen.limit + 1, "offset": chosen.offset}


def page_read(request: Request, response: Response, rows: list, chosen: Page) -> list:
    """The page of rows read with `read_one_more` (a long list, paged in SQL: incidents, statements)."""
    link_next(request, response, chosen.offset + chosen.limit if len(rows) > chosen.limit else None)
    return rows[:chosen.limit]
