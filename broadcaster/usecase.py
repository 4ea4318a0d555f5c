"""What every use case shares: who is acting, one unit of work, and the audit trail.

A use case takes an authenticated ``Actor`` (the CLI looks one up by name, the web app gets
one from a session or token) and runs in one transaction:

    with acting(settings, actor, "submit") as s:
        ...
        log_action(s, actor, "submit", f"statement:{statement.id}", {...})

A refusal (a missing role, a rule, an illegal transition) rolls the work back but is itself
written to the audit trail, in a transaction of its own: who tried what, and why it was refused.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .config import Settings
from .domain.approval import Actor, require_role
from .domain.client_address import limit_key
from .domain.errors import IllegalTransition, InvalidInput, NotAllowed, NotFound
from .domain.lifecycle import State
from .store import reconnect
from .store.db import require_current_schema, transaction
from .store.models import AuditEvent, Statement
from .store.redis_clients import SentinelTarget, limits_storage_for, shared_redis_url, target_of

_schema_checked: set[str] = set()


def unit_of_work(settings: Settings):
    """A transaction on the settings' database; its schema is checked once per process."""
    if settings.database_url not in _schema_checked:
        reconnect.configure(settings)
        require_current_schema(settings.database_url)
        _schema_checked.add(settings.database_url)
    return transaction(settings.database_url)


@contextmanager
def acting(settings: Settings, actor: Actor, action: str, subject: str = "") -> Iterator[Session]:
    """The role check and one unit of work; a refusal is audited before it propagates."""
    try:
        require_role(actor, action)
        with unit_of_work(settings) as s:
            yield s
    except (NotAllowed, IllegalTransition) as exc:
        with unit_of_work(settings) as s:
            log_action(s, actor, f"refused: {action}", subject, {"reason": str(exc)})
        raise


@contextmanager
def refusal_audited(settings: Settings, action: str, subject: str, detail: dict | None = None) -> Iterator[None]:
    """For a caller who has not proved who they are yet (a link, a text message): a refusal is
    audited, without an actor, saying what was claimed and from where, then propagates. Such
    refusals are throttled per client (`audit_unproven`)."""
    try:
        yield
    except (NotAllowed, IllegalTransition) as exc:
        audit_unproven(settings, f"refused: {action}", subject, {**(detail or {}), "reason": str(exc)})
        raise


# The client address of the request being served (the web apps set it for each request), for the
# audit rows of callers who proved nothing: they say where a refusal came from, and are counted by it.
request_client: ContextVar[str] = ContextVar("request_client", default="")
HOUR = 3600


def audit_unproven(settings: Settings, action: str, subject: str, detail: dict, client: str | None = None) -> bool:
    """Audit a refusal of someone who proved nothing, throttled: anyone can send these in a loop,
    and an audit trail grown by millions of rows buries the real refusals. Per client and action,
    the first `audit_refusals_per_client` of each hour are written in full; after that one summary
    row at the 10th, 100th, 1,000th, ... ("and 995 more refusals ... (1000 in the last hour)").
    True if a row was written. The client is the request's (`request_client`) unless given."""
    client = (client if client is not None else request_client.get()) or "unknown client"
    count = _refusals_this_hour(settings, action, client)
    most = settings.audit_refusals_per_client
    if count <= most:
        row = {**detail, "client": client[:100]}
    elif count >= 10 and str(count).rstrip("0") == "1":
        row = {"client": client[:100], "refusals": count, "last": detail,
               "summary": f"and {count - most:,} more refusals ({action}) from {client[:100]} in the last hour, "
                          f"{count:,} in all; the first {most} are written in full"}
        subject = f"client:{client[:100]}"
    else:
        return False
    with unit_of_work(settings) as s:
        log_action(s, None, action, subject, row)
    return True


def _refusals_this_hour(settings: Settings, action: str, client: str) -> int:
    storage, namespace = installation_counters(settings)
    return storage.incr(f"broadcaster-refusals/{namespace}/{action}/{limit_key(client)}", HOUR)


def installation_counters(settings: Settings):
    """The `limits` storage for counts every process of one installation shares, and that
    installation's namespace for their keys: (storage, namespace)."""
    shared = shared_redis_url(settings) or "memory://"
    return _counters(shared, settings.database_url, target_of(settings, shared))


@lru_cache(maxsize=8)
def _counters(shared_url: str, database_url: str, target: SentinelTarget | None):
    # In the shared Redis when there is one (the broker's, or BROADCASTER_REDIS_URL beside RabbitMQ;
    # through Sentinel when it names Sentinels): every web process counts together. In memory for the
    # embedded default. Namespaced by database, since one Redis may serve several installations.
    return limits_storage_for(shared_url, target), hashlib.sha256(database_url.encode()).hexdigest()[:12]


def log_action(s: Session, actor: Actor | None, action: str, subject: str, detail: dict) -> None:
    """Every row names its actor: the trail answers "who", not only "what". The one exception is
    someone who never proved who they are (a login with an unknown name): None, and the detail
    says what they claimed and from where."""
    s.add(AuditEvent(actor_id=actor.id if actor else None, action=action[:40], subject=subject, detail=detail))


MAX_ID = 2**63 - 1  # the largest id any backend stores


def get(s: Session, model: type, id_: int, lock: bool = False):
    what = model.__tablename__[:-1]
    if isinstance(id_, bool) or not isinstance(id_, int) or not 1 <= id_ <= MAX_ID:
        hint = f" (`broadcaster {what} list` shows them)" if what in ("incident", "statement") else ""
        raise InvalidInput(f"{what} id: {id_} is not an id; ids are whole numbers from 1{hint}")
    query = select(model).where(model.id == id_)
    row = s.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"{model.__tablename__[:-1]} {id_} does not exist")
    return row


def label(statement: Statement) -> str:
    return f"statement {statement.id} (incident {statement.incident_id} v{statement.version})"


def live_statement(s: Session, incident_id: int) -> Statement | None:
    return s.scalar(select(Statement).where(Statement.incident_id == incident_id,
                                            Statement.state == State.PUBLISHED.value))


def next_version(s: Session, incident_id: int) -> int:
    return (s.scalar(select(func.max(Statement.version)).where(Statement.incident_id == incident_id)) or 0) + 1


def page(items: list, total: int, limit: int, offset: int) -> dict:
    """One page of a list, and where the next starts (None: this was the last)."""
    more = offset + len(items) < total
    return {"items": items, "total": total, "limit": limit, "offset": offset,
            "next_offset": offset + len(items) if more else None}
