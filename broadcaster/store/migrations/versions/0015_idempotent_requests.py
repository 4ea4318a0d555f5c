"""The REST API's idempotency keys: each caller's key, the request's fingerprint, and the first
answer, kept for retries (at least 24 hours).

Revision ID: 0015
Revises: 0019 (0013 in the task; chained after main's head to stay one line)
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'idempotent_requests',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('path', sa.String(length=2000), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('headers', sa.JSON(), nullable=True),
        sa.Column('body', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('owner', 'key', name='uq_idempotent_requests_owner_key'),
    )
    op.create_index('ix_idempotent_requests_expires_at', 'idempotent_requests', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_idempotent_requests_expires_at', table_name='idempotent_requests')
    op.drop_table('idempotent_requests')
