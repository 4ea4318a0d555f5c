"""What the page of an emailed approval link says once the link no longer approves (used, expired, the
version replaced, withdrawn, rejected, published): what happened to the version it asked about, who
decided and when, whether it has gone out and where the public can read it, and what, if anything, the
approver still has to do. The same facts make the page after approving.

Told only to the holder of a genuine link (its token signed for this request): a mangled or forged one
learns nothing about any statement. The words are the template's (`_web/dashboard/approve_refused.html`).
"""

from sqlalchemy import func, select

from ..config import Settings
from ..delivery.links import valid_token
from ..domain.delivery_status import FAILED_FOR_GOOD, REACHED
from ..domain.lifecycle import State
from ..store.access_models import ApprovalRequest
from ..store.models import Delivery, Statement, utcnow
from ..usecase import unit_of_work
from . import decisions
from .by_phone import token_binding

# The customers' surface the page points the approver to: where anyone can check what was said.
PUBLIC_SURFACE = "status_page"


def link_story(settings: Settings, request_id: int, token: str) -> dict | None:
    """The facts behind an approval link, if `token` is the link's own; None if it is not."""
    with unit_of_work(settings) as s:
        request = s.get(ApprovalRequest, request_id)
        if request is None or not valid_token(settings, token, request.secret_hash, *token_binding(request)):
            return None
        statement, approver = request.statement, request.user
        decided = [{"name": a.approver.name, "decision": a.decision, "at": a.created_at,
                    "mine": a.approver_id == approver.id} for a in sorted(statement.approvals, key=lambda a: a.id)
                   if a.decision == "reject" or a.content_hash == request.content_hash]
        newer = statement.replaced_by
        now = utcnow()  # one moment: whether it has expired, and the "now" its times are told against
        return {
            "request_id": request.id, "approver": approver.name,
            # No password: no dashboard. The page offers it only to someone who can log in.
            "may_log_in": approver.password_hash is not None,
            "statement_id": statement.id, "incident_title": statement.incident.title, "version": statement.version,
            "author": statement.author.name, "state": statement.state,
            "used_at": request.used_at, "expires_at": request.expires_at,
            "expired": request.used_at is None and request.expires_at <= now,
            "decided": decided, "mine": next((d for d in reversed(decided) if d["mine"]), None),
            "approvals": sum(d["decision"] == "approve" for d in decided),
            "needed": decisions.approvals_needed(settings, statement),
            "published_at": statement.published_at, "replaced_by": newer,
            # Withdrawn with a newer version: an edit replaced it before it was published.
            "replaced_unpublished": statement.state == State.WITHDRAWN.value and newer is not None,
            "public_shows": public_version(s, statement.incident_id),
            # Not "on its way" when the status page's send of it failed for good: nothing will bring it there.
            "public_failed": public_failed(s, statement.id),
            "status_page_url": settings.status_page_url, "link_hours": settings.approval_link_hours,
            "tz": settings.zone, "now": now,
        }


def public_version(s, incident_id: int) -> int | None:
    """The newest version of the incident the status page has been sent (what the public reads now), if any."""
    return s.scalar(select(func.max(Statement.version)).join(Delivery, Delivery.statement_id == Statement.id)
                    .where(Statement.incident_id == incident_id, Delivery.channel == PUBLIC_SURFACE,
                           Delivery.status.in_(REACHED)))


def public_failed(s, statement_id: int) -> bool:
    """Whether sending this version to the status page failed for good."""
    return s.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.statement_id == statement_id, Delivery.channel == PUBLIC_SURFACE,
        Delivery.status.in_(FAILED_FOR_GOOD))) > 0
