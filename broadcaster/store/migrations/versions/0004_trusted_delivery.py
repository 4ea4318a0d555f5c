"""Trusted delivery: claim tokens, one live version per incident, one delivery per target,
paused channels, indexes for the audit and the sweep.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PUBLISHED = "state = 'published'"


def upgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
    # The database, not the code path, keeps one version live per incident.
    op.create_index('uq_statements_one_live', 'statements', ['incident_id'], unique=True,
                    postgresql_where=sa.text(PUBLISHED), sqlite_where=sa.text(PUBLISHED))
    op.create_index('uq_deliveries_target', 'deliveries', ['statement_id', 'channel', 'target'], unique=True)
    op.create_index('ix_deliveries_statement_channel_status', 'deliveries', ['statement_id', 'channel', 'status'])
    op.create_table(
        'channel_pauses',
        sa.Column('channel', sa.String(length=30), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('since', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('channel'),
    )


def downgrade() -> None:
    op.drop_table('channel_pauses')
    op.drop_index('ix_deliveries_statement_channel_status', table_name='deliveries')
    op.drop_index('uq_deliveries_target', table_name='deliveries')
    op.drop_index('uq_statements_one_live', table_name='statements')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('claim_token')
