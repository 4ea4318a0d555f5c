"""When a subscriber confirmed a sign-up on the public form (None: an operator added it): a webhook
URL anyone typed is checked for public addresses at every send, one an admin added is trusted.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers') as batch:
        batch.add_column(sa.Column('signed_up_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscribers') as batch:
        batch.drop_column('signed_up_at')
