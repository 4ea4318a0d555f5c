"""The worker side's Celery app: the producer's app (``broadcaster.delivery.broker``) for the
configured broker, with this package's tasks registered on it and the hooks a sending process
runs (the static export after a surface switch, events out) registered for this process."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["celery_app", "collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic collector off for a start-up step that only builds objects kept for the process's
    life (modules, the ORM's mappers, the SDKs' transports): it would walk them again and again as they
    grow, for no garbage (about 0.1 s of the two seconds of CPU a worker takes to start). Back on
    afterwards, as it was."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _worker_app():
    from broadcaster.config import get_settings
    from broadcaster.delivery.broker import make_app, register
    from broadcaster.events import register_event_hooks
    from broadcaster.surfaces import register_switch_hooks

    register_switch_hooks()
    register_event_hooks()  # events raised here (a failed delivery, a paused channel) go to their endpoints
    return register(get_settings(), make_app(get_settings()))


with collector_paused():
    celery_app = _worker_app()
