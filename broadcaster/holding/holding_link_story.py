"""What the page of an emailed holding link says once the link no longer switches anything on (used,
revoked, expired, the statement switched on, replaced or its words changed): whether the holding
statement was switched on, by whom and when, whether it is live now and where the public reads it, and
what the person can still do without a dashboard password (text `HOLD n` for a fresh link, or
`HOLD n <PIN>`).

Told only to the holder of a genuine link (its token signed for this link), and only while the link is
still its person's: a mangled or forged link, one sent to an address that is no longer theirs (an old
mailbox may have passed to someone else) or one whose person may no longer switch holding statements
on learns nothing about any statement. The words are the template's (`_web/dashboard/hold_refused.html`).
"""

from sqlalchemy import select

from ..approvals.link_story import public_version
from ..config import Settings
from ..delivery.links import valid_token
from ..domain.approval import permits
from ..domain.lifecycle import State
from ..people.auth import actor_of
from ..store.access_models import HoldingLink
from ..store.models import AuditEvent, User, utcnow
from ..usecase import MAX_ID, unit_of_work
from .emailed_links import ACTION, MAX_PIN_FAILURES, token_binding
from .holding_statements import other_ways


def link_story(settings: Settings, link_id: int, token: str) -> dict | None:
    """The facts behind a holding link, if `token` is the link's own; None if it is not. `trusted` is
    False when the link is no longer its person's to use (another address, a role that may not switch
    it on): then nothing else is told."""
    with unit_of_work(settings) as s:
        link = s.get(HoldingLink, link_id) if 1 <= link_id <= MAX_ID else None
        if link is None or not valid_token(settings, token, link.secret_hash, *token_binding(link)):
            return None
        user = link.user
        if user.email != link.sent_to or not permits(actor_of(user), ACTION):
            return {"trusted": False}
        statement = link.holding.statement
        switched = _switched_on(s, statement.id) if statement.published_at else None
        now = utcnow()  # one moment: whether it has expired, and the "now" its times are told against
        return {
            "trusted": True, "number": link.holding_id, "user": user.name, "mine": bool(link.used_at),
            "incident_title": statement.incident.title, "headline": statement.headline,
            "version": statement.version, "state": statement.state,
            # Still approved with the words the link was sent for: a fresh link or `HOLD n <PIN>` can switch it on.
            "ready": statement.state == State.APPROVED.value and statement.content_hash == link.content_hash,
            "words_changed": statement.content_hash != link.content_hash,
            "used_at": link.used_at, "expired": link.expires_at <= now, "expires_at": link.expires_at,
            "revoked_at": link.revoked_at, "pin_locked": link.pin_failures >= MAX_PIN_FAILURES,
            "max_pin_failures": MAX_PIN_FAILURES, "published_at": statement.published_at,
            "switched_by": switched and switched[0], "switched_via": switched and switched[1],
            "replaced_by": statement.replaced_by, "public_shows": public_version(s, statement.incident_id),
            "status_page_url": settings.status_page_url, **other_ways(settings, user),
            "tz": settings.zone, "now": now,
        }


def _switched_on(s, statement_id: int) -> tuple[str, str] | None:
    """(who, how) of the switch-on the audit trail recorded for this statement, if any."""
    event = s.scalars(select(AuditEvent).where(AuditEvent.action == "activate holding",
                                               AuditEvent.subject == f"statement:{statement_id}")
                      .order_by(AuditEvent.id.desc())).first()
    if event is None or "via" not in (event.detail or {}):
        return None
    who = s.get(User, event.actor_id) if event.actor_id else None
    return (who.name if who else "someone", event.detail["via"])
