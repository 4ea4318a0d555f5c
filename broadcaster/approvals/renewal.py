"""A fresh approval link from an expired one's page, for an approver with no dashboard password.

An approval link expires after BROADCASTER_APPROVAL_LINK_HOURS; an approver who opens it late, while the
version still waits for them, may press **Email me a new link**. The new link goes only to the address on
file for the approver the old link was sent to (never to an address given by whoever presses), so a
forwarded or leaked old link earns its holder nothing; presses are limited per approver
(BROADCASTER_APPROVAL_LINK_RENEW_RATE), so the page cannot flood a mailbox. The page says the same
whatever happened (sent; not needed; over the limit): it tells the holder of the old link nothing about
the approver's address or standing. Every press is audited with what became of it.
"""


from ..config import Settings
from ..delivery.dispatch import Dispatch
from ..delivery.enqueue import enqueue
from ..delivery.links import valid_token
from ..domain.errors import BroadcasterError, NotAllowed
from ..domain.lifecycle import State
from ..people.auth import actor_of, over_limit
from ..store.access_models import ApprovalRequest
from ..store.models import utcnow
from ..usecase import MAX_ID, log_action, unit_of_work
from .by_phone import BY_LINK, ask_by_link, check_may_approve_now, link_expiry, request_words, token_binding


def renew_expired_link(settings: Settings, request_id: int, token: str, dispatch: Dispatch | None = None) -> bool:
    """Email the approver a fresh link if `token` is this expired link's own and they may still approve
    its version; returns whether the token was genuine (the page for a mangled one says so). Refusals
    are audited, and the caller answers every genuine press alike."""
    sent = None
    try:
        with unit_of_work(settings) as s:
            request = s.get(ApprovalRequest, request_id) if 1 <= request_id <= MAX_ID else None
            if request is None or request.kind != BY_LINK or not valid_token(
                    settings, token, request.secret_hash, *token_binding(request)):
                return False
            user, statement = request.user, request.statement
            if request.used_at is not None or request.expires_at > utcnow():
                raise NotAllowed("the link was used, or has not expired")
            if statement.state != State.PENDING_APPROVAL.value or statement.content_hash != request.content_hash:
                raise NotAllowed(f"v{statement.version} no longer waits for approval of these words")
            if not user.email:
                raise NotAllowed(f"{user.name} has no email address")
            check_may_approve_now(settings, actor_of(user), statement)
            if over_limit(settings, settings.approval_link_renew_rate, "approval-renew", f"user:{user.id}"):
                raise NotAllowed(f"too many fresh links for {user.name} (limit {settings.approval_link_renew_rate})")
            sent = ask_by_link(s, settings, statement, user, request_words(settings, statement),
                               link_expiry(settings))
            log_action(s, None, "renew approval link", f"statement:{statement.id}",
                       {"approver": user.name, "from_request": request.id})
    except BroadcasterError as exc:
        with unit_of_work(settings) as s:
            log_action(s, None, "refused: renew approval link", f"approval-request:{request_id}", {"reason": str(exc)})
        return True
    (dispatch or enqueue)(settings, [sent.delivery_id])
    return True
