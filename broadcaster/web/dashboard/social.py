"""The dashboard's social page: the inbox of customers' posts, the live statement's approved reply
variants, the queue (held and re-based replies flagged), the sent replies, the human-only lane (a link
to answer by hand on X, never an API reply) and X's budget, each section paged by the database. Every
form carries the CSRF token; each action is the use case `broadcaster social ...` runs, and a Reply names
the live statement whose words the page showed (a newer one live by the click: refused, with its words).
What the page says after a form is worded in templates/_web/dashboard/notices.txt."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from ... import social
from ...social.inbox import HUMAN_ONLY, MENTION, STATES, PostState
from ..api.social import PostId
from ..common import settings_of
from .common import MAX_ID, page, reading, run_action

router = APIRouter(include_in_schema=False)
HOME = "/dashboard/social"
PAGE_SIZE = 50
QUEUE_STATES = (PostState.AWAITING_APPROVAL, PostState.HELD, PostState.QUEUED, PostState.FAILED)
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


@router.get(HOME)
def social_page(request: Request, state: Annotated[str, Query(max_length=20)] = "", offset: Offset = 0,
                queue_offset: Offset = 0, sent_offset: Offset = 0, human_offset: Offset = 0,
                refused: Annotated[str, Query(max_length=30)] = "") -> HTMLResponse:
    """Each section is one page of its own (PAGE_SIZE rows, read and counted by the database): during an
    outage the inbox holds thousands of posts, and a refresh reads only what it shows. `refused`: the post
    a Reply or Skip was just refused for, whose card says why (the browser scrolls to the card, away from
    the message at the top)."""
    reading(request, "read social")
    settings = settings_of(request)
    state = state if state in STATES else ""
    shown = social.inbox(settings, state or None, limit=PAGE_SIZE, offset=offset, lane=MENTION)
    return page(request, "social", inbox=shown, state=state, states=STATES,
                variants={v["incident_id"]: v for v in social.live_variants(settings)},
                queue=social.ledger(settings, QUEUE_STATES, limit=PAGE_SIZE, offset=queue_offset),
                sent=social.ledger(settings, PostState.REPLIED, limit=PAGE_SIZE, offset=sent_offset),
                human_only=social.posts(settings, lane=HUMAN_ONLY, limit=PAGE_SIZE, offset=human_offset),
                human_offset=human_offset, budget=shown["budget"], offset=offset, page_size=PAGE_SIZE,
                refused=refused, read_at=datetime.now(UTC).isoformat(timespec="seconds"))


@router.post(f"{HOME}/pull")
def pull(request: Request, csrf_token: str = Form("")) -> Response:
    return run_action(request, csrf_token, "social pull", lambda settings, actor: social.pull(settings, actor),
                      HOME, HOME, "social_pulled")


@router.post(f"{HOME}/search")
def search(request: Request, csrf_token: str = Form(""), query: str = Form("")) -> Response:
    return run_action(request, csrf_token, "social pull",
                      lambda settings, actor: social.search(settings, actor, query),
                      HOME + "#human-only", HOME, "social_searched")


@router.post(HOME + "/posts/{post_id}/reply")
def reply(request: Request, post_id: PostId, csrf_token: str = Form(""),
          variant: Annotated[int | None, Form(ge=1, le=100)] = None,
          statement_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None) -> Response:
    """`variant` empty: the next in rotation. `statement_id`: the version whose words the page showed;
    if another went live since, nothing is queued and the page says the new words."""
    return run_action(request, csrf_token, "social reply", lambda settings, actor: social.reply(
        settings, actor, post_id, variant, dispatch=request.app.state.dispatch, statement_id=statement_id),
        HOME + "#post-{post_id}", _refused(post_id), "reply_queued")


@router.post(HOME + "/posts/{post_id}/skip")
def skip(request: Request, post_id: PostId, csrf_token: str = Form(""),
         lane: Annotated[str, Form(max_length=20)] = MENTION) -> Response:
    """`lane`: the section the button was in; a human-only post's card is `#human-N`, not `#post-N`."""
    human = lane == HUMAN_ONLY
    return run_action(request, csrf_token, "social reply",
                      lambda settings, actor: social.skip(settings, actor, post_id),
                      HOME + "#human-only" if human else HOME, _refused(post_id, "human" if human else "post"),
                      "post_skipped")


def _refused(post_id: str, card: str = "post") -> str:
    """Back to the post's card (`#post-N` in the inbox, `#human-N` in the human-only lane), which says why
    its Reply or Skip was refused."""
    return f"{HOME}?refused={post_id}#{card}-{post_id}"


@router.post(HOME + "/posts/{post_id}/free-text")
def propose(request: Request, post_id: PostId, csrf_token: str = Form(""), text: str = Form("")) -> Response:
    return run_action(request, csrf_token, "social reply",
                      lambda settings, actor: social.propose(settings, actor, post_id, text),
                      HOME + "#queue", HOME, "free_text_proposed")


@router.post(HOME + "/posts/{post_id}/free-text/approve")
def approve_text(request: Request, post_id: PostId, csrf_token: str = Form(""),
                 content_hash: str = Form("")) -> Response:
    """From the approvers' inbox, where the free text is shown word for word with its hash."""
    return run_action(request, csrf_token, "approve reply", lambda settings, actor: social.approve_text(
        settings, actor, post_id, content_hash, dispatch=request.app.state.dispatch),
        "/dashboard/inbox", "/dashboard/inbox", "free_text_approved")
