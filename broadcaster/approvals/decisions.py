"""Approving and rejecting a submitted statement, and the rules every approval is checked by.

An approval names the content hash the approver saw, is sealed with the secret key (which is not
in the database), and counts only while the stored words still hash the same: `sealed_approvals`
refuses a row rewritten behind the app's back, `verified_hash` words edited behind its back. How
many approvals a statement needs follows the incident's highest impact (`approvals_needed`).

The approval requests' sending side (`delivery.messages`, `slack_messages`: the channels, their
templates) is imported by the functions that send or withdraw: opening an incident or drafting a
statement uses the rules here, and a command doing only that should not load the channels.
"""

from sqlalchemy import select

from ..config import Settings
from ..delivery.hooks import raise_event, statement_event
from ..domain.approval import Actor, ApprovalPolicy, check_can_approve, seal, seal_is_valid
from ..domain.errors import InvalidInput, NotAllowed
from ..domain.event_types import EventType
from ..domain.lifecycle import Action, State, next_state
from ..domain.message_secrets import MessageKind
from ..store.content import stored_content_hash
from ..store.models import Approval, Message, Statement, utcnow
from ..store.row_views import statement_view
from ..usecase import acting, get, label, log_action


def approve(settings: Settings, actor: Actor, statement_id: int, seen_hash: str | None = None,
            comment: str = "") -> dict:
    """Record one approval of exactly the content ``seen_hash`` names (default: what is stored),
    sealed with the secret key."""
    with acting(settings, actor, "approve", f"statement:{statement_id}") as s:
        statement = get(s, Statement, statement_id, lock=True)
        next_state(State(statement.state), Action.APPROVE, label(statement))
        hash_now = verified_hash(statement)
        approved_by = [a.approver_id for a in sealed_approvals(settings, statement, hash_now)]
        check_can_approve(actor, statement.contributors, approved_by, _expand(seen_hash, hash_now), hash_now)
        at = utcnow()
        s.add(Approval(statement=statement, approver_id=actor.id, decision="approve", content_hash=hash_now,
                       comment=comment, created_at=at,
                       seal=seal(settings.secret_key, statement.id, hash_now, actor.id, at)))
        count, needed = len(approved_by) + 1, approvals_needed(settings, statement)
        if count >= needed:
            statement.state = State.APPROVED.value
            withdraw_requests(s, statement.id, "not sent: the statement has all its approvals")
        log_action(s, actor, "approve", f"statement:{statement.id}",
                   {"content_hash": hash_now, "approvals": count, "needed": needed, "comment": comment})
        view = {**statement_view(statement), "approvals": count, "approvals_needed": needed}
    if count >= needed:
        raise_event(settings, EventType.STATEMENT_APPROVED, statement_event(view))
    from . import slack_messages

    slack_messages.show_decision(settings, statement_id, needed)  # the Slack requests say who approved
    return view


def approvals_needed(settings: Settings, statement: Statement) -> int:
    """By the incident's highest impact ever, or this version's if higher."""
    incident = statement.incident
    return policy(settings).required_for_incident(incident.highest_impact or incident.impact, statement.impact)


def sealed_approvals(settings: Settings, statement: Statement, hash_now: str) -> list[Approval]:
    """The approvals of exactly this content. An approval row whose seal does not verify was not
    made by Broadcaster with this secret key (inserted or rewritten behind its back): refuse."""
    approvals = [a for a in statement.approvals if a.decision == "approve"]
    for approval in approvals:
        if not seal_is_valid(settings.secret_key, statement.id, approval.content_hash, approval.approver_id,
                             approval.created_at, approval.seal):
            raise NotAllowed(f"{label(statement)}: approval {approval.id} has no valid seal (it was not made "
                             "by Broadcaster with this secret key, or its row was changed); refusing. "
                             "Edit the statement to make a new version and have it approved again")
    return [a for a in approvals if a.content_hash == hash_now]


def reject(settings: Settings, actor: Actor, statement_id: int, reason: str) -> dict:
    if not reason.strip():
        raise InvalidInput("reason: say why, so the author can fix it")
    with acting(settings, actor, "reject", f"statement:{statement_id}") as s:
        statement = get(s, Statement, statement_id, lock=True)
        statement.state = next_state(State(statement.state), Action.REJECT, label(statement)).value
        s.add(Approval(statement=statement, approver_id=actor.id, decision="reject",
                       content_hash=statement.content_hash or "", comment=reason))
        withdraw_requests(s, statement.id, "not sent: the statement was rejected")
        log_action(s, actor, "reject", f"statement:{statement.id}", {"reason": reason})
        view, needed = statement_view(statement), approvals_needed(settings, statement)
    from . import slack_messages

    slack_messages.show_decision(settings, statement_id, needed)  # the Slack requests say who rejected
    return view


def policy(settings: Settings) -> ApprovalPolicy:
    return ApprovalPolicy(default=settings.approvals_default, by_impact=settings.approvals_by_impact)


# --- components and maintenance (kept apart: see domain/components.py, domain/maintenance.py) ---


def verified_hash(statement: Statement) -> str:
    """Re-hash what is stored; refuse if it no longer matches what was submitted."""
    if not statement.content_hash:
        raise NotAllowed(f"{label(statement)} has not been submitted: submit it first")
    hash_now = stored_content_hash(statement)
    if hash_now != statement.content_hash:
        raise NotAllowed(f"{label(statement)} was changed in the database after it was submitted: its words "
                         f"now hash to {hash_now[:12]}, not {statement.content_hash[:12]}; refusing")
    return hash_now


def _expand(seen_hash: str | None, hash_now: str) -> str:
    """Accept the 12-character prefix people copy from the preview."""
    if seen_hash is None:
        return hash_now
    seen_hash = seen_hash.strip().lower()
    return hash_now if len(seen_hash) >= 8 and hash_now.startswith(seen_hash) else seen_hash


def show_withdrawn_in_slack(s, settings: Settings, withdrawn: list[dict]) -> None:
    """Once `s` commits, the Slack requests of these withdrawn versions say so (`slack_messages`); the
    Slack side is loaded only where Slack is on."""
    if settings.slack_bot_token:
        from . import slack_messages

        slack_messages.show_withdrawn_once_committed(s, settings, withdrawn)


def withdraw_requests(s, statement_id: int, why: str) -> int:
    """The approval requests of a statement no longer waiting for approval (approved, rejected,
    withdrawn, replaced by an edit) are never sent if they have not gone yet."""
    from ..delivery.messages import withdraw

    ids = list(s.scalars(select(Message.id).where(Message.kind == MessageKind.APPROVAL_REQUEST.value,
                                                 Message.subject == f"statement:{statement_id}")))
    return withdraw(s, ids, why)
