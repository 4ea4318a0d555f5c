"""What was said, where and when: the send log, and the consistency audit of what each
channel shows against the live version."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from . import channels as registry
from .config import Settings
from .delivery.fanout import not_yet_written
from .delivery.pause import paused_channels
from .delivery.status import CANCELLED, FAILED, REACHED
from .domain.errors import InvalidInput
from .notify_rules import notifies
from .store.content import stored_content_hash
from .store.models import Delivery, DeliveryEvent, Incident, Statement
from .usecase import live_statement, unit_of_work
from .views import event_view


def send_log(settings: Settings, statement_id: int | None = None, channel: str | None = None,
             status: str | None = None, target: str | None = None, limit: int | None = None,
             after: int | None = None, verify: bool = False, offset: int = 0) -> list[dict]:
    """The send log in event order; a page of `limit` events after the event id `after`. With
    `verify`, each event says whether the content hash it carries is the hash of the words stored
    for its statement now, recomputed from the renditions (`verified`: True, or False: a difference)."""
    if limit is not None and limit < 1:
        raise InvalidInput("log: --limit must be at least 1")
    with unit_of_work(settings) as s:
        query = select(DeliveryEvent, Statement.version, Statement.incident_id).join(
            Statement, Statement.id == DeliveryEvent.statement_id).order_by(DeliveryEvent.id)
        for column, value in ((DeliveryEvent.statement_id, statement_id), (DeliveryEvent.channel, channel),
                              (DeliveryEvent.status, status), (DeliveryEvent.target, target)):
            if value is not None:
                query = query.where(column == value)
        if after is not None:
            query = query.where(DeliveryEvent.id > after)
        if limit:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        events = [event_view(event, version, incident_id) for event, version, incident_id in s.execute(query)]
        if verify:
            stored = _stored_hashes(s, {e["statement_id"] for e in events})
            for e in events:
                e["verified"] = e["content_hash"] is not None and e["content_hash"] == stored.get(e["statement_id"])
        return events


def _stored_hashes(s: Session, statement_ids: set[int]) -> dict[int, str]:
    """Each statement's content hash recomputed from its stored fields and renditions."""
    statements = s.scalars(select(Statement).where(Statement.id.in_(statement_ids))
                           .options(selectinload(Statement.renditions), selectinload(Statement.incident))).all()
    return {st.id: stored_content_hash(st) for st in statements}


def unproven_sends(settings: Settings) -> int:
    """Send-log lines of the live versions' sends whose content hash differs from the words stored
    now (or is missing). Only live versions: bounded by what customers are reading now."""
    with unit_of_work(settings) as s:
        live = select(Statement.id).where(Statement.state == "published").scalar_subquery()
        pairs = s.execute(select(DeliveryEvent.statement_id, DeliveryEvent.content_hash, func.count())
                          .where(DeliveryEvent.status.in_(REACHED), DeliveryEvent.statement_id.in_(live))
                          .group_by(DeliveryEvent.statement_id, DeliveryEvent.content_hash)).all()
        stored = _stored_hashes(s, {statement_id for statement_id, _, _ in pairs})
    return sum(n for statement_id, found, n in pairs if found is None or found != stored.get(statement_id))


@dataclass
class ChannelAudit:
    channel: str
    shows_version: int | None
    outstanding: int
    failed: int
    targets: int  # the live version's deliveries on this channel that were meant to go (not cancelled)

    def state(self, expected: int) -> str:
        # A live version with nobody to reach on a channel is not behind, whatever an older one reached.
        if self.targets == 0:
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
            # On demand (social replies): nothing to be behind on. A channel whose notify rule skipped
            # the live version (SMS on an update) is not behind either.
            preparing = not_yet_written(s, live.id)  # a fan-out still writing: those are outstanding too
            channels = {r.channel: _audit_channel(s, incident.id, live, r.channel, preparing.get(r.channel, 0))
                        for r in live.renditions
                        if registry.channel(r.channel).delivered_at_publish and notifies(settings, s, live, r.channel)}
            report = {
                channel: {"shows_version": a.shows_version, "state": a.state(live.version),
                          "outstanding": a.outstanding, "failed": a.failed}
                for channel, a in channels.items()
            }
            incidents.append({"incident_id": incident.id, "title": incident.title, "live_version": live.version,
                              "live_statement_id": live.id, "channels": report,
                              "drift": any(c["state"] == "behind" for c in report.values())})
    paused = paused_channels(settings)
    unproven = unproven_sends(settings)
    return {"incidents": incidents, "paused": paused, "unproven_sends": unproven,
            "drift": any(i["drift"] for i in incidents) or bool(paused) or unproven > 0}


def _audit_channel(s: Session, incident_id: int, live: Statement, channel: str, preparing: int = 0) -> ChannelAudit:
    shown = s.scalar(select(func.max(Statement.version)).join(Delivery, Delivery.statement_id == Statement.id)
                     .where(Statement.incident_id == incident_id, Delivery.channel == channel,
                            Delivery.status.in_(REACHED)))
    counts = dict(s.execute(select(Delivery.status, func.count()).where(
        Delivery.statement_id == live.id, Delivery.channel == channel).group_by(Delivery.status)).all())
    # Cancelled deliveries never go (a newer version, an opt-out): they are not outstanding.
    outstanding = preparing + sum(n for status, n in counts.items()
                                  if status not in (*REACHED, *FAILED, CANCELLED))
    failed = sum(counts.get(status, 0) for status in FAILED)
    targets = preparing + sum(n for status, n in counts.items() if status != CANCELLED)
    return ChannelAudit(channel, shown, outstanding, failed, targets)
