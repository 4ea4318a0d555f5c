"""The social reply queue: posts (mentions and a human-only lane), the one-reply-per-post ledger, cursors

Revision ID: 0007
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'social_posts',
        sa.Column('id', sa.String(length=30), nullable=False),
        sa.Column('author_id', sa.String(length=30), nullable=True),
        sa.Column('author_username', sa.String(length=100), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('posted_at', sa.DateTime(), nullable=True),
        sa.Column('conversation_id', sa.String(length=30), nullable=True),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('lane', sa.String(length=20), nullable=False),
        sa.Column('found_by', sa.String(length=300), nullable=False),
        sa.Column('skipped_by_id', sa.Integer(), nullable=True),
        sa.Column('skipped_at', sa.DateTime(), nullable=True),
        sa.Column('pulled_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
        sa.ForeignKeyConstraint(['skipped_by_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_social_posts_incident_id', 'social_posts', ['incident_id'])
    op.create_table(
        'social_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.String(length=30), nullable=False),
        sa.Column('statement_id', sa.Integer(), nullable=False),
        sa.Column('variant', sa.Integer(), nullable=True),
        sa.Column('custom_text', sa.Text(), nullable=True),
        sa.Column('custom_hash', sa.String(length=64), nullable=True),
        sa.Column('approved_hash', sa.String(length=64), nullable=True),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('delivery_id', sa.Integer(), nullable=True),
        sa.Column('queued_by_id', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('rebased_from_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['social_posts.id'], ),
        sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], ),
        sa.ForeignKeyConstraint(['rebased_from_id'], ['statements.id'], ),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['queued_by_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('post_id'),
    )
    op.create_table(
        'social_cursors',
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('since_id', sa.String(length=30), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('social_cursors')
    op.drop_table('social_replies')
    op.drop_index('ix_social_posts_incident_id', table_name='social_posts')
    op.drop_table('social_posts')
