"""The tables of postmortems (broadcaster.postmortems): one per resolved incident, written in Markdown,
approved with sealed approvals like a statement, then published; and which subscribers asked for them.
Kept here, beside the other tables, because the public surfaces read published postmortems too."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Incident, Subscriber, User
from .orm import Base, utcnow


class Postmortem(Base):
    """What happened, why, and what changes: the author's Markdown, its sanitised HTML (what is
    approved, hashed and shown), and where it stands."""

    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)  # one per incident
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)  # rendered and sanitised once, when written
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 over the Markdown and the HTML
    state: Mapped[str] = mapped_column(String(20), default="draft")  # PostmortemState
    contributors: Mapped[list[int]] = mapped_column(JSON, default=list)  # who wrote or edited it: never its approver
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notified: Mapped[int] = mapped_column(default=0)  # subscribers emailed at publication

    incident: Mapped[Incident] = relationship()
    approvals: Mapped[list["PostmortemApproval"]] = relationship(back_populates="postmortem",
                                                                 order_by="PostmortemApproval.id")


class PostmortemApproval(Base):
    """One approver's approval of exactly one content hash, sealed with the secret key."""

    __tablename__ = "postmortem_approvals"
    __table_args__ = (UniqueConstraint("postmortem_id", "approver_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seal: Mapped[str] = mapped_column(String(64))

    postmortem: Mapped[Postmortem] = relationship(back_populates="approvals")
    approver: Mapped[User] = relationship()


class PostmortemOptIn(Base):
    """A subscriber who asked to be emailed postmortems (off unless asked)."""

    __tablename__ = "postmortem_opt_ins"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subscriber: Mapped[Subscriber] = relationship()
