"""The tables of the social reply queue (broadcaster.social): customers' posts, the one-reply ledger,
and where each source was last read."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Delivery, Statement, User
from .orm import Base, utcnow


class SocialPost(Base):
    """A customer's post on X, pulled from the account's mentions or found by a search."""

    __tablename__ = "social_posts"

    id: Mapped[str] = mapped_column(String(30), primary_key=True)  # X's post id
    author_id: Mapped[str | None] = mapped_column(String(30))
    author_username: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime | None]
    conversation_id: Mapped[str | None] = mapped_column(String(30))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)  # open when pulled
    # "mention": it names the account, the API may answer it; "human_only": a search match, never answered
    # by the API (X's self-serve tiers refuse it, and its rules forbid auto-replies to keyword matches).
    lane: Mapped[str] = mapped_column(String(20))
    found_by: Mapped[str] = mapped_column(String(300))  # "mentions" or "search: QUERY"
    skipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    skipped_at: Mapped[datetime | None]
    pulled_at: Mapped[datetime] = mapped_column(default=utcnow)


class SocialReply(Base):
    """The ledger: at most one reply per post, ever. Written (unique post id) before anything is sent."""

    __tablename__ = "social_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("social_posts.id"), unique=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))  # the version it goes out on
    variant: Mapped[int | None] = mapped_column(Integer)  # None: approved free text
    custom_text: Mapped[str | None] = mapped_column(Text)
    custom_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of custom_text as proposed
    approved_hash: Mapped[str | None] = mapped_column(String(64))  # what an approver approved
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    queued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    rebased_from_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))  # first version queued on
    note: Mapped[str] = mapped_column(Text, default="")

    post: Mapped[SocialPost] = relationship()
    statement: Mapped[Statement] = relationship(foreign_keys=[statement_id])
    delivery: Mapped[Delivery | None] = relationship()
    queued_by: Mapped[User] = relationship(foreign_keys=[queued_by_id])


class SocialCursor(Base):
    """The newest post id seen per source ("mentions:ACCOUNT", "search:QUERY"): the next pull's since_id."""

    __tablename__ = "social_cursors"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    since_id: Mapped[str] = mapped_column(String(30))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
