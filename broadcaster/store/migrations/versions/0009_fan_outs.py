"""Fan-out jobs: publish writes the live deliveries and one job per recipient channel; workers
write the per-recipient deliveries in slices, so publish no longer waits for the audience. A job
names the worker task writing it, so one task chain writes it.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fan_outs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('statement_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=30), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('cursor', sa.Integer(), nullable=False),
        sa.Column('written', sa.Integer(), nullable=False),
        # The worker task writing it now: one task chain per job (a second one leaves it).
        sa.Column('runner', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['statement_id'], ['statements.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('statement_id', 'channel'),
    )
    op.create_index('ix_fan_outs_status', 'fan_outs', ['status'])
    # Call-backs to IVR callers were `ivr` deliveries with a phone number as target; they are the
    # `call` channel now (the `ivr` surface is switched, never dialled): unsent ones keep their way.
    op.execute("UPDATE deliveries SET channel = 'call' WHERE channel = 'ivr' AND target <> 'ivr'")


def downgrade() -> None:
    op.execute("UPDATE deliveries SET channel = 'ivr' WHERE channel = 'call'")
    op.drop_index('ix_fan_outs_status', table_name='fan_outs')
    op.drop_table('fan_outs')
