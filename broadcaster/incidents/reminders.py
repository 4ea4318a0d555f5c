"""Update reminders: customers were promised the next update by a time. When a live statement's
next update is less than `update_reminder_minutes` away (or already late) and no newer version of
the incident is being written (a draft, or one waiting for approval or to be published), everyone
who wrote that version is reminded: by email, else by SMS, as a message through the delivery engine
(`MessageKind.UPDATE_REMINDER`: logged, retried, reconciled, in `broadcaster log`). Once per version
per author: a reminder already written for that version and address is not written again.

Run by the periodic job `reminders` (`delivery.broker.PERIODIC_JOBS`: beat, or embedded `serve`).
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from ..approvals.by_phone import email_fields
from ..config import Settings
from ..delivery.dispatch import Dispatch
from ..delivery.enqueue import enqueue
from ..delivery.links import site
from ..delivery.messages import add_message
from ..domain.component_states import FINAL_STATUSES
from ..domain.lifecycle import State
from ..domain.message_secrets import MessageKind
from ..render.environment import environment
from ..store.models import Delivery, Message, Statement, User, utcnow
from ..usecase import log_action, unit_of_work

BEING_WRITTEN = (State.DRAFT.value, State.PENDING_APPROVAL.value, State.APPROVED.value)
STALE_AFTER = timedelta(minutes=30)  # a reminder not sent by then is cancelled: the moment has passed


def remind_due(settings: Settings, now: datetime | None = None, dispatch: Dispatch | None = None) -> list[int]:
    """Write the reminders now due and hand them to `dispatch` (default: the broker) after commit;
    returns their delivery ids."""
    now = now or utcnow()
    horizon = now + timedelta(minutes=settings.update_reminder_minutes)
    written: list[int] = []
    with unit_of_work(settings) as s:
        due = s.scalars(select(Statement).where(
            Statement.state == State.PUBLISHED.value, Statement.next_update_at.is_not(None),
            Statement.next_update_at <= horizon).order_by(Statement.id).with_for_update()).all()
        for statement in due:
            if statement.status in FINAL_STATUSES or _newer_being_written(s, statement):
                continue
            written += _remind_authors(s, settings, statement, now)
    if written:
        (dispatch or enqueue)(settings, written)
    return written


def update_due(statement: dict, now: datetime | None = None, minutes: float = 0) -> str | None:
    """For a page: "overdue" when a live version's next update is past, "soon" within `minutes`, else None."""
    if statement.get("state") != State.PUBLISHED.value or not statement.get("next_update_at"):
        return None
    at = datetime.fromisoformat(statement["next_update_at"])
    now = now or utcnow()
    return "overdue" if at <= now else "soon" if at <= now + timedelta(minutes=minutes) else None


def _newer_being_written(s, statement: Statement) -> bool:
    return s.scalar(select(Statement.id).where(
        Statement.incident_id == statement.incident_id, Statement.version > statement.version,
        Statement.state.in_(BEING_WRITTEN)).limit(1)) is not None


def _remind_authors(s, settings: Settings, statement: Statement, now: datetime) -> list[int]:
    subject = f"statement:{statement.id}"
    already = set(s.scalars(select(Delivery.target).join(Message, Delivery.message_id == Message.id).where(
        Message.kind == MessageKind.UPDATE_REMINDER.value, Message.subject == subject)))
    authors = s.scalars(select(User).where(User.id.in_(statement.contributors)).order_by(User.id)).all()
    context = {"company_name": settings.company_name, "incident_title": statement.incident.title,
               "version": statement.version, "headline": statement.headline, "due": statement.next_update_at,
               "late": statement.next_update_at <= now,
               "minutes": max(0, round((statement.next_update_at - now).total_seconds() / 60)),
               "url": f"{site(settings)}/dashboard/incidents/{statement.incident_id}/new", "tz": settings.zone,
               "now": now}
    expires = max(statement.next_update_at, now) + STALE_AFTER
    written = []
    # Each channel's words for a reminder, from its template: email first, else SMS.
    words = {"email": lambda ctx: email_fields(settings, "_web/reminder", ctx),
             "sms": lambda ctx: {"text": environment(settings.templates_dir)
                                 .get_template("_web/reminder/sms.txt").render(**ctx).strip()}}
    for user in authors:
        channel, address = next(((c, a) for c, a in (("email", user.email), ("sms", user.phone)) if a), ("", ""))
        if not address or address in already:
            continue
        fields = words[channel]({**context, "name": user.name})
        (delivery,) = add_message(s, settings, MessageKind.UPDATE_REMINDER, subject, channel, fields, [address],
                                  expires)
        written.append(delivery.id)
        log_action(s, None, "remind author", subject, {"author": user.name, "by": channel,
                                                       "next_update_at": statement.next_update_at.isoformat()})
    return written
