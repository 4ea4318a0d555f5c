"""The tables of stakeholder audiences: named internal lists (leadership, the regulator, first
responders), each of people with an email address and/or a phone number, who get their own, more
detailed rendition of every approved version (`templates/stakeholder/`)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .orm import Base, utcnow


class StakeholderAudience(Base):
    __tablename__ = "stakeholder_audiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When it hears: "every" version, or only "open_and_resolve" (the first version and the resolution).
    sends_on: Mapped[str] = mapped_column(String(20), default="every", server_default="every")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["StakeholderMember"]] = relationship(
        back_populates="audience", order_by="StakeholderMember.id", cascade="all, delete-orphan")


class StakeholderMember(Base):
    __tablename__ = "stakeholder_members"
    __table_args__ = (UniqueConstraint("audience_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_audiences.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    audience: Mapped[StakeholderAudience] = relationship(back_populates="members")
