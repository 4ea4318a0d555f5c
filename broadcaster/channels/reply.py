"""Replies to customers' posts on X: approved words only, one reply per post, behind statements.

Each statement renders a few short reply variants (``templates/reply/variant1.txt`` ...), stored and
approved with the statement's other renditions (the same content hash, shown in the preview).
Publishing writes no delivery for this channel (``Kind.ON_DEMAND``): the social queue
(``broadcaster.social``) writes one delivery per customer post it answers, target = the post id,
after recording the post in its one-reply-per-post ledger. At send time the ledger says which variant
(or which approved free text) and whether the post may be answered by the API at all; the transport
refuses anything else, whoever wrote the delivery row.
"""

from collections.abc import Iterator

from sqlalchemy import select

from ..config import Settings
from ..domain.delivery_status import DeliveryStatus
from ..domain.hashing import sha256_of
from ..render.limits import LimitCheck
from . import _xbudget
from .base import Channel, Kind, SendContext, SendResult, Target, TransportError
from .x import DuplicateContent, client_for, create_post, spend_budget

PREFIX = "variant"
MENTION = "mention"  # the lane X lets the API answer (the post names the account)


def variant_numbers(fields: dict[str, str]) -> list[int]:
    return sorted(int(name[len(PREFIX):]) for name in fields
                  if name.startswith(PREFIX) and name[len(PREFIX):].isdigit())


def words_for(fields: dict[str, str], details: dict) -> list[tuple[str, str]]:
    """[(words, what they are)]: the chosen words first, then the other approved variants in rotation
    (tried only if X calls the first a duplicate); or a permanent TransportError saying why none may go."""
    if not details:
        raise TransportError("reply: this post is not in the social queue's ledger; replies are queued with "
                             "`broadcaster social reply`", permanent=True, code="no-ledger")
    if details.get("lane") != MENTION:
        raise TransportError("reply: this post does not mention the account (human-only lane): X allows no API "
                             "reply to it; a person answers it by hand", permanent=True, code="human-only")
    if details.get("custom_text") is not None:
        approved = details.get("approved_hash")
        if not approved or sha256_of(details["custom_text"]) != approved:
            raise TransportError("reply: this free text has no approval of these exact words", permanent=True,
                                 code="not-approved")
        return [(details["custom_text"], f"approved free text {approved[:12]}")]
    numbers = variant_numbers(fields)
    if details.get("variant") not in numbers:
        raise TransportError(f"reply: the statement has no {PREFIX}{details.get('variant')}", permanent=True,
                             code="no-variant")
    at = numbers.index(details["variant"])
    return [(fields[f"{PREFIX}{n}"], f"{PREFIX}{n}") for n in numbers[at:] + numbers[:at]]


class XReplies:
    provider = "x"
    batch_size = 1

    def __init__(self, settings: Settings):
        self.settings = settings
        self.account = settings.x_access_token or ""
        self.client = client_for(settings)

    def notify(self, fields: dict[str, str], targets: list[Target], context: SendContext) -> list[SendResult]:
        return [self._answer(fields, target, context) for target in targets]

    def _answer(self, fields: dict[str, str], target: Target, context: SendContext) -> SendResult:
        candidates = words_for(fields, dict(target.details))
        # On a first attempt a duplicate can only be another customer's reply that just went with these
        # words: the next variant goes instead. On a later attempt it is most likely this very reply, sent
        # before a crash: answered, never posted twice.
        if target.details.get("attempts", 1) > 1:
            candidates = candidates[:1]
        for i, (text, what) in enumerate(candidates):
            spend_budget(self.settings, self.account, _xbudget.REPLY)  # leaves the statements' reserve alone
            try:
                post_id = create_post(self.client, text, in_reply_to=target.address)
            except DuplicateContent as exc:
                if i + 1 < len(candidates):
                    continue
                return SendResult(target.delivery_id, DeliveryStatus.SENT, None,
                                  f"{what}: X says duplicate content; treated as already answered ({exc})")
            return SendResult(target.delivery_id, DeliveryStatus.SENT, post_id,
                              f"{what}, sha256 {sha256_of(text)[:12]}, statement {context.content_hash or ''}")
        raise AssertionError("unreachable: words_for returns at least one candidate")


def ledger_details(settings: Settings, post_ids: list[str]) -> dict[str, dict]:
    """{post id: lane, variant, free text and its approval} from the social ledger, read at send time."""
    from ..store.db import transaction
    from ..store.models import Delivery
    from ..store.social_models import SocialPost, SocialReply

    with transaction(settings.database_url) as s:
        rows = s.execute(select(SocialPost.id, SocialPost.lane, SocialReply.variant, SocialReply.custom_text,
                                SocialReply.approved_hash, Delivery.attempts)
                         .join(SocialReply, SocialReply.post_id == SocialPost.id)
                         .outerjoin(Delivery, Delivery.id == SocialReply.delivery_id)
                         .where(SocialPost.id.in_(post_ids))).all()
    return {row.id: {"lane": row.lane, "variant": row.variant, "custom_text": row.custom_text,
                     "approved_hash": row.approved_hash, "attempts": row.attempts or 1} for row in rows}


def check_reply(fields: dict[str, str], settings: Settings) -> Iterator[LimitCheck]:
    from ._xlength import weighted_length

    for number in variant_numbers(fields):
        weighted = weighted_length(fields[f"{PREFIX}{number}"])
        yield LimitCheck("reply", f"variant{number} weighted length", weighted, settings.x_max_weighted_length,
                         "characters", "URLs count 23, CJK and emoji count 2")


CHANNEL = Channel(
    "reply", Kind.ON_DEMAND, XReplies, limits=check_reply, lookup_details=ledger_details,
    # No `limits` rate: X's own headers govern replies (channels/_xbudget.py), and a reply that must wait
    # waits in its row, not in a shared limiter statements would queue behind.
    configured=lambda s: all((s.x_consumer_key, s.x_consumer_secret, s.x_access_token, s.x_access_token_secret)),
)
