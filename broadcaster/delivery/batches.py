"""What a chunk sends: its claimed deliveries grouped by the words they carry (a statement's
rendition for one channel in one language, or one message), the words checked against what was
approved, and cut into provider calls of at most the transport's batch size.

- A statement's delivery carries the language written in its row (`Delivery.locale`, chosen from
  the subscriber's or caller's language when the row was written): that translation's rendition,
  else the statement's own. Picking it is a lookup, never a query: one provider batch carries one
  language. A follow-up to a caller sends the channel's follow-up words (`Channel.follow_up_words`).
- A statement's stored renditions are **re-hashed** against its sealed approvals: a row edited
  behind the app's back is refused and logged (`failed`, code `tampered`), never sent.
- A message's words are re-hashed against the hash they were stored with; its secrets (a link's
  token, a code) are filled in per delivery, at send time, and only for a real provider: the
  `log` provider records the words with the secrets hidden.
"""

import logging
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import select

from .. import channels
from ..channels import SendContext, Target, transport_for
from ..channels.log import LOG_PROVIDER
from ..config import Settings
from ..domain.component_states import FINAL_STATUSES
from ..domain.delivery_status import DeliveryStatus
from ..domain.hashing import sha256_of
from ..domain.message_secrets import fill, hidden, secrets_for
from ..store.content import approved_hashes, stored_content_hash
from ..store.db import transaction
from ..store.models import Delivery, Message, Rendition, Statement, Subscriber
from . import hooks, links
from .claimed import ClaimedDelivery
from .records import Outcome

logger = logging.getLogger("broadcaster.sending")

Batch = tuple[list[ClaimedDelivery], list[Target], dict[str, str], SendContext]
# (statement id, message id, channel, language, follow-up): one set of words each
Key = tuple[int | None, int | None, str, str | None, bool]


def group(deliveries: list[ClaimedDelivery]) -> dict[Key, list[ClaimedDelivery]]:
    groups: dict[Key, list[ClaimedDelivery]] = defaultdict(list)
    for d in deliveries:
        groups[(d.statement_id, d.message_id, d.channel, d.locale, d.follow_up)].append(d)
    return groups


def batches(settings: Settings, groups: dict[Key, list[ClaimedDelivery]], refused: list[Outcome]) -> Iterator[Batch]:
    """(deliveries, targets, the words, context) per provider call; refused groups go to `refused`."""
    hashes: dict[int, str] = {}  # each statement's stored content hash, computed once for all its groups
    posts: dict[int, dict[str, str | None]] = {}  # each statement's previous posts, looked up once if needed
    for (statement_id, message_id, name, locale, follow_up), deliveries in groups.items():
        if message_id is not None:
            yield from _message_batches(settings, name, deliveries, refused)
            continue
        statement = deliveries[0].statement
        rendition, words = statement_words(statement, name, locale, follow_up)
        if statement_id not in hashes:
            hashes[statement_id] = stored_content_hash(statement)
        problem = _tampering(settings, statement, rendition, hashes[statement_id])
        if problem:
            logger.error("refusing to send statement %s on %s (%s): %s", statement.id, name, locale, problem)
            refused.extend(Outcome(d, DeliveryStatus.FAILED, error_code="tampered", detail=problem)
                           for d in deliveries)
            continue
        context = _context(settings, statement, name, locale, posts)
        targets = _targets(settings, name, deliveries)
        size = transport_for(name, settings).batch_size
        for start in range(0, len(deliveries), size):
            yield deliveries[start:start + size], targets[start:start + size], dict(words), context


def statement_words(statement: Statement, name: str, locale: str | None,
                    follow_up: bool = False) -> tuple[Rendition, dict[str, str]]:
    """The stored rendition a delivery of `statement` on channel `name` sends in `locale`, and the words
    as they go out (what a send sends and reconciliation looks for): the translation's rendition, or
    the statement's own for its own language, a live surface (None) or a language it was not
    translated into; a follow-up's words where the channel has its own."""
    ch = channels.channel(name)
    rendition = None
    if locale and locale != statement.language:
        rendition = next((r for r in statement.translated_renditions
                          if r.channel == ch.rendition and r.locale == locale), None)
    if rendition is None:
        rendition = next(r for r in statement.renditions if r.channel == ch.rendition)
    words = dict(rendition.fields)
    if follow_up and ch.follow_up_words is not None:
        words = ch.follow_up_words(words)
    return rendition, words


def _message_batches(settings: Settings, name: str, deliveries: list[ClaimedDelivery], refused: list[Outcome]
                     ) -> Iterator[Batch]:
    message = deliveries[0].message
    if sha256_of(message.fields) != message.content_hash:
        problem = (f"stored {message.kind} {message.id} no longer matches the words it was made with: they hash to "
                   f"{sha256_of(message.fields)[:12]}, not {message.content_hash[:12]}; refused")
        logger.error("refusing to send message %s on %s: %s", message.id, name, problem)
        refused.extend(Outcome(d, DeliveryStatus.FAILED, error_code="tampered", detail=problem) for d in deliveries)
        return
    context = SendContext(kind=message.kind, content_hash=message.content_hash)
    simulated = transport_for(name, settings).provider == LOG_PROVIDER
    for delivery in deliveries:  # one call each: the secrets differ per delivery
        yield [delivery], [_message_target(settings, delivery)], words_of(settings, delivery, simulated), context


def words_of(settings: Settings, delivery: Delivery | ClaimedDelivery, simulated: bool) -> dict[str, str]:
    """A message delivery's words as they go out: its secrets filled in, or hidden for the `log` provider."""
    message: Message = delivery.message
    if simulated:
        return hidden(message.fields)
    return fill(message.fields, secrets_for(settings.secret_key, message.binding, delivery.id, delivery.link_nonce))


def _message_target(settings: Settings, delivery: ClaimedDelivery) -> Target:
    # No unsubscribe link for a message to one of our own people, or to an address being confirmed; a
    # message to subscribers (a postmortem) carries its one-click link like a statement's email.
    to_subscribers = delivery.message.to_subscribers
    return Target(delivery.id, delivery.target,
                  links.unsubscribe_url(settings, delivery.id, delivery.link_nonce) if to_subscribers else None,
                  links.status_callback_url(settings, delivery.id), hooks.message_target_details(settings, delivery))


def _targets(settings: Settings, name: str, deliveries: list[ClaimedDelivery]) -> list[Target]:
    """Where each delivery goes, with the per-recipient fields outside the approved text."""
    details = _target_details(settings, name, [d.target for d in deliveries])
    return [Target(d.id, d.target, links.unsubscribe_url(settings, d.id, d.link_nonce),
                   links.status_callback_url(settings, d.id),
                   details.get(d.target, {})) for d in deliveries]


def _target_details(settings: Settings, name: str, addresses: list[str]) -> dict[str, dict]:
    """{address: {field: value}} of the subscriber fields the channel asks for (e.g. a signing secret)."""
    ch = channels.channel(name)
    if ch.lookup_details:
        return ch.lookup_details(settings, addresses)
    if not ch.target_details:
        return {}
    address = getattr(Subscriber, ch.address)
    with transaction(settings.database_url) as s:
        rows = s.execute(select(address, *(getattr(Subscriber, f) for f in ch.target_details))
                         .where(address.in_(addresses))).all()
    return {row[0]: dict(zip(ch.target_details, row[1:], strict=True)) for row in rows}


def _tampering(settings: Settings, statement: Statement, rendition: Rendition, hash_now: str) -> str | None:
    """Why the stored words are not the approved words, or None if they are. `hash_now`: the content
    hash of everything stored (every language's renditions). Only sealed approvals count: hashes
    recomputed in the database carry no valid seal."""
    approved = approved_hashes(statement, settings.secret_key)
    if hash_now not in approved or sha256_of(rendition.fields) != rendition.content_hash:
        return (f"stored {rendition.channel} rendition no longer matches the approval: content hashes to "
                f"{hash_now[:12]}, sealed approvals cover {', '.join(h[:12] for h in approved) or 'nothing'}; refused")
    return None


def _context(settings: Settings, statement: Statement, name: str, locale: str | None,
             posts: dict[int, dict[str, str | None]]) -> SendContext:
    """`posts`: the chunk's `previous_posts` by statement, filled in the first time a threaded channel asks."""
    reply_to = None
    if channels.channel(name).threads_updates:
        if statement.id not in posts:
            posts[statement.id] = previous_posts(settings, statement)
        reply_to = posts[statement.id].get(name)
    return SendContext(statement_id=statement.id, incident_id=statement.incident_id, version=statement.version,
                       reply_to=reply_to, content_hash=statement.content_hash, locale=locale,
                       closes=statement.status in FINAL_STATUSES)


def previous_posts(settings: Settings, statement: Statement) -> dict[str, str | None]:
    """{channel: the post this version replies to} for the channels that thread an incident's updates
    (each later version is posted as a reply to the previous post). Only a post the provider really made
    counts (the log provider's ids are not posts). One query for all those channels, and none for an
    incident's first version, which has nothing before it to reply to."""
    threaded = [ch.name for ch in channels.all_channels() if ch.threads_updates]
    if statement.version <= 1 or not threaded:
        return {}
    with transaction(settings.database_url) as s:
        rows = s.execute(
            select(Delivery.channel, Delivery.provider_message_id)
            .join(Statement, Statement.id == Delivery.statement_id)
            .where(Statement.incident_id == statement.incident_id, Statement.version < statement.version,
                   Delivery.channel.in_(threaded), Delivery.status == DeliveryStatus.SENT,
                   Delivery.provider != LOG_PROVIDER)
            .order_by(Statement.version.desc()))
        latest: dict[str, str | None] = {}
        for channel, post in rows:
            latest.setdefault(channel, post)  # the newest version's post on each channel
        return latest
