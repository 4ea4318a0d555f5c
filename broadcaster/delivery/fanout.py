"""Fan-out: a published statement's per-recipient deliveries, written by workers in slices.

Publish writes the live deliveries (banner, status page, IVR, X) and one fan-out job per
recipient channel, and returns: the banner must never wait for a million rows. A worker then
walks the subscribers in id order, a slice at a time. Each slice is one transaction that inserts
its deliveries (the unique key on statement, channel and target makes a rerun harmless), logs
them `pending` and moves the job's cursor; its ids are handed to `dispatch` only after commit.
Each row is written in the language its subscriber reads, among the statement's (`Delivery.locale`:
chosen once per language in the slice, written by the same INSERT; a send then only looks it up).
A worker that dies mid-way leaves the cursor at its last committed slice, and the sweep hands a
job that has made no progress for a lease to the next worker. One task chain writes a job at a
time: the job names its runner, and a task finding another runner that made progress within a
lease leaves it (a continuation that waited on the broker behind the chunks it wrote, while the
sweep handed the job out again, would otherwise become a second chain holding a second worker).
"""

import logging
import time
import uuid
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from .. import channels
from ..config import Settings
from ..render.languages import words_language
from ..store.db import transaction, write_transaction
from ..store.models import FanOut, Rendition, Statement, Subscriber, utcnow
from . import records
from .dispatch import Dispatch
from .records import PUBLISHED

logger = logging.getLogger("broadcaster.fanout")


class FanOutState(StrEnum):
    RUNNING = "running"  # subscribers still to walk
    DONE = "done"  # every slice written
    CANCELLED = "cancelled"  # a newer version was published first: the rest is never written



def plan(s: Session, statement: Statement, channel_names: list[str]) -> list[int]:
    """One job per recipient channel, in the publish transaction; the rows come later. One INSERT for
    them all (as objects, SQLite wrote each with an INSERT ... RETURNING of its own)."""
    if not channel_names:
        return []
    return list(s.scalars(insert(FanOut).returning(FanOut.id), [
        {"statement_id": statement.id, "channel": name, "status": FanOutState.RUNNING, "cursor": 0, "written": 0}
        for name in channel_names]))


def fan_out(settings: Settings, job_id: int, dispatch: Dispatch, seconds: float | None = None,
            runner: str | None = None) -> bool:
    """Write and dispatch slice after slice as `runner` (a task chain's token); True once the job
    is finished, or another live runner has it. With `seconds`, stop after about that long (a
    worker task hands the rest to a fresh task carrying the same token, so a fan-out to a million
    never meets a task time limit and never holds a worker for an hour)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    runner = runner or uuid.uuid4().hex
    while True:
        ids = write_next_slice(settings, job_id, runner)
        if ids is None:
            return True
        if ids:
            dispatch(settings, ids)
        if deadline is not None and time.monotonic() >= deadline:
            return False


def write_next_slice(settings: Settings, job_id: int, runner: str | None = None) -> list[int] | None:
    """The ids of the next slice's new deliveries (maybe none: all filtered out, or written by a
    rerun), or None when the job is finished, was cancelled by a newer version, or is being
    written by another runner that is alive (made progress within a lease)."""
    # The job's changes (runner, cursor, status) are written together at commit, in one UPDATE: the
    # row is locked from the first SELECT, so nothing is gained by flushing them before the queries.
    with write_transaction(settings.database_url) as s, s.no_autoflush:
        job = s.scalar(select(FanOut).where(FanOut.id == job_id).with_for_update())
        if job is None or job.status != FanOutState.RUNNING:
            return None
        if runner is not None:
            if _written_by_another(settings, job, runner):
                return None
            job.runner = runner
        # The few columns a slice needs, not the statement and its translated renditions (a slice
        # that finds no one to write, as every job's last does, needs none of them).
        statement = s.execute(select(Statement.state, Statement.components, Statement.language)
                              .where(Statement.id == job.statement_id)).one()
        if statement.state != PUBLISHED:  # superseded or withdrawn mid-way: not one more row
            _finish(job, FanOutState.CANCELLED)
            return None
        ch = channels.channel(job.channel)
        # The first slice is one send chunk: its sends start while the next, full slices are written
        # (the workers not writing would otherwise wait for a whole slice before the first send).
        size = settings.fan_out_slice if job.cursor else min(settings.fan_out_slice, settings.send_chunk_size)
        rows = _subscribers_after(s, ch.address, job.cursor, size)
        if not rows:
            _finish(job, FanOutState.DONE)
            return None
        wanted = [row for row in rows if _wants(row.components, statement.components)]
        translated = _translated_locales(s, job.statement_id, ch.rendition) if wanted else ()
        languages = {tag: words_language(tag, statement.language, translated) for tag in {row.locale for row in wanted}}
        ids = records.add_for_subscribers(s, job.statement_id, ch.name, ch.address, [row.id for row in wanted],
                                          _provider(settings, ch.name), statement.language, languages)
        job.cursor, job.written, job.updated_at = rows[-1][0], job.written + len(ids), utcnow()
        return ids


def _written_by_another(settings: Settings, job: FanOut, runner: str) -> bool:
    """Another runner has it and is alive (it moved the job within a lease); a silent one is replaced."""
    alive_since = utcnow() - timedelta(seconds=settings.lease_seconds)
    return job.runner not in (None, runner) and job.updated_at > alive_since


def _finish(job: FanOut, status: str) -> None:
    job.status, job.updated_at = status, utcnow()


def _translated_locales(s: Session, statement_id: int, rendition: str) -> tuple[str, ...]:
    """The languages, other than its own, the statement has this rendition in, sorted."""
    return tuple(s.scalars(select(Rendition.locale).where(
        Rendition.statement_id == statement_id, Rendition.channel == rendition, Rendition.locale != "")
        .order_by(Rendition.locale)))


def _subscribers_after(s: Session, address: str, cursor: int, limit: int) -> list:
    """(id, components, locale) of the next subscribers with this address, in id order."""
    table = Subscriber.__table__  # its columns, not the entity's: plain rows, without the ORM's per-row loading
    return s.execute(select(table.c.id, table.c.components, table.c.locale)
                     .where(table.c.id > cursor, table.c[address].is_not(None), table.c.opted_out_at.is_(None))
                     .order_by(table.c.id).limit(limit)).all()


def _wants(wanted: list | None, components: list[str]) -> bool:
    """A subscriber of no component in particular wants every incident; else only theirs."""
    return not wanted or not components or bool(set(wanted) & set(components))


def _provider(settings: Settings, name: str) -> str:
    return channels.transport_for(name, settings).provider


def stalled(settings: Settings) -> list[int]:
    """Running jobs with no progress for a lease: their worker died, or the broker lost the task.
    Handed out free (no runner: whichever task comes next takes it; the silent one, if it ever
    comes back, finds it taken), and touched, so the next sweep does not hand them out again at once."""
    now = utcnow()
    with transaction(settings.database_url) as s:
        quiet_since = now - timedelta(seconds=settings.lease_seconds)
        return list(s.scalars(update(FanOut)
                              .where(FanOut.status == FanOutState.RUNNING, FanOut.updated_at < quiet_since)
                              .values(updated_at=now, runner=None).returning(FanOut.id)
                              .execution_options(synchronize_session=False)))


def running(settings: Settings) -> int:
    with transaction(settings.database_url) as s:
        return s.scalar(select(func.count()).where(FanOut.status == FanOutState.RUNNING)) or 0


def not_yet_written(s: Session, statement_id: int) -> dict[str, int]:
    """{channel: subscribers the running jobs have still to walk} (an upper bound: the component
    filter is applied as rows are written)."""
    remaining = {}
    running_jobs = select(FanOut).where(FanOut.statement_id == statement_id, FanOut.status == FanOutState.RUNNING)
    for job in s.scalars(running_jobs):
        column = getattr(Subscriber, channels.channel(job.channel).address)
        remaining[job.channel] = s.scalar(select(func.count()).where(
            Subscriber.id > job.cursor, column.is_not(None), Subscriber.opted_out_at.is_(None))) or 0
    return remaining
