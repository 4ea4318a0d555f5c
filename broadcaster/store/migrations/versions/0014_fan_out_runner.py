"""Fan-out jobs name the worker task writing them, so a job resumed by the sweep while its own
continuation still waited on the broker is written by one task chain, not two.

Revision ID: 0014
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fan_outs') as batch:
        batch.add_column(sa.Column('runner', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fan_outs') as batch:
        batch.drop_column('runner')
