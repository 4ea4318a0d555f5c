"""Postmortems: one per incident, in Markdown with its sanitised HTML and content hash, approved with
sealed approvals like a statement, published on the status page, the feeds and the Statuspage JSON;
and the subscribers who asked to be emailed them.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'postmortems',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('markdown', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('contributors', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.Column('notified', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id'),
    )
    op.create_table(
        'postmortem_approvals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('postmortem_id', sa.Integer(), nullable=False),
        sa.Column('approver_id', sa.Integer(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seal', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['approver_id'], ['users.id']),
        sa.ForeignKeyConstraint(['postmortem_id'], ['postmortems.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('postmortem_id', 'approver_id', 'content_hash'),
    )
    op.create_table(
        'postmortem_opt_ins',
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id']),
        sa.PrimaryKeyConstraint('subscriber_id'),
    )


def downgrade() -> None:
    op.drop_table('postmortem_opt_ins')
    op.drop_table('postmortem_approvals')
    op.drop_table('postmortems')
