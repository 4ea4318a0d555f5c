"""Statement templates in every language, and what their resolved drafts say: `translations` ({locale:
{headline, body, workaround, resolution, resolved_body}} in the installation's other languages) and
`resolved_body` (what a resolved draft says after its resolution line). Columns added in place; a
template kept from before gets an empty body for its resolved drafts, to be written before it is used
for one (the API, CLI and dashboard require it when a template is saved).

Revision ID: 0018b
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0018b'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('statement_templates', sa.Column('resolved_body', sa.Text(), nullable=False, server_default=''))
    op.add_column('statement_templates', sa.Column('translations', sa.JSON(), nullable=False,
                                                   server_default=sa.text("'{}'")))


def downgrade() -> None:
    op.drop_column('statement_templates', 'translations')
    op.drop_column('statement_templates', 'resolved_body')
