"""Components as a table and a state per component on each statement; scheduled maintenance
(an incident of kind `maintenance` with a window); public sign-ups awaiting confirmation and
one-time links to manage a subscription.

Revision ID: 0008
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'components',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.Text(), nullable=False, server_default=''),
        sa.Column('group_name', sa.String(length=100), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('component_states', sa.JSON(), nullable=True))
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='incident'))
        batch_op.add_column(sa.Column('scheduled_for', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('scheduled_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manage_nonce', sa.String(length=64), nullable=True))
    op.create_table(
        'subscription_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=30), nullable=False),
        sa.Column('address', sa.String(length=2000), nullable=False),
        sa.Column('components', sa.JSON(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )


def downgrade() -> None:
    op.drop_table('subscription_requests')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('manage_nonce')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('scheduled_until')
        batch_op.drop_column('scheduled_for')
        batch_op.drop_column('kind')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_column('component_states')
    op.drop_table('components')
