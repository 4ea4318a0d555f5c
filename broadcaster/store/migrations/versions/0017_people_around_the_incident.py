"""The people around the incident: the author's notes for contact-centre agents (approved answers,
what not to promise) and the internal fields stakeholder audiences read (impact, customers affected,
owner, ETA), both on the statement and covered by its content hash; stakeholder audiences and their
members.

Revision ID: 0017
Revises: 0018b
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0018b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('statements') as batch:
        batch.add_column(sa.Column('agent_notes', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('internal_notes', sa.JSON(), nullable=True))
    op.create_table(
        'stakeholder_audiences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('description', sa.Text(), nullable=False, server_default=''),
        sa.Column('sends_on', sa.String(length=20), nullable=False, server_default='every'),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'stakeholder_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('audience_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['audience_id'], ['stakeholder_audiences.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('audience_id', 'name'),
    )


def downgrade() -> None:
    op.drop_table('stakeholder_members')
    op.drop_table('stakeholder_audiences')
    with op.batch_alter_table('statements') as batch:
        batch.drop_column('internal_notes')
        batch.drop_column('agent_notes')
