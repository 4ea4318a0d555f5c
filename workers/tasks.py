"""One task per kind of work, each a line over broadcaster.delivery.

Zulip-style: the base class owns the time limits and retry counting, so each task is
a few lines. Failures inside a send are recorded in the database by the delivery code
itself; a task fails only on infrastructure trouble (database down), and then Celery
retries it with backoff. A worker that dies mid-task loses its message only until the
sweep finds the rows still pending (or their lease expired) in the database.
"""

import gc
import uuid

from celery import Task
from celery.signals import worker_init
from sqlalchemy.exc import InterfaceError, OperationalError

from broadcaster.config import get_settings
from broadcaster.delivery import chunk, fanout
from broadcaster.delivery import sweep as sweeping
from broadcaster.delivery.broker import TaskName
from broadcaster.delivery.enqueue import enqueue, enqueue_due, enqueue_fan_outs, send

from .app import celery_app, collector_paused


@worker_init.connect
def _warm_up_before_the_pool_forks(sender=None, **_) -> None:
    # In the parent, before the pool forks: every pool process starts with the SDKs, the database
    # driver and the broker's transport imported and the ORM's mappers configured (each process did
    # these on its first task, a fraction of a second of CPU each while the first chunks of a fan-out waited).
    from broadcaster.delivery.warm import warm_up

    with collector_paused():
        warm_up(get_settings())
    if _forks_a_pool(sender):
        # What is loaded now lives as long as the pool processes: leave it out of the collector's full
        # passes. A full collection walks every object the SDKs and the ORM imported (about 0.15 s of
        # CPU each), and a chunk's thousand rows made one every few chunks. Not in a process that runs
        # its worker in a thread (embedded), whose objects are not all for life.
        gc.collect()
        gc.freeze()


def _forks_a_pool(worker) -> bool:
    from celery.concurrency import get_implementation, prefork

    return worker is not None and get_implementation(worker.pool_cls) is prefork.TaskPool


class BroadcasterTask(Task):
    soft_time_limit = 600  # a chunk is at most a few hundred provider calls
    time_limit = 660
    # The broker or the database unreachable (a failover that outlasted the transaction's own wait).
    autoretry_for = (ConnectionError, OSError, OperationalError, InterfaceError)
    retry_backoff = True
    max_retries = 5


@celery_app.task(name=TaskName.SEND_CHUNK.value, base=BroadcasterTask)
def send_chunk(delivery_ids: list[int]) -> dict[str, int]:
    return chunk.send_chunk(get_settings(), delivery_ids, requeue=enqueue)


@celery_app.task(name=TaskName.FAN_OUT.value, base=BroadcasterTask)
def fan_out(job_id: int, runner: str | None = None) -> bool:
    """Write a published statement's per-recipient deliveries, a slice at a time, enqueueing
    each; after `fan_out_task_seconds` the rest goes to a fresh task of the same chain (`runner`),
    behind the chunks queued."""
    settings = get_settings()
    runner = runner or uuid.uuid4().hex
    finished = fanout.fan_out(settings, job_id, enqueue, seconds=settings.fan_out_task_seconds, runner=runner)
    if not finished:
        enqueue_fan_outs(settings, [job_id], runner=runner)
    return finished


@celery_app.task(name=TaskName.SWEEP.value, base=BroadcasterTask)
def sweep() -> dict[str, int]:
    return sweeping.sweep(get_settings(), enqueue_due, reconciler=_reconcile_elsewhere)


def _reconcile_elsewhere(settings) -> None:
    # On its own queue: slow provider lists must never hold up the sweep or the live queue.
    send(settings, TaskName.RECONCILE, expires=settings.sweep_interval_seconds)


@celery_app.task(name=TaskName.RECONCILE.value, base=BroadcasterTask)
def reconcile() -> dict[str, int]:
    return sweeping.reconcile(get_settings())


@celery_app.task(name=TaskName.SOCIAL_TICK.value, base=BroadcasterTask)
def social_tick() -> dict:
    from broadcaster import social

    return social.tick(get_settings())


@celery_app.task(name=TaskName.MAINTENANCE_DUE.value, base=BroadcasterTask)
def maintenance_due() -> list[int]:
    from broadcaster.incidents import maintenance

    return maintenance.publish_due(get_settings())


@celery_app.task(name=TaskName.UPDATE_REMINDERS.value, base=BroadcasterTask)
def update_reminders() -> list[int]:
    from broadcaster.incidents import reminders

    return reminders.remind_due(get_settings())


@celery_app.task(name=TaskName.ALERT_HOLDING_DUE.value, base=BroadcasterTask)
def alert_holding_due() -> list[int]:
    from broadcaster.alerts import holding_switch

    return holding_switch.switch_due(get_settings())


@celery_app.task(name=TaskName.STOP_EMBEDDED_WORKER.value)
def stop_embedded_worker() -> None:
    """Runs inside the embedded worker's thread and asks it to stop after this task. The worker
    polls the broker once more before it stops (up to 2 s): a no-op message ends that poll."""
    from celery.worker import state

    state.should_terminate = 0
    celery_app.send_task(TaskName.WAKE.value)  # to this worker's own broker, whatever the settings say now


@celery_app.task(name=TaskName.WAKE.value)
def wake() -> None:
    """Nothing: its arrival is what matters."""
