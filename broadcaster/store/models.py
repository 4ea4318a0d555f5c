"""The tables. The database is the truth: every state and every send is here.

``delivery_events`` and ``audit_events`` are append-only (the migration adds
triggers that refuse UPDATE and DELETE): together they are the proof of what was
said, where, when and by whom.
"""

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store times in UTC with tzinfo")
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated Role values
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def role_list(self) -> list[str]:
        return [role for role in self.roles.split(",") if role]


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    impact: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    components: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    # "incident", or "maintenance": planned work in a window, said ahead of time (maintenance.py)
    kind: Mapped[str] = mapped_column(String(20), default="incident", server_default="incident")
    scheduled_for: Mapped[datetime | None]
    scheduled_until: Mapped[datetime | None]

    statements: Mapped[list["Statement"]] = relationship(
        back_populates="incident", order_by="Statement.version"
    )


class Statement(Base):
    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("incident_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20))
    impact: Mapped[str] = mapped_column(String(20))
    components: Mapped[list[str]] = mapped_column(JSON, default=list)
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    workaround: Mapped[str] = mapped_column(Text, default="")
    next_update_at: Mapped[datetime | None]
    # {component: operational | degraded_performance | ... }: approved with the words (None before 0008)
    component_states: Mapped[dict[str, str] | None] = mapped_column(JSON, default=dict)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))
    content_hash: Mapped[str | None] = mapped_column(String(64))  # set on submit
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="statements")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    renditions: Mapped[list["Rendition"]] = relationship(
        back_populates="statement", order_by="Rendition.channel"
    )
    approvals: Mapped[list["Approval"]] = relationship(
        back_populates="statement", order_by="Approval.id"
    )


class Rendition(Base):
    """The exact words one channel will say, stored at submit and sent byte for byte."""

    __tablename__ = "renditions"
    __table_args__ = (UniqueConstraint("statement_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))
    channel: Mapped[str] = mapped_column(String(30))
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))

    statement: Mapped[Statement] = relationship(back_populates="renditions")


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("statement_id", "approver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(10))  # approve | reject
    content_hash: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    statement: Mapped[Statement] = relationship(back_populates="approvals")
    approver: Mapped[User] = relationship()


class Delivery(Base):
    """One target of one published statement: the banner, the IVR line, one SMS recipient..."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    channel: Mapped[str] = mapped_column(String(30))
    target: Mapped[str] = mapped_column(String(320))
    provider: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(100), index=True)  # callbacks find by it
    error_code: Mapped[str | None] = mapped_column(String(50))
    error_message: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    statement: Mapped[Statement] = relationship()


class DeliveryEvent(Base):
    """The send log: one row per state change of a delivery, never updated or deleted."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    channel: Mapped[str] = mapped_column(String(30))
    target: Mapped[str] = mapped_column(String(320))
    provider: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who did what, when: drafting, approving, publishing. Append-only."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(60))  # e.g. "statement:3"
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscriber(Base):
    """A customer who asked for updates by email, SMS and/or a signed webhook."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)  # E.164
    webhook_url: Mapped[str | None] = mapped_column(String(2000))  # https URL that receives signed updates
    webhook_secret: Mapped[str | None] = mapped_column(String(100))  # "whsec_...", shared with the receiver
    locale: Mapped[str] = mapped_column(String(20), default="en")
    components: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: all
    opted_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    manage_nonce: Mapped[str | None] = mapped_column(String(64))  # changes when a manage link is used


class CallbackRequest(Base):
    """A caller who pressed 1 on the IVR: call them back when this incident is fixed."""

    __tablename__ = "callback_requests"
    __table_args__ = (UniqueConstraint("incident_id", "phone"),)  # one call-back per number and incident

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    phone: Mapped[str] = mapped_column(String(20))  # E.164, as Twilio reports the caller
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]


class Component(Base):
    """A part of the service customers see on the status page, in its group and order."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    group_name: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubscriptionRequest(Base):
    """A public sign-up waiting for its double opt-in: a link (email, webhook) or a code (SMS)."""

    __tablename__ = "subscription_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(2000))
    components: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: all
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the link's token
    code_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the SMS code
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]


# The public surfaces ask "did a live surface switch?" on every cache refresh. Partial, so the
# millions of email/SMS deliveries neither sit in it nor pay to maintain it.
LIVE_SURFACE_CHANNELS = ("banner", "status_page", "ivr")
Index("ix_deliveries_live_surfaces", Delivery.channel, Delivery.status,
      postgresql_where=Delivery.channel.in_(LIVE_SURFACE_CHANNELS),
      sqlite_where=Delivery.channel.in_(LIVE_SURFACE_CHANNELS))

APPEND_ONLY_TABLES = ("delivery_events", "audit_events")
