"""The inbox: customers' posts pulled from X, the human-only lane, and what the queue did with each.

``pull`` reads the account's mentions since the last id seen (paged; the cursor moves only once
every page is stored, so an interrupted pull re-reads rather than skips) and stores each post with
the incident open at the time. ``search`` stores matches that do not mention the account in the
human-only lane: the API never answers those (X's self-serve tiers may reply only to posts that
mention or quote the account, and its rules forbid automated replies to keyword matches); the inbox
shows them with a link for a person.
"""

import math
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from ..channels import x_budget
from ..config import Settings
from ..domain.approval import Actor
from ..domain.delivery_status import FAILED_FOR_GOOD, REACHED, DeliveryStatus
from ..domain.errors import InvalidInput, NotAllowed, NotFound
from ..domain.lifecycle import State
from ..store.db import insert_for, lock_for_writing, transaction
from ..store.models import Delivery, Incident, Statement, User, utcnow
from ..store.social_models import SocialCursor, SocialPost, SocialReply
from ..usecase import acting, log_action, unit_of_work
from .x_reader import Post, XReader

MENTION, HUMAN_ONLY = "mention", "human_only"
LANES = (MENTION, HUMAN_ONLY)


class PostState(StrEnum):
    """Where a customer's post stands in the queue (computed from its reply's delivery, `post_state`)."""

    NEW = "new"
    QUEUED = "queued"
    AWAITING_APPROVAL = "awaiting approval"  # free text proposed, waiting for an approver
    HELD = "held"  # queued on a version no longer live: re-based on the live one by the next tick
    REPLIED = "replied"
    FAILED = "failed"
    SKIPPED = "skipped"
    HUMAN_ONLY = "human-only"  # found by a search: answered by a person, never by the API


STATES = tuple(PostState)


def open_incident_id(s: Session) -> int | None:
    """The incident customers are most likely asking about: the newest unresolved one with words live."""
    return s.scalar(select(Incident.id).join(Statement, Statement.incident_id == Incident.id)
                    .where(Incident.resolved_at.is_(None), Statement.state == State.PUBLISHED.value)
                    .order_by(Incident.id.desc()).limit(1))


def pull(settings: Settings, actor: Actor | None = None) -> dict:
    """Store the account's new mentions; returns what was read. Beat runs it while an incident is open
    (no actor); a person asking for it (the web app) must have the role to."""
    if actor is not None:
        with acting(settings, actor, "social pull", "mentions"):
            pass  # the role check (and its audit on refusal) before anything is asked of X
    reader = XReader(settings)
    user_id, _ = reader.account()
    cursor = f"mentions:{user_id}"
    result = _read_into_inbox(settings, cursor, reader.mentions(user_id, _since(settings, cursor)),
                              lambda post: MENTION, "mentions")
    with unit_of_work(settings) as s:
        log_action(s, actor, "social pull", cursor, result)
    return result


def search(settings: Settings, actor: Actor, query: str) -> dict:
    """Store recent posts matching `query` that do not mention the account, in the human-only lane.
    Those that mention it are left to `pull` (they are in the mentions too)."""
    if not query.strip():
        raise InvalidInput("query: say what to search for, e.g. 'acme login down'")
    with acting(settings, actor, "social pull", f"search:{query[:50]}"):
        pass  # the role check (and its audit on refusal) before anything is asked of X
    reader = XReader(settings)
    _, username = reader.account()
    cursor = f"search:{query.strip()}"[:300]
    human_only = [0]

    def lane(post: Post) -> str | None:
        if _mentions(post.text, username):
            return None
        human_only[0] += 1
        return HUMAN_ONLY

    result = _read_into_inbox(settings, cursor, reader.search(query.strip(), _since(settings, cursor)), lane,
                              f"search: {query.strip()}")
    with unit_of_work(settings) as s:
        log_action(s, actor, "social search", cursor, result)
    return {**result, "human_only": human_only[0], "left_to_pull": result["fetched"] - human_only[0]}


def _mentions(text: str, username: str) -> bool:
    return f"@{username.lower()}" in text.lower()


def _read_into_inbox(settings: Settings, cursor: str, pages: Iterable[list[Post]], lane_of, found_by: str) -> dict:
    fetched = stored = page_count = 0
    newest = None
    with unit_of_work(settings) as s:
        incident_id = open_incident_id(s)
    for page in pages:
        page_count += 1
        fetched += len(page)
        keep = [(post, lane) for post in page if (lane := lane_of(post))]
        stored += _store(settings, keep, incident_id, found_by)
        newest = max([newest, *(int(p.id) for p in page)], key=lambda v: v or 0)
    if newest is not None:
        _move_cursor(settings, cursor, str(newest))
    return {"pages": page_count, "fetched": fetched, "new": stored, "since_id": _since(settings, cursor),
            "incident_id": incident_id}


def _store(settings: Settings, posts: list[tuple[Post, str]], incident_id: int | None, found_by: str) -> int:
    """Insert the posts not stored yet (a post keeps its first lane: a human-only post never becomes
    answerable by being found again). Returns how many were new."""
    if not posts:
        return 0
    with transaction(settings.database_url) as s:
        rows = [{"id": p.id, "author_id": p.author_id, "author_username": p.author_username, "text": p.text,
                 "posted_at": p.posted_at,
                 "conversation_id": p.conversation_id, "incident_id": incident_id, "lane": lane,
                 "found_by": found_by[:300], "pulled_at": utcnow()} for p, lane in posts]
        inserted = s.scalars(insert_for(s, SocialPost).values(rows).on_conflict_do_nothing(index_elements=["id"])
                             .returning(SocialPost.id)).all()
        return len(inserted)


def _since(settings: Settings, cursor: str) -> str | None:
    with transaction(settings.database_url) as s:
        return s.scalar(select(SocialCursor.since_id).where(SocialCursor.name == cursor))


def _move_cursor(settings: Settings, cursor: str, newest: str) -> None:
    with transaction(settings.database_url) as s:
        row = s.get(SocialCursor, cursor, with_for_update=True)
        if row is None:
            s.add(SocialCursor(name=cursor, since_id=newest))
        elif int(newest) > int(row.since_id):
            row.since_id = newest


def skip(settings: Settings, actor: Actor, post_id: str) -> dict:
    """A person decided this post needs no reply (or answered it by hand). The post row is locked, as a
    reply locks it: a skip and a reply of one post at the same moment take turns, and the second is refused."""
    with acting(settings, actor, "social reply", f"post:{post_id}") as s:
        post = get_post(s, post_id, lock=True)
        if s.scalar(select(SocialReply.id).where(SocialReply.post_id == post.id)):
            raise NotAllowed(f"post {post.id} already has a reply queued or sent: it cannot be skipped")
        post.skipped_by_id, post.skipped_at = actor.id, utcnow()
        log_action(s, actor, "social skip", f"post:{post.id}", {})
    return {"post_id": post.id, "state": PostState.SKIPPED}


def get_post(s: Session, post_id: str, lock: bool = False) -> SocialPost:
    """The post (its id as typed, spaces aside); with `lock`, its row locked until the transaction ends
    (SQLite: the write lock), for deciding what becomes of it."""
    if lock:
        lock_for_writing(s)
    post = s.get(SocialPost, str(post_id).strip(), with_for_update=lock)
    if post is None:
        raise NotFound(f"post {post_id}: not in the inbox; run `broadcaster social pull` (or search) first")
    return post


def post_url(post: SocialPost) -> str:
    return f"https://x.com/{post.author_username or 'i/web'}/status/{post.id}"


def post_state():
    """A post's state (one of STATES), computed by the database over a post joined to its reply, that
    reply's delivery and its statement (`with_reply`), so that the inbox filters, counts and pages in SQL."""
    return case(
        (SocialPost.lane == HUMAN_ONLY, PostState.HUMAN_ONLY),
        (SocialReply.id.is_(None), case((SocialPost.skipped_at.is_not(None), PostState.SKIPPED), else_=PostState.NEW)),
        (SocialReply.delivery_id.is_(None), PostState.AWAITING_APPROVAL),
        (Delivery.status.in_(REACHED), PostState.REPLIED),
        (Delivery.status.in_(FAILED_FOR_GOOD), PostState.FAILED),
        # its version was superseded before it went: re-based on the live one next
        (and_(Delivery.status == DeliveryStatus.CANCELLED, Statement.state != State.PUBLISHED.value), PostState.HELD),
        else_=PostState.QUEUED)


def with_reply(query):
    """`query` over posts, joined to each post's reply (if any), its delivery and its statement."""
    return (query.outerjoin(SocialReply, SocialReply.post_id == SocialPost.id)
            .outerjoin(Delivery, Delivery.id == SocialReply.delivery_id)
            .outerjoin(Statement, Statement.id == SocialReply.statement_id))


def inbox(settings: Settings, state: str | None = None, incident_id: int | None = None, limit: int | None = None,
          offset: int = 0, lane: str | None = None) -> dict:
    """Posts newest first with their state, who picked them up and the incident (a page of them when `limit`
    is given; only one lane's when `lane` is), how many posts are in each state, and the reply budget. The
    states are counted, filtered and paged by the database: a page reads its own rows, not the inbox."""
    _refuse_unknown(state, lane)
    with unit_of_work(settings) as s:
        counts = _counts(s, incident_id)
        queued = counts[PostState.QUEUED] if incident_id is None else _counts(s, None)[PostState.QUEUED]
        shown = _post_views(s, state, incident_id, lane, limit, offset)
    total = sum(n for name, n in counts.items() if (state is None or name == state) and _in_lane(name, lane))
    return {**page_of(shown, "posts", total, limit, offset), "counts": counts, "budget": reply_budget(settings, queued)}


def posts(settings: Settings, state: str | None = None, incident_id: int | None = None, limit: int | None = None,
          offset: int = 0, lane: str | None = None) -> list[dict]:
    """One page of the inbox's posts, without the counts and the budget `inbox` adds."""
    _refuse_unknown(state, lane)
    with unit_of_work(settings) as s:
        return _post_views(s, state, incident_id, lane, limit, offset)


def _refuse_unknown(state: str | None, lane: str | None) -> None:
    if state is not None and state not in STATES:
        raise InvalidInput(f"state: choose among {', '.join(STATES)}")
    if lane is not None and lane not in LANES:
        raise InvalidInput(f"lane: choose among {', '.join(LANES)}")


def _in_lane(state: str, lane: str | None) -> bool:
    return lane is None or (state == PostState.HUMAN_ONLY) == (lane == HUMAN_ONLY)  # the lane decides that state


def page_of(rows: list[dict], name: str, total: int, limit: int | None, offset: int) -> dict:
    """One page of `total` rows, with where the next one starts."""
    more = limit is not None and offset + limit < total
    return {name: rows, "total": total, "limit": limit, "offset": offset,
            "next_offset": offset + limit if more else None}


def budget(settings: Settings) -> dict:
    """How many replies can go out now, and by when the queued rest will have gone."""
    with unit_of_work(settings) as s:
        return reply_budget(settings, _counts(s, None)[PostState.QUEUED])


def _counts(s: Session, incident_id: int | None) -> dict[str, int]:
    """How many posts (of this incident) are in each state: one GROUP BY."""
    query = with_reply(select(post_state().label("state")).select_from(SocialPost))
    if incident_id is not None:
        query = query.where(SocialPost.incident_id == incident_id)
    states = query.subquery()
    found = {state: n for state, n in s.execute(select(states.c.state, func.count()).group_by(states.c.state))}
    return {name: found.get(name, 0) for name in STATES}


def _post_views(s: Session, state: str | None, incident_id: int | None, lane: str | None, limit: int | None,
                offset: int) -> list[dict]:
    picker, skipper = aliased(User), aliased(User)
    query = (with_reply(select(SocialPost, SocialReply, Delivery, Statement, picker.name, skipper.name,
                               post_state()))
             .outerjoin(picker, picker.id == SocialReply.queued_by_id)
             .outerjoin(skipper, skipper.id == SocialPost.skipped_by_id)
             .order_by(SocialPost.posted_at.desc(), SocialPost.id.desc()).offset(offset).limit(limit))
    if state is not None:
        query = query.where(post_state() == state)
    if incident_id is not None:
        query = query.where(SocialPost.incident_id == incident_id)
    if lane is not None:
        query = query.where(SocialPost.lane == lane)
    open_now = open_incident_id(s)
    return [_post_view(post, reply, delivery, statement, picked_by or skipped_by, state_now, open_now)
            for post, reply, delivery, statement, picked_by, skipped_by, state_now in s.execute(query)]


def _post_view(post: SocialPost, reply: SocialReply | None, delivery: Delivery | None, statement: Statement | None,
               picked_by: str | None, state: str, open_now: int | None) -> dict:
    failed = delivery is not None and state == PostState.FAILED
    return {
        "id": post.id, "url": post_url(post), "author": post.author_username, "text": post.text,
        "posted_at": post.posted_at.isoformat() if post.posted_at else None, "incident_id": post.incident_id,
        # whose live statement a reply would use: the post's incident, else the one open now (as `reply` does)
        "reply_incident_id": post.incident_id or open_now,
        "lane": post.lane, "state": state,
        "picked_by": picked_by, "delivery_status": delivery.status if delivery else None,
        # why a failed reply did not go: the engine's words, and its code (e.g. "tampered") to say it plainly
        "error": delivery.error_message if failed else None, "error_code": delivery.error_code if failed else None,
        "version": statement.version if statement else None,
        "variant": reply.variant if reply else None, "free_text": reply.custom_text if reply else None,
        "note": reply.note if reply else "",
    }


def reply_budget(settings: Settings, queued: int) -> dict:
    """How many replies X's window lets go now, and when the queued rest will (statements keep their reserve).
    `window_resets_at` is None while no window runs (no post yet in one): the full budget is there, and
    X's window (`window_seconds`) starts with the next post, so no reset time is true yet; the queued
    rest is then reckoned from now."""
    budget = x_budget(settings)
    now, per_window, resets = time.time(), budget["replies_per_window"], budget["window_resets_at"]
    rest = max(queued - budget["replies_now"], 0)
    if rest and per_window:
        first_ends = resets if resets is not None else now + budget["window_seconds"]
        done_at = first_ends + (math.ceil(rest / per_window) - 1) * budget["window_seconds"]
    else:
        done_at = now if not rest else None
    return {**budget, "queued": queued, "after_this_window": rest,
            # whole seconds, rounded up: a reset said to the second is never said before it happens
            "window_resets_at": _iso(math.ceil(resets)) if resets is not None else None,
            "all_sent_by": _iso(math.ceil(done_at)) if done_at else None}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


