"""The tables of alerts in and statement templates (broadcaster.alerts, broadcaster.playbooks): reusable
drafts per kind of failure, the monitoring sources that may post alerts, the rules that map an alert's
labels to a template, and what came in (groups of alerts, each tied to the incident it opened)."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .access_models import HoldingStatement
from .models import Incident, User
from .orm import Base, utcnow


class StatementTemplate(Base):
    """A reusable draft for one kind of failure; `{placeholders}` in its words are filled at use.
    Not approved: a statement started from it is a draft like any other."""

    __tablename__ = "statement_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))  # the incident's title when one is opened from it
    impact: Mapped[str] = mapped_column(String(20))
    components: Mapped[list[str]] = mapped_column(JSON, default=list)
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    workaround: Mapped[str] = mapped_column(Text, default="")
    next_update: Mapped[str] = mapped_column(String(20), default="30m")  # '30m', '1h', or 'none'
    resolution: Mapped[str] = mapped_column(Text, default="")  # what a resolved draft from it says first
    resolved_body: Mapped[str] = mapped_column(Text, default="")  # and what it says next: what was done
    # {locale: {headline, body, workaround, resolution}} in the installation's other languages
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertSource(Base):
    """A monitoring system allowed to post alerts: its kind says how a request proves it is the source
    (a bearer token, of which only the SHA-256 is kept; or an HMAC secret, kept to verify signatures)."""

    __tablename__ = "alert_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)  # in the URL: /webhooks/alerts/NAME
    kind: Mapped[str] = mapped_column(String(20))  # alerts.enums.SourceKind
    token_hash: Mapped[str | None] = mapped_column(String(64))
    secret: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_received_at: Mapped[datetime | None]


class AlertRule(Base):
    """Alerts whose labels match `matchers` ({label: value or 'a|b'}) open a draft from `template`,
    affecting `components` at `impact`, and the people in `notify` are told (none: every author and
    approver). With `holding_id` and `holding_after_minutes`, a pre-approved holding statement is
    switched on when nobody has answered the draft by then (off unless both are set)."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=100)  # the first matching rule wins (lowest first)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("alert_sources.id"))  # None: any source
    matchers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    components: Mapped[list[str]] = mapped_column(JSON, default=list)  # none: the template's
    impact: Mapped[str | None] = mapped_column(String(20))  # None: the template's
    template_id: Mapped[int] = mapped_column(ForeignKey("statement_templates.id"))
    notify: Mapped[list[int]] = mapped_column(JSON, default=list)  # user ids
    holding_id: Mapped[int | None] = mapped_column(ForeignKey("holding_statements.id"))
    holding_after_minutes: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the draft is written in their name
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    template: Mapped[StatementTemplate] = relationship()
    source: Mapped[AlertSource | None] = relationship()
    holding: Mapped[HoldingStatement | None] = relationship()
    created_by: Mapped[User] = relationship()


class AlertGroup(Base):
    """Alerts a source groups together (Alertmanager's groupKey, PagerDuty's incident id, a generic
    source's group): one row per source and key, tied to the incident its rule opened or joined."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("source_id", "group_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("alert_sources.id"))
    group_key: Mapped[str] = mapped_column(String(300))
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))  # alerts.enums.AlertState: firing | resolved
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    notifications: Mapped[int] = mapped_column(Integer, default=0)  # requests received for this group

    incident: Mapped[Incident] = relationship()
    rule: Mapped[AlertRule] = relationship()
    source: Mapped[AlertSource] = relationship()


class AlertIncident(Base):
    """What monitoring did to one incident: the drafts it proposed (so a human answer can be told
    apart), and whether a rule's holding statement was switched on for want of one."""

    __tablename__ = "alert_incidents"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))  # firing while any of its groups fires, else resolved
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    proposed: Mapped[list[int]] = mapped_column(JSON, default=list)  # statement ids drafted by monitoring
    holding_switched_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship()
    rule: Mapped[AlertRule] = relationship()


class Alert(Base):
    """One alert of a group, by the source's fingerprint: its latest status and labels."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("group_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
