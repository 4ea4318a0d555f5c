"""Persistence: SQLAlchemy models, sessions and the Alembic migrations."""
