"""IVR call-back requests; a partial index for "did a live surface switch?"

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

LIVE_SURFACES = "channel IN ('banner', 'status_page', 'ivr')"


def upgrade() -> None:
    op.create_table(
        'callback_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('notified_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id', 'phone'),
    )
    op.create_index('ix_deliveries_live_surfaces', 'deliveries', ['channel', 'status'], unique=False,
                    postgresql_where=sa.text(LIVE_SURFACES), sqlite_where=sa.text(LIVE_SURFACES))


def downgrade() -> None:
    op.drop_index('ix_deliveries_live_surfaces', table_name='deliveries')
    op.drop_table('callback_requests')
