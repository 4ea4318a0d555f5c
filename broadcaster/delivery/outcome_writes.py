"""The statements `records.record` writes a part of its outcomes with, on each database: the rows still
held moved to their outcome, and one send-log line for each row moved, with the hash of the words it
concerns. The outcomes arrive as one JSON array (one parameter however many rows), so a part of a few
hundred outcomes is one statement (PostgreSQL) or two (SQLite), never a row of bound parameters (and
their type conversions in Python) per outcome. On SQLite the UPDATE and INSERT run row by row took
110-140 us of a worker's CPU per SMS (about a tenth of it), set-based 65-75 us."""

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from ..domain.delivery_status import DeliveryStatus
from ..store.models import Delivery, utcnow
from ..store.orm import UTCDateTime

# PostgreSQL: one statement. The UPDATE moves only the rows still held, and the send log gets exactly
# the rows it moved.
_POSTGRES = text("""
WITH outcome AS (
    SELECT * FROM json_to_recordset(CAST(:outcomes AS json)) AS o(id bigint, status text, undo int,
        message_id text, code text, error text, next_at timestamp, token text, detail text)
), moved AS (
    UPDATE deliveries AS d
    SET status = o.status, lease_until = NULL, updated_at = :now, attempts = d.attempts - o.undo,
        provider_message_id = COALESCE(o.message_id, d.provider_message_id), error_code = o.code,
        error_message = o.error, next_attempt_at = o.next_at
    FROM outcome AS o
    WHERE d.id = o.id AND d.status = :claimed_as AND (NOT :check_token OR d.claim_token IS NOT DISTINCT FROM o.token)
    RETURNING d.id, d.statement_id, d.message_id, d.channel, d.target, d.provider, d.status, d.attempts,
              o.message_id AS sid, o.detail, d.locale
)
INSERT INTO delivery_events (delivery_id, statement_id, message_id, channel, target, provider, status, attempt,
                             provider_message_id, content_hash, detail, created_at, locale)
SELECT m.id, m.statement_id, m.message_id, m.channel, m.target, m.provider, m.status, m.attempts, m.sid,
       COALESCE(st.content_hash, ms.content_hash), m.detail, :now, m.locale
FROM moved AS m LEFT JOIN statements AS st ON st.id = m.statement_id LEFT JOIN messages AS ms ON ms.id = m.message_id
ORDER BY m.id
RETURNING delivery_id
""")

# SQLite has no UPDATE in a WITH: the same UPDATE on its own (the write transaction holds the database's
# lock), then the send log's lines for the ids it returned (its RETURNING knows the table by name, not
# alias). The outcomes are MATERIALIZED first: so the planner walks them and finds each row by its key
# (with them inline it walked every `sending` row of the table and the outcomes for each: 3.5 s a part).
_OUTCOMES = """WITH o AS MATERIALIZED (
    SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.status') AS status,
           json_extract(value, '$.undo') AS undo, json_extract(value, '$.message_id') AS message_id,
           json_extract(value, '$.code') AS code, json_extract(value, '$.error') AS error,
           json_extract(value, '$.next_at') AS next_at, json_extract(value, '$.token') AS token,
           json_extract(value, '$.detail') AS detail
    FROM json_each(:outcomes))"""
_SQLITE_MOVE = text(f"""{_OUTCOMES}
UPDATE deliveries AS d
SET status = o.status, lease_until = NULL, updated_at = :now, attempts = d.attempts - o.undo,
    provider_message_id = COALESCE(o.message_id, d.provider_message_id), error_code = o.code,
    error_message = o.error, next_attempt_at = o.next_at
FROM o
WHERE d.id = o.id AND d.status = :claimed_as AND (NOT :check_token OR d.claim_token IS o.token)
RETURNING deliveries.id
""")
_SQLITE_LOG = text(f"""{_OUTCOMES}
INSERT INTO delivery_events (delivery_id, statement_id, message_id, channel, target, provider, status, attempt,
                             provider_message_id, content_hash, detail, created_at, locale)
SELECT d.id, d.statement_id, d.message_id, d.channel, d.target, d.provider, d.status, d.attempts, o.message_id,
       COALESCE(st.content_hash, ms.content_hash), o.detail, :now, d.locale
FROM o JOIN deliveries AS d ON d.id = o.id
LEFT JOIN statements AS st ON st.id = d.statement_id LEFT JOIN messages AS ms ON ms.id = d.message_id
WHERE o.id IN (SELECT value FROM json_each(:moved))
ORDER BY d.id
""")


def write_outcomes(s: Session, outcomes: list[dict], claimed_as: DeliveryStatus) -> set[int]:
    """Move each delivery of `outcomes` ({"id", "status", "undo", "message_id", "code", "error", "next_at",
    "token", "detail"}, `next_at` as `stored_time` gives it) still in `claimed_as` (and, for a claim, under
    the same token) and log it; the ids moved."""
    parameters = {"outcomes": json.dumps(outcomes, ensure_ascii=False),
                  "now": utcnow(), "claimed_as": claimed_as.value, "check_token": claimed_as == DeliveryStatus.SENDING}
    now = bindparam("now", type_=UTCDateTime())
    if s.bind.dialect.name == "postgresql":
        return set(s.scalars(_POSTGRES.bindparams(now), parameters))
    moved = list(s.scalars(_SQLITE_MOVE.bindparams(now), parameters))
    if moved:
        s.execute(_SQLITE_LOG.bindparams(now), {**parameters, "moved": json.dumps(moved)})
    return set(moved)


def stored_time(dialect: Dialect) -> Callable[[datetime | None], str | None]:
    """A time as the outcomes' JSON carries it: as `deliveries.next_attempt_at` stores it (SQLite keeps
    its text; PostgreSQL casts an ISO time), naive UTC. A naive time is refused, as the column does."""
    column = Delivery.__table__.c.next_attempt_at.type.dialect_impl(dialect)
    process = column.bind_processor(dialect)

    def stored(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        value = process(moment) if process else moment
        return value if isinstance(value, str) else value.isoformat()

    return stored
