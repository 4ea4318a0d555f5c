"""Each recipient in their own language: which language's words a delivery carries (chosen from the
subscriber's or the caller's language when the row is written) and whether it answers a caller's
call-back request (a follow-up sends the channel's follow-up words); every send-log line says the
language too; a public sign-up keeps the language of the page it was made on.

Columns added in place (ALTER TABLE ... ADD COLUMN on both backends, no table copied): the send
log's append-only triggers and the partial index of live surfaces stay as they are.

Revision ID: 0013
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('deliveries', sa.Column('locale', sa.String(length=20), nullable=True))
    op.add_column('deliveries', sa.Column('follow_up', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('delivery_events', sa.Column('locale', sa.String(length=20), nullable=True))
    op.add_column('subscription_requests', sa.Column('locale', sa.String(length=20), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops a column in place too: no copy, so the triggers stay.
    op.drop_column('subscription_requests', 'locale')
    op.drop_column('delivery_events', 'locale')
    op.drop_column('deliveries', 'follow_up')
    op.drop_column('deliveries', 'locale')
