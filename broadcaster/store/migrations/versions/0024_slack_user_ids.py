"""Approve from Slack: a user's Slack member id (`U0123ABCD`), which maps the person who clicked a
button in Slack to a Broadcaster user. Unique: one Slack member speaks for one user (NULLs, the users
without one, do not collide on either backend).

Revision ID: 0024
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('slack_user_id', sa.String(length=20), nullable=True))
    op.create_index('uq_users_slack_user_id', 'users', ['slack_user_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_users_slack_user_id', table_name='users')
    op.drop_column('users', 'slack_user_id')
