"""Statements in several languages, and the words of a resolution: a statement's own language, its
translations (headline, body, workaround, resolution per locale), the resolution line a resolved
statement says first, and whether the contact centre can take calls (disaster mode); one rendition
per statement, channel and locale ('' is the statement's own language); the language a caller chose
on the phone line, for the text that follows up their call-back request.

Revision ID: 0014
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None

# The unique constraint 0001 created without a name, named the same way on every backend.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}


def upgrade() -> None:
    with op.batch_alter_table('statements') as batch:
        batch.add_column(sa.Column('resolution', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('language', sa.String(length=20), nullable=False, server_default='en'))
        batch.add_column(sa.Column('translations', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('contact_centre_closed', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    if op.get_context().dialect.name == 'postgresql':
        op.drop_constraint('renditions_statement_id_channel_key', 'renditions', type_='unique')
        op.add_column('renditions', sa.Column('locale', sa.String(length=20), nullable=False, server_default=''))
    else:
        with op.batch_alter_table('renditions', naming_convention=NAMING, recreate='always') as batch:
            batch.drop_constraint('uq_renditions_statement_id_channel', type_='unique')
            batch.add_column(sa.Column('locale', sa.String(length=20), nullable=False, server_default=''))
    op.create_index('uq_renditions_statement_channel_locale', 'renditions', ['statement_id', 'channel', 'locale'],
                    unique=True)
    with op.batch_alter_table('callback_requests') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('callback_requests') as batch:
        batch.drop_column('locale')
    op.execute("DELETE FROM renditions WHERE locale <> ''")
    op.drop_index('uq_renditions_statement_channel_locale', 'renditions')
    with op.batch_alter_table('renditions') as batch:
        batch.drop_column('locale')
        batch.create_unique_constraint('renditions_statement_id_channel_key', ['statement_id', 'channel'])
    with op.batch_alter_table('statements') as batch:
        batch.drop_column('contact_centre_closed')
        batch.drop_column('translations')
        batch.drop_column('language')
        batch.drop_column('resolution')
