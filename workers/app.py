"""The worker side's Celery app: the producer's app (``broadcaster.delivery.broker``) for the
configured broker, with this package's tasks registered on it and the hooks a sending process
runs (the static export after a surface switch, events out) registered for this process."""

from broadcaster.config import get_settings
from broadcaster.delivery.broker import make_app, register
from broadcaster.events import register_event_hooks
from broadcaster.surfaces import register_switch_hooks

__all__ = ["celery_app"]

register_switch_hooks()
register_event_hooks()  # events raised here (a failed delivery, a paused channel) go to their endpoints
celery_app = register(get_settings(), make_app(get_settings()))
