"""Messages: every send goes through the engine. Approval requests, sign-up confirmations, holding
links and update reminders are messages (rendered once, hashed), each sent as a delivery like a
statement's words: logged, retried, reconciled. A delivery (and its send-log lines) belongs to a
statement or to a message, never both.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

LIVE_SURFACES = "channel IN ('banner', 'status_page', 'ivr')"
ONE_OF = "(statement_id IS NULL) <> (message_id IS NULL)"


def upgrade() -> None:
    op.create_table(
        'messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('subject', sa.String(length=60), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('binding', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch.alter_column('statement_id', existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key('fk_deliveries_message_id_messages', 'messages', ['message_id'], ['id'])
        batch.create_index('ix_deliveries_message_id', ['message_id'])
        batch.create_index('uq_deliveries_message_target', ['message_id', 'channel', 'target'], unique=True)
        batch.create_check_constraint('ck_deliveries_statement_or_message', ONE_OF)
    with op.batch_alter_table('delivery_events') as batch:
        batch.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch.alter_column('statement_id', existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key('fk_delivery_events_message_id_messages', 'messages', ['message_id'], ['id'])
        batch.create_index('ix_delivery_events_message_id', ['message_id'])
    if op.get_bind().dialect.name == "sqlite":
        _restore_after_sqlite_copy()


def _restore_after_sqlite_copy() -> None:
    """SQLite alters a column by copying the table: the send log's append-only triggers and the
    partial index of live surfaces do not come along, so they are made again, as 0001 and 0003 made them."""
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS delivery_events_no_{verb.lower()}")
        op.execute(f"""
            CREATE TRIGGER delivery_events_no_{verb.lower()} BEFORE {verb} ON delivery_events
            BEGIN SELECT RAISE(ABORT, 'delivery_events is append-only'); END""")
    op.execute("DROP INDEX IF EXISTS ix_deliveries_live_surfaces")
    op.create_index('ix_deliveries_live_surfaces', 'deliveries', ['channel', 'status'], unique=False,
                    sqlite_where=sa.text(LIVE_SURFACES))


def downgrade() -> None:
    """Only for a database that never sent a message: the send log's lines of messages are evidence,
    and a statement-less delivery cannot go back to a table that needs a statement."""
    with op.batch_alter_table('delivery_events') as batch:
        batch.drop_index('ix_delivery_events_message_id')
        batch.drop_constraint('fk_delivery_events_message_id_messages', type_='foreignkey')
        batch.drop_column('message_id')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_constraint('ck_deliveries_statement_or_message', type_='check')
        batch.drop_index('uq_deliveries_message_target')
        batch.drop_index('ix_deliveries_message_id')
        batch.drop_constraint('fk_deliveries_message_id_messages', type_='foreignkey')
        batch.drop_column('message_id')
    if op.get_bind().dialect.name == "sqlite":
        _restore_after_sqlite_copy()
    op.drop_table('messages')
