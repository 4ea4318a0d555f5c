"""/api/v1/social: the social reply queue, the same use cases as `broadcaster social ...`.

Customers' posts (the inbox, with the human-only lane), pull and search, a reply queued from the live
statement's approved variants, a skip, free text proposed and then approved by an approver, the
replies (queued, held and re-based, sent) and X's budget for them. Queueing answers 202: the delivery
engine sends the reply (one per post, ever) inside X's window, behind the statements' posts."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ... import social
from ...domain import field_limits as limits
from ...domain.approval import Actor
from ...domain.field_limits import Line, Text
from ...social.inbox import LANES, PostState
from ...social.inbox import STATES as POST_STATES
from ..common import settings_of
from .common import allowed
from .paging import Page, link_next, page, page_of

PostId = Annotated[str, Path(pattern=r"^[0-9]{1,25}$", description="X's id of the customer's post")]
IncidentId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Line(limits.QUERY, 1, description="X's recent search, e.g. 'acme login down'")


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variant: Annotated[int | None, Field(ge=1, le=100, description="Which approved variant of the live statement "
                                                                   "(default: the next in rotation)")] = None
    statement_id: Annotated[int | None, Field(ge=1, le=2**31 - 1, description=(
        "The live statement whose words you were shown (`GET /variants`): if another version went live since, "
        "the reply is refused with 409 and the new words, and nothing is queued"))] = None


class FreeTextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text(limits.SOCIAL_TEXT, 1, description="The exact words; they go out only once an approver approves them")


class ApproveTextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_hash: Annotated[str, Field(min_length=8, max_length=limits.HASH, pattern=r"^[0-9a-f]+$",
                                       description="The hash of the text you read (at least 8 characters)")]


LedgerState = Literal[tuple(state.value for state in social.LEDGER_STATES)]
router = APIRouter(prefix="/social", tags=["social replies"])


@router.get("/inbox")
def inbox(request: Request, response: Response,
          state: Annotated[PostState | None, Query(description=", ".join(POST_STATES))] = None,
          incident_id: IncidentId = None,
          lane: Annotated[Literal[LANES] | None, Query(description="mention (the API may answer) or "
                                                                    "human_only (a person answers by hand)")] = None,
          chosen: Page = Depends(page), _: Actor = Depends(allowed("read social"))) -> dict:
    """Customers' posts, newest first: each with its state (new, queued, awaiting approval, held, replied,
    failed, skipped, human-only), who picked it up, the incident it is about and its link on X; how many
    posts are in each state; and the reply budget."""
    found = social.inbox(settings_of(request), state, incident_id, chosen.limit, chosen.offset, lane)
    link_next(request, response, found.get("next_offset"))
    return found


@router.post("/pull")
def pull(request: Request, actor: Actor = Depends(allowed("social pull"))) -> dict:
    """Fetch the account's new mentions (since the last one seen, page by page) into the inbox."""
    return social.pull(settings_of(request), actor)


@router.post("/search")
def search(request: Request, body: SearchIn, actor: Actor = Depends(allowed("social pull"))) -> dict:
    """Store recent posts matching `query` that do not mention the account in the human-only lane: the API
    never answers those (X allows it no reply, and forbids automated replies to keyword matches)."""
    return social.search(settings_of(request), actor, body.query)


@router.get("/variants")
def variants(request: Request, response: Response, incident_id: IncidentId = None,
             chosen: Page = Depends(page),
             _: Actor = Depends(allowed("read social"))) -> list[dict]:
    """The approved reply variants, word for word, of the statement live for each incident a reply may be
    about; the one `default` is used for a post pulled while no incident was open."""
    return page_of(request, response, social.live_variants(settings_of(request), incident_id), chosen)


@router.post("/posts/{post_id}/reply", status_code=202)
def reply(request: Request, post_id: PostId, body: ReplyIn = Body(default_factory=ReplyIn),
          actor: Actor = Depends(allowed("social reply"))) -> dict:
    """Queue the one reply to this post from the live statement's approved variants; the delivery engine
    sends it. A second reply to the same post, a post in the human-only lane or a skipped one is refused
    (403); so is one naming a `statement_id` that is no longer live (409, with the new words)."""
    return social.reply(settings_of(request), actor, post_id, body.variant, dispatch=request.app.state.dispatch,
                        statement_id=body.statement_id)


@router.post("/posts/{post_id}/skip")
def skip(request: Request, post_id: PostId, actor: Actor = Depends(allowed("social reply"))) -> dict:
    """This post needs no reply (or a person answered it by hand)."""
    return social.skip(settings_of(request), actor, post_id)


@router.post("/posts/{post_id}/free-text", status_code=201)
def propose(request: Request, post_id: PostId, body: FreeTextIn,
            actor: Actor = Depends(allowed("social reply"))) -> dict:
    """Propose free text for this post's one reply: it waits until an approver (not you) approves its hash."""
    return social.propose(settings_of(request), actor, post_id, body.text)


@router.post("/posts/{post_id}/free-text/approve", status_code=202)
def approve_text(request: Request, post_id: PostId, body: ApproveTextIn,
                 actor: Actor = Depends(allowed("approve reply"))) -> dict:
    """Approve the exact free text proposed for this post (approvers, never its proposer); it is queued."""
    return social.approve_text(settings_of(request), actor, post_id, body.content_hash,
                               dispatch=request.app.state.dispatch)


@router.get("/free-text")
def proposals(request: Request, response: Response, chosen: Page = Depends(page),
              _: Actor = Depends(allowed("approve reply"))) -> dict:
    """Free text waiting for an approver: the exact words, their hash, the post they answer, who proposed them."""
    found = social.ledger(settings_of(request), PostState.AWAITING_APPROVAL, chosen.limit, chosen.offset)
    link_next(request, response, found.get("next_offset"))
    return found


@router.get("/replies")
def replies(request: Request, response: Response,
            state: Annotated[LedgerState | None, Query(description=", ".join(social.LEDGER_STATES))] = None,
            chosen: Page = Depends(page), _: Actor = Depends(allowed("read social"))) -> dict:
    """The replies, newest first, with the exact words: `state=held` (its version was superseded; re-based
    next), `queued` (`rebased_from_version` says the words changed), `replied` (with the reply's link on X),
    `failed`, `awaiting approval`."""
    found = social.ledger(settings_of(request), state, chosen.limit, chosen.offset)
    link_next(request, response, found.get("next_offset"))
    return found


@router.get("/budget")
def budget(request: Request, _: Actor = Depends(allowed("read social"))) -> dict:
    """How many replies can go out now (X's window less the share kept for statements), and by when the
    queued rest will have gone. `window_resets_at`: when X's current window ends and its budget is whole
    again; `null` while no window is running (no post since the last one ended): the full budget is
    available (`window_remaining` = `window_limit`), and the window, `window_seconds` long, starts with the
    next post. `all_sent_by`: when the last queued reply can have gone (now, with nothing queued)."""
    return social.budget(settings_of(request))


routes = [router]
