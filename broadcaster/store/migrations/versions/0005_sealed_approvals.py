"""Four eyes and sealed approvals: statement editors, an incident's highest impact, approval
seals, per-delivery unsubscribe nonces; TRUNCATE refused on the append-only tables (PostgreSQL).

Revision ID: 0005
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("delivery_events", "audit_events")


def upgrade() -> None:
    op.create_table(
        'statement_editors',
        sa.Column('statement_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('statement_id', 'user_id'),
    )
    # Authors so far are the only editors we know of.
    op.execute("INSERT INTO statement_editors (statement_id, user_id) SELECT id, author_id FROM statements")
    with op.batch_alter_table('incidents') as batch_op:
        batch_op.add_column(sa.Column('highest_impact', sa.String(length=20), nullable=True))
    op.execute("UPDATE incidents SET highest_impact = impact")
    with op.batch_alter_table('approvals') as batch_op:
        batch_op.add_column(sa.Column('seal', sa.String(length=64), nullable=True))
    with op.batch_alter_table('deliveries') as batch_op:
        batch_op.add_column(sa.Column('link_nonce', sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # Row triggers (0001) refuse UPDATE and DELETE; TRUNCATE skips them: refuse it per statement.
        # The function 0001 made raises for any trigger, statement-level too.
        for table in APPEND_ONLY_TABLES:
            op.execute(f"""
                CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    with op.batch_alter_table('deliveries') as batch_op:
        batch_op.drop_column('link_nonce')
    with op.batch_alter_table('approvals') as batch_op:
        batch_op.drop_column('seal')
    with op.batch_alter_table('incidents') as batch_op:
        batch_op.drop_column('highest_impact')
    op.drop_table('statement_editors')
