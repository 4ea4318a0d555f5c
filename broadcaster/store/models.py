"""The core tables: people, incidents, statements and their approvals, deliveries and the send log,
subscribers, components. The database is the truth: every state and every send is here. The tables of
access and of the social queue are in `access_models.py` and `social_models.py`.

``delivery_events`` and ``audit_events`` are append-only (the migration adds
triggers that refuse UPDATE and DELETE): together they are the proof of what was
said, where, when and by whom.
"""

import secrets
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from ..domain.message_secrets import SUBSCRIBER_MESSAGES
from .orm import Base, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_slack_user_id", "slack_user_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated Role values
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2; None: cannot log in to the web
    pin_hash: Mapped[str | None] = mapped_column(String(200))  # argon2 of the PIN for `HOLD n PIN` by SMS
    # Their Slack member id (`U0123ABCD`): who clicked Approve in Slack; approval requests go to it as a DM.
    slack_user_id: Mapped[str | None] = mapped_column(String(20))

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
    # The highest impact it ever had: the approval policy follows it, so a lower impact in a new
    # version still needs the approvals of the highest (lowering is itself an approved change).
    highest_impact: Mapped[str | None] = mapped_column(String(20))
    # "incident", or "maintenance": planned work in a window, said ahead of time (maintenance.py)
    kind: Mapped[str] = mapped_column(String(20), default="incident", server_default="incident")
    scheduled_for: Mapped[datetime | None]
    scheduled_until: Mapped[datetime | None]

    statements: Mapped[list["Statement"]] = relationship(
        back_populates="incident", order_by="Statement.version"
    )


class Statement(Base):
    __tablename__ = "statements"
    # And one live version per incident, enforced by the database (migration 0004): a partial index,
    # declared in `schema.py`.
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
    # What a resolved statement says first (its own line, not the outage's headline); "" otherwise.
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The language its own fields are written in (the installation's default when it was drafted),
    # and {locale: {headline, body, workaround, resolution}} in the installation's other languages.
    language: Mapped[str] = mapped_column(String(20), default="en", server_default="en")
    translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(JSON, default=dict)
    # Disaster mode: the contact centre cannot take calls, and every channel says where to go instead.
    contact_centre_closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # For the contact centre (the agent rendition): {"answers": [{"question", "answer"}], "do_not_promise"};
    # for stakeholder audiences (their rendition): {"impact", "customers_affected", "owner", "eta"}. Both
    # optional, written by the author, approved with the words (None before 0017).
    agent_notes: Mapped[dict | None] = mapped_column(JSON, default=dict)
    internal_notes: Mapped[dict[str, str] | None] = mapped_column(JSON, default=dict)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))
    content_hash: Mapped[str | None] = mapped_column(String(64))  # set on submit
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="statements")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    # The renditions in the statement's own language (locale ''): what every channel sends unless a
    # recipient's language has a translated rendition (`translated_renditions`, one per locale).
    renditions: Mapped[list["Rendition"]] = relationship(
        back_populates="statement", order_by="Rendition.channel",
        primaryjoin=lambda: and_(Statement.id == foreign(Rendition.statement_id), Rendition.locale == ""),
    )
    # Loaded with the statement (one IN query for a batch of statements): the send path re-hashes
    # every language's words after its session has closed.
    translated_renditions: Mapped[list["Rendition"]] = relationship(
        order_by="(Rendition.locale, Rendition.channel)", viewonly=True, lazy="selectin",
        primaryjoin=lambda: and_(Statement.id == foreign(Rendition.statement_id), Rendition.locale != ""),
    )
    approvals: Mapped[list["Approval"]] = relationship(
        back_populates="statement", order_by="Approval.id"
    )
    editors: Mapped[list["StatementEditor"]] = relationship(back_populates="statement")

    @property
    def contributors(self) -> set[int]:
        """Everyone who wrote or changed a field of this version (or of the drafts it came from)."""
        return {self.author_id, *(e.user_id for e in self.editors)}

    @property
    def replaced_by(self) -> int | None:
        """The newest version of its incident after this one (an edit or a new draft replaced it), if any."""
        return max((st.version for st in self.incident.statements if st.version > self.version), default=None)


class StatementEditor(Base):
    """One person who wrote or changed a version's words: none of them may approve it."""

    __tablename__ = "statement_editors"

    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)

    statement: Mapped[Statement] = relationship(back_populates="editors")


class Rendition(Base):
    """The exact words one channel will say in one language, stored at submit and sent byte for byte."""

    __tablename__ = "renditions"
    __table_args__ = (Index("uq_renditions_statement_channel_locale", "statement_id", "channel", "locale",
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))
    channel: Mapped[str] = mapped_column(String(30))
    # "" for the statement's own language (`Statement.language`), else the translation's locale.
    locale: Mapped[str] = mapped_column(String(20), default="", server_default="")
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
    # HMAC of (statement, content hash, approver, time) under the secret key, which is not in the
    # database: see domain.approval.seal. None on a rejection.
    seal: Mapped[str | None] = mapped_column(String(64))

    statement: Mapped[Statement] = relationship(back_populates="approvals")
    approver: Mapped[User] = relationship()


class Message(Base):
    """Words for one of our own people or one address, outside any statement: an approval request,
    a sign-up confirmation, a holding link, an update reminder (`domain.message_secrets.MessageKind`). Sent
    like a statement's words: rendered once, hashed, sent byte for byte, logged, retried, reconciled.
    A secret in it (a link's token, a code) is never stored: the words hold a marker, and the token
    is derived at send time from the secret key, the delivery and `binding` (what it is bound to)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(60))  # what it is about, as the audit trail says it: "statement:3"
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of `fields`, re-checked before every send
    binding: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # not sent by then: cancelled, never sent late (a stale link helps no one)
    withdrawn_at: Mapped[datetime | None]  # void before it went (the statement was approved meanwhile...)

    @property
    def to_subscribers(self) -> bool:
        """To customers (a postmortem), not to our own people: unsubscribable (`SUBSCRIBER_MESSAGES`)."""
        return self.kind in SUBSCRIBER_MESSAGES


class Delivery(Base):
    """One target of one published statement (the banner, the IVR line, one SMS recipient...), or
    of one message (an approver's phone)."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),
                      Index("uq_deliveries_target", "statement_id", "channel", "target", unique=True),
                      Index("uq_deliveries_message_target", "message_id", "channel", "target", unique=True),
                      Index("ix_deliveries_statement_channel_status", "statement_id", "channel", "status"),
                      CheckConstraint("(statement_id IS NULL) <> (message_id IS NULL)",
                                      name="ck_deliveries_statement_or_message"))

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
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
    claim_token: Mapped[str | None] = mapped_column(String(32))  # whose claim this is; only its holder records
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Random per delivery, signed into its unsubscribe link: ids are sequential, links must not be.
    link_nonce: Mapped[str | None] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # The language of the words it carries, chosen when the row is written from the subscriber's (or
    # the caller's) language among the statement's: a translation's locale, or the statement's own
    # language. None: a live surface (it serves every language) or a message.
    locale: Mapped[str | None] = mapped_column(String(20))
    # Answers a caller who asked the phone line to hear when it is fixed: sends the channel's
    # follow-up words (`Channel.follow_up_words`), not its update.
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    statement: Mapped[Statement | None] = relationship()
    message: Mapped[Message | None] = relationship()


class FanOut(Base):
    """One recipient channel of a published statement, its deliveries still being written: a
    worker walks the subscribers in id order, a slice at a time, and `cursor` is the last
    subscriber id done, moved in the same transaction as that slice's rows."""

    __tablename__ = "fan_outs"
    __table_args__ = (UniqueConstraint("statement_id", "channel"), Index("ix_fan_outs_status", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))
    channel: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))  # delivery.fanout.FanOutState
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    # The worker task writing it now (a token its continuations carry): one writer per job.
    runner: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryEvent(Base):
    """The send log: one row per state change of a delivery, never updated or deleted."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(30))
    target: Mapped[str] = mapped_column(String(320))
    provider: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    locale: Mapped[str | None] = mapped_column(String(20))  # the language of the words (`Delivery.locale`)


class ChannelPause(Base):
    """A channel whose provider refused our credentials: its deliveries wait, nothing is failed."""

    __tablename__ = "channel_pauses"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    since: Mapped[datetime] = mapped_column(default=utcnow)


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
    # When a sign-up on the public form was confirmed for it (None: added by an operator): a webhook
    # URL anyone typed is checked for public addresses at every send.
    signed_up_at: Mapped[datetime | None]


class CallbackRequest(Base):
    """A caller who pressed 1 on the IVR: call them back when this incident is fixed."""

    __tablename__ = "callback_requests"
    __table_args__ = (UniqueConstraint("incident_id", "phone"),)  # one call-back per number and incident

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    phone: Mapped[str] = mapped_column(String(20))  # E.164, as Twilio reports the caller
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
    # The language the caller chose on the phone line (None: the default): the follow-up speaks it.
    locale: Mapped[str | None] = mapped_column(String(20))














class Component(Base):
    """A part of the service customers see on the status page, in its group and order."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    group_name: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)




# The public surfaces ask "did a live surface switch?" on every cache refresh: a partial index of
# deliveries on these channels answers (declared in `schema.py`).
LIVE_SURFACE_CHANNELS = ("banner", "status_page", "ivr")

APPEND_ONLY_TABLES = ("delivery_events", "audit_events")
