"""The consistency audit: for each incident, the version each channel shows against the live
(latest approved) version. A channel behind is flagged in the dashboard and by `broadcaster audit`."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .. import channels as registry
from ..audience.notify_rules import event_of, left_out, notifies
from ..config import Settings
from ..delivery.fanout import FanOutState, not_yet_written
from ..delivery.pause import paused_channels
from ..delivery.sendlog import unproven_sends
from ..domain.delivery_status import FAILED_FOR_GOOD, REACHED, DeliveryStatus
from ..domain.lifecycle import State
from ..store.models import Delivery, FanOut, Statement
from ..usecase import unit_of_work


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


def consistency_report(settings: Settings, incident_ids: Iterable[int] | None = None) -> dict:
    """For each incident with a live statement (of `incident_ids` when given: the board asks for the open
    ones, not a year of resolved ones): the version each channel shows against it. A few grouped reads
    for all incidents, not a dozen for each: a year of history is thousands of them."""
    with unit_of_work(settings) as s:
        lives = select(Statement).where(Statement.state == State.PUBLISHED.value)
        if incident_ids is not None:
            lives = lives.where(Statement.incident_id.in_(list(incident_ids)))
        live_ids = lives.with_only_columns(Statement.id)
        lives = list(s.scalars(lives.options(selectinload(Statement.renditions), selectinload(Statement.incident))
                               .order_by(Statement.incident_id)))
        shown = {(incident, channel): version for incident, channel, version in s.execute(
            select(Statement.incident_id, Delivery.channel, func.max(Statement.version))
            .join(Delivery, Delivery.statement_id == Statement.id)
            .where(Statement.incident_id.in_(live_ids.with_only_columns(Statement.incident_id)),
                   Delivery.status.in_(REACHED))
            .group_by(Statement.incident_id, Delivery.channel))}
        counts: dict[tuple[int, str], dict[str, int]] = {}
        for statement_id, channel, status, n in s.execute(
                select(Delivery.statement_id, Delivery.channel, Delivery.status, func.count())
                .where(Delivery.statement_id.in_(live_ids))
                .group_by(Delivery.statement_id, Delivery.channel, Delivery.status)):
            counts.setdefault((statement_id, channel), {})[status] = n
        writing = set(s.scalars(select(FanOut.statement_id).where(FanOut.statement_id.in_(live_ids),
                                                                  FanOut.status == FanOutState.RUNNING)))
        incidents = [_audit_incident(settings, s, live, shown, counts, writing) for live in lives]
    paused = paused_channels(settings)
    unproven = unproven_sends(settings)
    return {"incidents": incidents, "paused": paused, "unproven_sends": unproven,
            "drift": any(i["drift"] for i in incidents) or bool(paused) or unproven > 0}


def _absent(settings: Settings, live: Statement, audited: set[str], event: str) -> dict[str, dict]:
    """Why each channel with words for the live version is not in the audit: sent only on demand
    (replies, call-backs), or left out by its notify rule for this kind of update (with the rule)."""
    absent = {}
    for name in sorted({r.channel for r in live.renditions} - audited):
        if not registry.channel(name).delivered_at_publish:
            absent[name] = {"why": "on demand"}
        else:
            absent[name] = left_out(settings, name, event)
    return absent


def _audit_incident(settings: Settings, s: Session, live: Statement, shown: dict, counts: dict,
                    writing: set[int]) -> dict:
    # On demand (social replies): nothing to be behind on. A channel whose notify rule skipped
    # the live version (SMS on an update) is not behind either.
    preparing = not_yet_written(s, live.id) if live.id in writing else {}  # still writing: outstanding too
    rendered = {r.channel for r in live.renditions}
    event = event_of(s, live)  # once, not again for each channel's rule
    channels = {ch.name: _audit_channel(ch.name, shown.get((live.incident_id, ch.name)),
                                        counts.get((live.id, ch.name), {}), preparing.get(ch.name, 0))
                for ch in sorted(registry.all_channels(), key=lambda ch: ch.name)
                if ch.rendition in rendered and ch.delivered_at_publish
                and notifies(settings, s, live, ch.name, event)}
    report = {
        channel: {"shows_version": a.shows_version, "state": a.state(live.version),
                  "outstanding": a.outstanding, DeliveryStatus.FAILED.value: a.failed}
        for channel, a in channels.items()
    }
    return {"incident_id": live.incident_id, "title": live.incident.title, "live_version": live.version,
            "live_statement_id": live.id, "channels": report,
            "absent": _absent(settings, live, set(channels), event),
            "drift": any(c["state"] == "behind" for c in report.values())}


def _audit_channel(channel: str, shown: int | None, counts: dict[str, int], preparing: int = 0) -> ChannelAudit:
    """`shown`: the newest version of the incident that reached someone on this channel; `counts`: the
    live version's deliveries on it by status."""
    # Cancelled deliveries never go (a newer version, an opt-out): they are not outstanding.
    outstanding = preparing + sum(n for status, n in counts.items()
                                  if status not in (*REACHED, *FAILED_FOR_GOOD, DeliveryStatus.CANCELLED))
    failed = sum(counts.get(status, 0) for status in FAILED_FOR_GOOD)
    targets = preparing + sum(n for status, n in counts.items() if status != DeliveryStatus.CANCELLED)
    return ChannelAudit(channel, shown, outstanding, failed, targets)
