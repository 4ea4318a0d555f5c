"""The Celery app as a producer sees it, and the task vocabulary, declared once: every task's name
(``TaskName``), the queue it goes on (``QUEUE_OF``) and the periodic jobs (``PERIODIC_JOBS``), from
which both beat's schedule and embedded ``serve`` are driven. ``workers/`` declares the tasks by
these names; ``enqueue`` sends by them. Configured from the settings and nothing else."""

from dataclasses import dataclass
from enum import StrEnum

from celery import Celery

from ..config import Settings
from ..store import reconnect
from ..store.redis_clients import broker_transport_options
from .queues import EVERY_QUEUE, Queue  # noqa: F401 - EVERY_QUEUE: read from here too, with the task names


class TaskName(StrEnum):
    SEND_CHUNK = "broadcaster.send_chunk"
    FAN_OUT = "broadcaster.fan_out"
    SWEEP = "broadcaster.sweep"
    RECONCILE = "broadcaster.reconcile"
    SOCIAL_TICK = "broadcaster.social_tick"
    MAINTENANCE_DUE = "broadcaster.maintenance_due"
    UPDATE_REMINDERS = "broadcaster.update_reminders"
    ALERT_HOLDING_DUE = "broadcaster.alert_holding_due"
    STOP_EMBEDDED_WORKER = "broadcaster.stop_embedded_worker"
    WAKE = "broadcaster.wake"


# Where each task goes. A chunk of live deliveries goes on the live queue instead (enqueue.plan).
QUEUE_OF: dict[TaskName, Queue] = {
    TaskName.SEND_CHUNK: Queue.BULK,
    TaskName.FAN_OUT: Queue.BULK,
    TaskName.SWEEP: Queue.LIVE,
    TaskName.RECONCILE: Queue.RECONCILE,
    TaskName.SOCIAL_TICK: Queue.LIVE,
    TaskName.MAINTENANCE_DUE: Queue.LIVE,
    TaskName.UPDATE_REMINDERS: Queue.LIVE,
    TaskName.ALERT_HOLDING_DUE: Queue.LIVE,
    TaskName.STOP_EMBEDDED_WORKER: Queue.LIVE,
    TaskName.WAKE: Queue.LIVE,
}


@dataclass(frozen=True)
class PeriodicJob:
    """A task run every `interval` seconds (a Settings field): by beat in a fleet, by embedded `serve`'s
    own loop otherwise. A run that waited longer than an interval (every worker busy) is dropped,
    not run back to back with the ones queued behind it; but never sooner than `MIN_WAIT` seconds,
    or jobs due every second starve one another on one busy worker (embedded `serve` runs them all
    on one thread) and a sweep is dropped every time, leaving what `--no-wait` queued unsent."""

    MIN_WAIT = 10.0

    name: str
    task: TaskName
    interval: str  # the Settings field that says how often

    def seconds(self, settings: Settings) -> float:
        return float(getattr(settings, self.interval))

    def expires(self, settings: Settings) -> float:
        """How long a run may wait for a worker before it is dropped."""
        return max(self.seconds(settings), self.MIN_WAIT)


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    # Expired leases, stalled fan-outs, due retries, reconciliation.
    PeriodicJob("sweep", TaskName.SWEEP, "sweep_interval_seconds"),
    # Re-bases held replies, and pulls new mentions while an incident is open (the task checks).
    PeriodicJob("social", TaskName.SOCIAL_TICK, "social_pull_interval_seconds"),
    # Scheduled maintenance: its approved start and end notices, published at their times.
    PeriodicJob("maintenance", TaskName.MAINTENANCE_DUE, "sweep_interval_seconds"),
    # Authors reminded when a live statement's next update is near and no newer version is being written.
    PeriodicJob("reminders", TaskName.UPDATE_REMINDERS, "update_reminder_interval_seconds"),
    # Alert rules that switch a holding statement on when nobody answered monitoring's draft in time.
    PeriodicJob("alert holding", TaskName.ALERT_HOLDING_DUE, "alert_holding_check_seconds"),
)


def make_app(settings: Settings) -> Celery:
    app = Celery("broadcaster", broker=settings.broker_url, include=["workers.tasks"])
    app.conf.update(
        # A task is acknowledged only once done, and re-queued if its worker dies: the claim in
        # the database makes a second run harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=Queue.BULK.value,
        task_queues=None,
        task_routes={task.value: {"queue": queue.value} for task, queue in QUEUE_OF.items()},
        # Publishing to a dead broker must not hang `publish`: the outbox rows are committed and
        # the sweep will enqueue them once the broker is back.
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        broker_connection_timeout=3,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options(settings),
        worker_hijack_root_logger=False,
        beat_schedule={job.name: {"task": job.task.value, "schedule": job.seconds(settings),
                                  "options": {"expires": job.expires(settings)}} for job in PERIODIC_JOBS},
        # Beat writes its schedule file after every task it sends: the file's age says beat is alive
        # (docker-compose's healthcheck reads it), and a restart loses no run.
        beat_sync_every=1,
    )
    reconnect.configure(settings)  # the workers' and beat's patience with a database failing over
    if is_amqp(settings.broker_url) and settings.broker_quorum_queues:
        app.conf.update(quorum_queues())
    return app


def is_amqp(url: str) -> bool:
    return url.startswith(("amqp://", "amqps://", "pyamqp://"))


def transport_options(settings: Settings) -> dict:
    """The broker's own options: Redis' visibility timeout and, behind Sentinel, the master's name;
    RabbitMQ's publisher confirms (a publish returns once the queue has the message)."""
    if is_amqp(settings.broker_url):
        return {"confirm_publish": True}
    return {"visibility_timeout": 3600, **broker_transport_options(settings),
            # the embedded memory broker is polled: keep the banner fast
            **({"polling_interval": 0.05} if settings.embedded else {})}


def quorum_queues() -> dict:
    """RabbitMQ quorum queues: replicated across the cluster's nodes and kept on disk, so a node or a
    broker restart loses no task. They have no priorities (none is used) and no global QoS, which
    `worker_detect_quorum_queues` turns off; delayed tasks (none is used) need Celery's native delayed
    delivery, which it sets up by itself."""
    return {"task_default_queue_type": "quorum", "task_create_missing_queue_type": "quorum",
            "worker_detect_quorum_queues": True, "task_queue_max_priority": None}


_apps: dict[str, Celery] = {}


def register(settings: Settings, app: Celery) -> Celery:
    """Make `app` the one used for these settings' broker (the worker process's own app)."""
    _apps.setdefault(settings.broker_url, app)
    return _apps[settings.broker_url]


def app_for(settings: Settings) -> Celery:
    """The app for these settings' broker (one per broker URL in a process)."""
    if settings.broker_url not in _apps:
        _apps[settings.broker_url] = make_app(settings)
    return _apps[settings.broker_url]
