"""The Celery app as a producer sees it: broker, queues and routing, configured from the
settings and nothing else. ``workers/`` adds the tasks that consume it."""

from celery import Celery

from ..config import Settings

LIVE, BULK, RECONCILE = "live", "bulk", "reconcile"


def make_app(settings: Settings) -> Celery:
    app = Celery("broadcaster", broker=settings.broker_url, include=["workers.tasks"])
    app.conf.update(
        # A task is acknowledged only once done, and re-queued if its worker dies: the claim in
        # the database makes a second run harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=BULK,
        task_queues=None,
        task_routes={"broadcaster.sweep": {"queue": LIVE}, "broadcaster.reconcile": {"queue": RECONCILE},
                     "broadcaster.social_tick": {"queue": LIVE}, "broadcaster.maintenance_due": {"queue": LIVE}},
        # Publishing to a dead broker must not hang `publish`: the outbox rows are committed and
        # the sweep will enqueue them once the broker is back.
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        broker_connection_timeout=3,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600,
                                  # the embedded memory broker is polled: keep the banner fast
                                  **({"polling_interval": 0.05} if settings.embedded else {})},
        worker_hijack_root_logger=False,
        beat_schedule={
            # A sweep that waited longer than an interval (every worker busy) is dropped, not run
            # back to back with the ones queued behind it.
            "sweep": {"task": "broadcaster.sweep", "schedule": settings.sweep_interval_seconds,
                      "options": {"expires": settings.sweep_interval_seconds}},
            # Re-bases held replies, and pulls new mentions while an incident is open (the task checks).
            "social": {"task": "broadcaster.social_tick", "schedule": settings.social_pull_interval_seconds,
                       "options": {"expires": settings.social_pull_interval_seconds}},
            # Scheduled maintenance: its approved start and end notices, published at their times.
            "maintenance": {"task": "broadcaster.maintenance_due", "schedule": settings.sweep_interval_seconds,
                            "options": {"expires": settings.sweep_interval_seconds}},
        },
    )
    return app


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
