"""The tables of access: API tokens, dashboard sessions, approval requests by link and code, inbound
messages already acted on, holding statements with their emailed links, and public sign-ups waiting
for their double opt-in."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Statement, User
from .orm import Base, utcnow


class ApiToken(Base):
    """A script's credential: one role of one user. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class WebSession(Base):
    """A dashboard login: the cookie holds a random token, the row its SHA-256 and the CSRF token."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ApprovalRequest(Base):
    """An approver asked by email (a link) or SMS (a code) to approve one statement's content."""

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_user_kind", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))  # email | sms
    secret_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the link's nonce or the SMS code
    content_hash: Mapped[str] = mapped_column(String(64))  # an edit changes the hash: the request is void
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    statement: Mapped[Statement] = relationship()
    user: Mapped[User] = relationship()


class InboundMessage(Base):
    """Provider message ids already acted on: a replayed inbound SMS is refused."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HoldingStatement(Base):
    """An approved statement kept ready for an outage; its id is the number in `HOLD 2 <pin>`."""

    __tablename__ = "holding_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    statement: Mapped[Statement] = relationship()


class HoldingLink(Base):
    """A standing emailed link with which one user may switch on one holding statement when they
    cannot reach the dashboard. Bound to the approved content hash and to the address it was sent
    to; valid until used, revoked, expired, or after MAX_PIN_FAILURES wrong PINs (holding_links.py).
    `sent_at` is set once the email provider took its email (`provider`; `log`: recorded, not sent);
    an email that failed revokes it at once, and only a sent one revokes the person's older links."""

    __tablename__ = "holding_links"
    __table_args__ = (Index("ix_holding_links_holding_user", "holding_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holding_id: Mapped[int] = mapped_column(ForeignKey("holding_statements.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    secret_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the link's nonce
    content_hash: Mapped[str] = mapped_column(String(64))
    sent_to: Mapped[str] = mapped_column(String(320))  # the user's address then: a changed address voids it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    pin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_at: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(String(20))

    holding: Mapped[HoldingStatement] = relationship()
    user: Mapped[User] = relationship()


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
    # The language of the page it was made on: the confirmation is worded in it, and the subscriber
    # reads their updates in it (None: made before sign-ups had a language; the default).
    locale: Mapped[str | None] = mapped_column(String(20))
