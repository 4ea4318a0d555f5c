"""What was said, where and when: the send log, and the consistency audit of what each
channel shows against the live version."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .config import Settings
from .notify_rules import notifies
from .delivery.status import CANCELLED, FAILED, REACHED
from .store.models import Delivery, DeliveryEvent, Incident, Statement
from .usecase import live_statement, unit_of_work
from .views import event_view

def send_log(settings: Settings, statement_id: int | None = None, channel: str | None = None,
             status: str | None = None, target: str | None = None, limit: int | None = None) -> list[dict]:
    with unit_of_work(settings) as s:
        query = select(DeliveryEvent, Statement.version, Statement.incident_id).join(
            Statement, Statement.id == DeliveryEvent.statement_id).order_by(DeliveryEvent.id)
        for column, value in ((DeliveryEvent.statement_id, statement_id), (DeliveryEvent.channel, channel),
                              (DeliveryEvent.status, status), (DeliveryEvent.target, target)):
            if value is not None:
                query = query.where(column == value)
        if limit:
            query = query.limit(limit)
        return [event_view(event, version, incident_id) for event, version, incident_id in s.execute(query)]


@dataclass
class ChannelAudit:
    channel: str
    shows_version: int | None
    outstanding: int
    failed: int

    def state(self, expected: int) -> str:
        if self.shows_version is None and self.outstanding == 0 and self.failed == 0:
            return "no targets"
        if self.shows_version == expected and self.outstanding == 0:
            return "current"
        return "behind"


def consistency_report(settings: Settings) -> dict:
    """For each incident with a live statement: the version each channel shows against it."""
    with unit_of_work(settings) as s:
        incidents = []
        for incident in s.scalars(select(Incident).order_by(Incident.id)):
            live = live_statement(s, incident.id)
            if live is None:
                continue
            # A channel whose notify rule skipped the live version (SMS on an update) is not behind.
            channels = {r.channel: _audit_channel(s, incident.id, live, r.channel) for r in live.renditions
                        if notifies(settings, s, live, r.channel)}
            report = {
                channel: {"shows_version": a.shows_version, "state": a.state(live.version),
                          "outstanding": a.outstanding, "failed": a.failed}
                for channel, a in channels.items()
            }
            incidents.append({"incident_id": incident.id, "title": incident.title, "live_version": live.version,
                              "live_statement_id": live.id, "channels": report,
                              "drift": any(c["state"] == "behind" for c in report.values())})
        return {"incidents": incidents, "drift": any(i["drift"] for i in incidents)}


def _audit_channel(s: Session, incident_id: int, live: Statement, channel: str) -> ChannelAudit:
    shown = s.scalar(select(func.max(Statement.version)).join(Delivery, Delivery.statement_id == Statement.id)
                     .where(Statement.incident_id == incident_id, Delivery.channel == channel,
                            Delivery.status.in_(REACHED)))
    counts = dict(s.execute(select(Delivery.status, func.count()).where(
        Delivery.statement_id == live.id, Delivery.channel == channel).group_by(Delivery.status)).all())
    # Cancelled deliveries never go (a newer version, an opt-out): they are not outstanding.
    outstanding = sum(n for status, n in counts.items()
                      if status not in (*REACHED, *FAILED, CANCELLED))
    failed = sum(counts.get(status, 0) for status in FAILED)
    return ChannelAudit(channel, shown, outstanding, failed)
