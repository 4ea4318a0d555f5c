"""The worker side's Celery app: the producer's app (``broadcaster.delivery.broker``) for the
configured broker, with this package's tasks registered on it and the hooks a sending process
runs (the static export after a surface switch) registered for this process."""

from broadcaster.config import get_settings
from broadcaster.delivery.broker import make_app, register
from broadcaster.surfaces import register_switch_hooks

__all__ = ["celery_app"]

register_switch_hooks()
celery_app = register(get_settings(), make_app(get_settings()))
