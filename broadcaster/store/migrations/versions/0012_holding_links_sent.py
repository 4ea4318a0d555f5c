"""Holding links say whether their email went: `sent_at` (when the email provider took it) and
`provider` (`log`: recorded, not sent). A person's older link is revoked only once the new one's
email was taken, so a failed email no longer leaves them with no working link.

Revision ID: 0012
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('holding_links') as batch:
        batch.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('provider', sa.String(length=20), nullable=True))
    # Links sent before this revision: what became of their email was not recorded; taken as sent.
    op.execute("UPDATE holding_links SET sent_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('holding_links') as batch:
        batch.drop_column('provider')
        batch.drop_column('sent_at')
