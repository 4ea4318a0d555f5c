"""Telling people what monitoring did: each notice is a message through the delivery engine (kind
`alert notice`: logged, retried, reconciled, in the send log), an email to everyone named on the rule
who has an address and a text to everyone with a phone (none named: every author and approver). The
words are in templates/_web/alert/; they link to the draft in the dashboard, where it is reviewed,
edited and submitted (and then approved by link or code like any statement)."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..approvals.by_phone import email_fields
from ..config import Settings
from ..delivery.links import site
from ..delivery.messages import add_message
from ..domain.approval import Role
from ..domain.message_secrets import MessageKind
from ..render.environment import environment
from ..store.alert_models import AlertRule
from ..store.models import Incident, User, utcnow
from .enums import Event

FOLDER = "_web/alert"


def people_to_tell(s: Session, rule: AlertRule) -> list[User]:
    if rule.notify:
        return list(s.scalars(select(User).where(User.id.in_(rule.notify)).order_by(User.id)))
    wanted = {Role.AUTHOR.value, Role.APPROVER.value}
    return [u for u in s.scalars(select(User).order_by(User.id)) if wanted & set(u.role_list)]


def tell(s: Session, settings: Settings, rule: AlertRule, incident: Incident, statement: dict, event: Event,
         also: list[User] = (), **extra) -> list[int]:
    """Write the notice about `statement` (a draft monitoring made) to the rule's people (and `also` those),
    in the caller's transaction; returns the delivery ids to dispatch once it commits."""
    people = list({u.id: u for u in [*people_to_tell(s, rule), *also]}.values())
    context = {"company_name": settings.company_name, "incident_title": incident.title, "event": event.value,
               "rule": rule.name, "template": rule.template.name,
               # what customers would read first: a resolved draft's resolution line, else its headline
               "headline": statement.get("resolution") or statement["headline"],
               "version": statement["version"], "url": f"{site(settings)}/dashboard/statements/{statement['id']}",
               "source": "", "count": 0, "alert": "", **extra}
    expires = utcnow() + timedelta(hours=settings.alert_notice_hours)
    subject = f"statement:{statement['id']}"
    ids: list[int] = []
    emails = [u.email for u in people if u.email]
    if emails:
        fields = email_fields(settings, FOLDER, context)
        ids += [d.id for d in add_message(s, settings, MessageKind.ALERT_NOTICE, subject, "email", fields, emails,
                                          expires)]
    phones = [u.phone for u in people if u.phone]
    if phones:
        text = environment(settings.templates_dir).get_template(f"{FOLDER}/sms.txt").render(**context).strip()
        ids += [d.id for d in add_message(s, settings, MessageKind.ALERT_NOTICE, subject, "sms", {"text": text},
                                          phones, expires)]
    return ids
