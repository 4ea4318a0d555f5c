"""Replies: queued from the live statement's approved variants, one per post, ever.

The ledger row (``social_replies``, unique on the post id) is written in the same transaction as the
reply's delivery and before anything is sent: a double click, two team members or a redelivered
task find it and stop. The delivery engine sends it (channel ``reply``), retries it and logs it
like every send. A reply whose version is superseded before it went is cancelled by the publish,
shown as held, and re-based on the new live version (same variant) by ``rebase_held``. Free text
goes out only once an approver approved those exact words (``propose`` → ``approve_text``).
"""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..channels import channel, transport_for
from ..channels.reply import variant_numbers
from ..config import Settings
from ..delivery import enqueue as broker
from ..delivery.dispatch import Dispatch
from ..delivery.records import add_or_requeue
from ..domain.approval import Actor
from ..domain.delivery_status import REACHED, DeliveryStatus
from ..domain.errors import IllegalTransition, InvalidInput, LimitExceeded, NotAllowed
from ..domain.hashing import sha256_of
from ..domain.lifecycle import State
from ..store.db import transaction
from ..store.models import Delivery, Incident, Statement, User
from ..store.social_models import SocialPost, SocialReply
from ..usecase import acting, label, live_statement, log_action, unit_of_work
from .inbox import HUMAN_ONLY, PostState, get_post, open_incident_id, page_of, post_state, post_url

REPLY = "reply"


def reply(settings: Settings, actor: Actor, post_id: str, variant: int | None = None,
          dispatch: Dispatch | None = None, statement_id: int | None = None) -> dict:
    """Queue the reply to one post: an approved variant of the live statement (default: the next in
    rotation, so consecutive replies differ and X sees no duplicate content). `statement_id`: the
    version whose words the caller was shown; if another is live now, nothing is queued and the
    refusal (IllegalTransition) says the new words."""
    with acting(settings, actor, "social reply", f"post:{post_id}") as s:
        post = get_post(s, post_id, lock=True)  # a skip of it waits, or is waited for
        _refuse_unanswerable(s, post)
        live = _live_for(s, post)
        _refuse_other_version(live, statement_id, variant)
        chosen = _choose_variant(s, live, variant)
        row = _claim(s, SocialReply(post_id=post.id, statement_id=live.id, variant=chosen, queued_by_id=actor.id))
        row.delivery_id = _new_delivery(settings, s, live, post.id, f"queued by {actor.name}")
        log_action(s, actor, "social reply", f"post:{post.id}",
                   {"statement": live.id, "version": live.version, "variant": chosen, "delivery": row.delivery_id})
        result = {"post_id": post.id, "state": PostState.QUEUED, "statement_id": live.id, "version": live.version,
                  "variant": chosen, "delivery_id": row.delivery_id, "text": _variant_text(live, chosen)}
    (dispatch or broker.enqueue)(settings, [result["delivery_id"]])
    return result


def propose(settings: Settings, actor: Actor, post_id: str, text: str) -> dict:
    """Free text for one reply: held in the ledger until an approver approves these exact words."""
    text = text.strip()
    if not text:
        raise InvalidInput("text: empty; say what the reply should say, or use an approved variant (--variant)")
    _refuse_too_long(settings, text)
    with acting(settings, actor, "social reply", f"post:{post_id}") as s:
        post = get_post(s, post_id, lock=True)  # a skip of it waits, or is waited for
        _refuse_unanswerable(s, post)
        live = _live_for(s, post)
        digest = sha256_of(text)
        _claim(s, SocialReply(post_id=post.id, statement_id=live.id, variant=None, custom_text=text,
                              custom_hash=digest, queued_by_id=actor.id))
        log_action(s, actor, "social propose", f"post:{post.id}", {"hash": digest, "text": text})
    return {"post_id": post.id, "state": PostState.AWAITING_APPROVAL, "hash": digest, "text": text}


def approve_text(settings: Settings, actor: Actor, post_id: str, seen_hash: str,
                 dispatch: Dispatch | None = None) -> dict:
    """An approver approves the exact free text proposed for a post; only then is it queued."""
    with acting(settings, actor, "approve reply", f"post:{post_id}") as s:
        row = s.scalar(select(SocialReply).where(SocialReply.post_id == str(post_id)).with_for_update())
        if row is None or row.custom_text is None:
            raise IllegalTransition(f"post {post_id}: no free text proposed for it (`broadcaster social reply "
                               f"{post_id} --text ...` proposes one)")
        if row.approved_hash:
            raise NotAllowed(f"post {post_id}: its free text is already approved")
        if row.queued_by_id == actor.id:
            raise NotAllowed(f"{actor.name} proposed this text and cannot approve it; another approver must")
        seen = (seen_hash or "").strip().lower()
        if len(seen) < 8 or not row.custom_hash.startswith(seen):
            raise NotAllowed(f"the approval is for text {seen[:12] or '(none)'} but the proposed text hashes to "
                             f"{row.custom_hash[:12]}: read it again and approve what you see")
        live = _live_for(s, row.post)
        row.approved_hash, row.approved_by_id, row.statement_id = row.custom_hash, actor.id, live.id
        row.delivery_id = _new_delivery(settings, s, live, row.post_id, f"free text approved by {actor.name}")
        log_action(s, actor, "approve reply", f"post:{row.post_id}", {"hash": row.custom_hash})
        result = {"post_id": row.post_id, "state": PostState.QUEUED, "hash": row.custom_hash,
                  "delivery_id": row.delivery_id}
    (dispatch or broker.enqueue)(settings, [result["delivery_id"]])
    return result


def rebase_held(settings: Settings, dispatch: Dispatch | None = None) -> int:
    """Replies whose version was superseded before they went: queued again on the live version (the same
    variant when it still exists), with a note saying so. Returns how many were re-based."""
    with transaction(settings.database_url) as s:
        held = s.scalars(select(SocialReply).join(Delivery, Delivery.id == SocialReply.delivery_id)
                         .join(Statement, Statement.id == SocialReply.statement_id)
                         .where(Delivery.status == DeliveryStatus.CANCELLED, Statement.state != State.PUBLISHED.value)
                         .order_by(SocialReply.id).with_for_update(skip_locked=True)).all()
        ids = []
        for row in held:
            live = live_statement(s, row.statement.incident_id)
            if live is None or _reply_fields(live) is None:
                continue  # nothing live to re-base on: it stays held, and the inbox says so
            old = row.statement
            if row.variant is not None and row.variant not in variant_numbers(_reply_fields(live)):
                row.variant = variant_numbers(_reply_fields(live))[0]
            row.rebased_from_id = row.rebased_from_id or old.id
            row.statement_id = live.id
            row.note = (f"re-based from v{old.version} to v{live.version}: v{old.version} was superseded before "
                        "the reply went, so it now says the live words")
            row.delivery_id = _new_delivery(settings, s, live, row.post_id, row.note)
            log_action(s, None, "social rebase", f"post:{row.post_id}",
                       {"from": old.id, "to": live.id, "delivery": row.delivery_id})
            ids.append(row.delivery_id)
    if ids:
        (dispatch or broker.enqueue)(settings, ids)
    return len(ids)


LEDGER_STATES = (PostState.AWAITING_APPROVAL, PostState.QUEUED, PostState.HELD, PostState.REPLIED, PostState.FAILED)


def ledger(settings: Settings, state: str | tuple[str, ...] | None = None, limit: int | None = None,
           offset: int = 0) -> dict:
    """Every reply in the ledger, newest first (a page when `limit` is given; only those in `state`, one
    or several, when it is): its post, the exact words it says or said, who queued (and approved) it,
    whether it was re-based on a newer version, and once it went, the reply's own post on X. The state
    is computed, filtered and paged by the database."""
    wanted = (state,) if isinstance(state, str) else tuple(state or ())
    if any(one not in LEDGER_STATES for one in wanted):
        raise InvalidInput(f"state: choose among {', '.join(LEDGER_STATES)}")
    queued_by, approved_by, first = aliased(User), aliased(User), aliased(Statement)
    state_now = post_state()
    with unit_of_work(settings) as s:
        total = s.scalar(_in_ledger(select(func.count()).select_from(SocialReply), state_now, wanted))
        query = (_in_ledger(select(SocialReply, SocialPost, Delivery, Statement, queued_by.name, approved_by.name,
                                   first.version, state_now), state_now, wanted)
                 .join(queued_by, queued_by.id == SocialReply.queued_by_id)
                 .outerjoin(approved_by, approved_by.id == SocialReply.approved_by_id)
                 .outerjoin(first, first.id == SocialReply.rebased_from_id)
                 .order_by(SocialReply.queued_at.desc(), SocialReply.id.desc()).offset(offset).limit(limit))
        words: dict[int, dict[str, str]] = {}
        rows = [_ledger_view(row, words) for row in s.execute(query)]
    return page_of(rows, "replies", total, limit, offset)


def _in_ledger(query, state_now, wanted: tuple[str, ...]):
    """`query` over replies, joined to what their state is computed from, in the states `wanted`."""
    query = (query.join(SocialPost, SocialPost.id == SocialReply.post_id)
             .join(Statement, Statement.id == SocialReply.statement_id)
             .outerjoin(Delivery, Delivery.id == SocialReply.delivery_id))
    return query.where(state_now.in_(wanted)) if wanted else query


def _ledger_view(row, words: dict[int, dict[str, str]]) -> dict:
    reply, post, delivery, statement, queued_by, approved_by, first_version, state = row
    if statement.id not in words:
        words[statement.id] = _reply_fields(statement) or {}
    status = delivery.status if delivery else None
    reached = status in REACHED
    return {
        "post_id": post.id, "post_url": post_url(post), "author": post.author_username, "post_text": post.text,
        "incident_id": statement.incident_id, "state": state, "statement_id": statement.id,
        "version": statement.version, "variant": reply.variant, "free_text": reply.custom_text is not None,
        "text": reply.custom_text if reply.custom_text is not None else words[statement.id].get(
            f"variant{reply.variant}", ""),
        "hash": reply.custom_hash, "queued_by": queued_by,
        "queued_at": reply.queued_at.isoformat(timespec="seconds"), "approved_by": approved_by,
        "rebased_from_version": first_version, "note": reply.note or "",
        "delivery_id": reply.delivery_id, "delivery_status": status,
        "error": delivery.error_message if delivery is not None and state == PostState.FAILED else None,
        "error_code": delivery.error_code if delivery is not None and state == PostState.FAILED else None,
        "sent_at": delivery.updated_at.isoformat(timespec="seconds") if reached else None,
        "reply_id": delivery.provider_message_id if reached else None,
        "reply_url": f"https://x.com/i/web/status/{delivery.provider_message_id}"
        if reached and delivery.provider_message_id else None,
    }


def live_variants(settings: Settings, incident_id: int | None = None) -> list[dict]:
    """The approved reply variants, word for word, of the statement live for each incident a reply may be
    about (`incident_id`, else every unresolved one and every one a post in the inbox is about); the
    incident a post without one is answered for (the newest open) comes first."""
    with unit_of_work(settings) as s:
        default = open_incident_id(s)
        if incident_id is not None:
            ids = {incident_id}
        else:
            ids = set(s.scalars(select(Incident.id).where(Incident.resolved_at.is_(None))))
            ids |= set(s.scalars(select(SocialPost.incident_id).where(SocialPost.incident_id.is_not(None))
                                 .distinct()))
        shown = []
        for number in sorted(ids, key=lambda i: (i != default, -i)):
            live = live_statement(s, number)
            if live is None:
                continue
            fields = _reply_fields(live) or {}
            shown.append({"incident_id": number, "incident_title": live.incident.title,
                          "resolved": live.incident.resolved_at is not None, "default": number == default,
                          "statement_id": live.id, "version": live.version, "status": live.status,
                          "content_hash": live.content_hash,
                          "variants": [{"number": n, "text": fields[f"variant{n}"]} for n in variant_numbers(fields)]})
    return shown


def _refuse_unanswerable(s: Session, post: SocialPost) -> None:
    if post.lane == HUMAN_ONLY:
        raise NotAllowed(f"post {post.id} does not mention the account (human-only lane): X allows no API reply "
                         f"to it and forbids automated replies to keyword matches; answer it by hand at "
                         f"{post_url(post)}")
    if post.skipped_at is not None:
        who = s.get(User, post.skipped_by_id)
        raise NotAllowed(f"post {post.id} was skipped by {who.name if who else 'someone'}: it gets no reply")


def _live_for(s: Session, post: SocialPost) -> Statement:
    incident_id = post.incident_id or open_incident_id(s)
    live = live_statement(s, incident_id) if incident_id else None
    if live is None:
        raise NotAllowed(f"post {post.id}: no statement is live for "
                         f"{'incident ' + str(incident_id) if incident_id else 'any open incident'}; replies use "
                         "the live statement's approved words: publish one first")
    if _reply_fields(live) is None:
        raise NotAllowed(f"{label(live)} has no approved reply variants (submitted before replies existed): "
                         "publish an update, and its replies are approved with it")
    return live


def _refuse_other_version(live: Statement, shown: int | None, variant: int | None) -> None:
    """The words shown are the words sent: a version published since the caller looked is refused."""
    if shown is None or shown == live.id:
        return
    fields = _reply_fields(live) or {}
    if variant in variant_numbers(fields):
        now = f'variant {variant} now says "{fields[f"variant{variant}"]}"'
    else:
        now = "its variants now say " + "; ".join(f'{n}: "{fields[f"variant{n}"]}"' for n in variant_numbers(fields))
    raise IllegalTransition(f"statement_id: the words changed since you looked: {label(live)} is live now, not "
                            f"statement {shown}; {now}. Nothing was queued: reply again to send these words")


def _reply_fields(statement: Statement) -> dict[str, str] | None:
    return next((dict(r.fields) for r in statement.renditions if r.channel == REPLY), None)


def _variant_text(statement: Statement, number: int) -> str:
    return (_reply_fields(statement) or {}).get(f"variant{number}", "")


def _choose_variant(s: Session, live: Statement, asked: int | None) -> int:
    numbers = variant_numbers(_reply_fields(live) or {})
    if asked is not None:
        if asked not in numbers:
            raise InvalidInput(f"variant: {label(live)} has variants {', '.join(map(str, numbers))}; got {asked}")
        return asked
    used = s.scalar(select(func.count()).select_from(SocialReply).where(SocialReply.statement_id == live.id)) or 0
    return numbers[used % len(numbers)]


def _claim(s: Session, row: SocialReply) -> SocialReply:
    """The ledger row, or NotAllowed if the post already has one (checked, then enforced by the unique key)."""
    existing = s.scalar(select(SocialReply).where(SocialReply.post_id == row.post_id))
    if existing is not None:
        raise NotAllowed(f"post {row.post_id} already has a reply, queued by {existing.queued_by.name} at "
                         f"{existing.queued_at:%Y-%m-%d %H:%M:%S} UTC: one reply per post")
    try:  # the unique post id is the real guard: two team members, two processes, a double click
        s.add(row)
        s.flush()
    except IntegrityError:
        raise NotAllowed(f"post {row.post_id} was answered by someone else a moment ago: one reply per post") from None
    return row


def _new_delivery(settings: Settings, s: Session, statement: Statement, post_id: str, why: str) -> int:
    """The reply's delivery: one per statement and post (the database's unique key). A row already
    there that never reached the post (refused, cancelled) is queued again rather than duplicated."""
    reached = s.scalar(select(Delivery.id).where(Delivery.statement_id == statement.id, Delivery.channel == REPLY,
                                                 Delivery.target == post_id, Delivery.status.in_(REACHED)))
    if reached is not None:
        raise NotAllowed(f"post {post_id} was already answered with statement {statement.id}: one reply per post")
    return add_or_requeue(s, statement.id, REPLY, post_id, transport_for(REPLY, settings).provider, why).id


def _refuse_too_long(settings: Settings, text: str) -> None:
    checks = list(channel(REPLY).limits({"variant1": text}, settings))
    broken = [c.describe() for c in checks if not c.ok]
    if broken:
        raise LimitExceeded("text: " + "; ".join(broken))
