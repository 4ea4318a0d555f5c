"""Holding links: a standing emailed link per user and holding statement, to switch it on from a
phone when the dashboard is out of reach (holding_links.py).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'holding_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('holding_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('sent_to', sa.String(length=320), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('pin_failures', sa.Integer(), server_default='0', nullable=False),
        # When the email provider took the link's email (`provider` log: recorded, not sent): a
        # person's older link is revoked only once the new one's email was taken.
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('provider', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['holding_id'], ['holding_statements.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_holding_links_holding_user', 'holding_links', ['holding_id', 'user_id'])


def downgrade() -> None:
    op.drop_index('ix_holding_links_holding_user', table_name='holding_links')
    op.drop_table('holding_links')
