"""The whole schema on `Base.metadata`: every table module, and the partial indexes. What compares
the models with the database imports this (the migrations' `env.py`, so `alembic check`; the store's
tests); the code that reads and writes imports only the table modules it uses.

The partial indexes are declared here, not beside their tables: each names its WHERE for
PostgreSQL and for SQLite, and naming a dialect's option makes SQLAlchemy load that dialect to check
the option, which cost every command on SQLite the PostgreSQL dialect at start-up. Nothing but DDL
and its comparison reads an index; the migrations create them (0004, and the live surfaces')."""

from sqlalchemy import Index, text

from . import (  # noqa: F401 - each puts its tables on Base.metadata
    access_models,
    alert_models,
    api_models,
    event_models,
    models,
    postmortem_models,
    social_models,
    stakeholder_models,
)
from .models import LIVE_SURFACE_CHANNELS, Delivery, Statement
from .orm import Base

__all__ = ["Base"]

# One live version per incident, enforced by the database (migration 0004).
Index("uq_statements_one_live", Statement.incident_id, unique=True,
      postgresql_where=text("state = 'published'"), sqlite_where=text("state = 'published'"))

# The public surfaces ask "did a live surface switch?" on every cache refresh. Partial, so the
# millions of email/SMS deliveries neither sit in it nor pay to maintain it.
Index("ix_deliveries_live_surfaces", Delivery.channel, Delivery.status,
      postgresql_where=Delivery.channel.in_(LIVE_SURFACE_CHANNELS),
      sqlite_where=Delivery.channel.in_(LIVE_SURFACE_CHANNELS))
